"""les: Local Entropy Search and friends, Bayesian optimization with a Rust core.

Minimize a Python function::

    import les
    def f(x):                       # x: numpy array of shape (d,)
        return float((x ** 2).sum())
    result = les.minimize(f, [(-5, 5), (-5, 5)], budget=20, seed=1)
    print(result.x, result.y)       # best point, best value

Drive the loop yourself (ask/tell), from a config file or a dict::

    study = les.Study("configs/quickstart.yaml", run_dir="runs/mine")
    for trial in study.ask(2):
        study.tell(trial, my_measurement(trial.x))

Also: ``les.run(config)`` (as ``les run``), ``les.resume(run_dir)``, ``les.report(dir)``,
``les.check(config)``, ``les.list()`` and ``les.describe(name)``. Every function and class has a docstring;
python/README.md in the repository has the rest.

Errors are Python exceptions with the command line's text (file, line, key path, value and
what was expected): ``ValueError`` for a bad config, argument or tell, ``FileExistsError`` for a
fresh run into a directory that holds one, ``FileNotFoundError`` for a resume of a directory
that holds none, ``OSError`` for file trouble, ``RuntimeError`` when the run cannot go on (its
directory is in use by another process, its journal is inconsistent, the strategy failed).
"""

from __future__ import annotations

import builtins
import dataclasses
import json
import os
import tempfile
import time
import traceback
import warnings
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence, Union

import numpy as np

from . import _native

__version__: str = _native.version()

__all__ = [
    "Study",
    "Trial",
    "Best",
    "Status",
    "Result",
    "Plugin",
    "LesWarning",
    "minimize",
    "run",
    "resume",
    "report",
    "check",
    "list",
    "describe",
    "kernel_name",
]

ConfigLike = Union[str, "os.PathLike[str]", Mapping[str, Any]]


class LesWarning(UserWarning):
    """A note from les: points that ignore pending trials, fewer trials than asked for."""


@dataclasses.dataclass(frozen=True)
class Trial:
    """A point handed out by :meth:`Study.ask`.

    Attributes:
        id: the trial id, for :meth:`Study.tell` (trials are numbered in the order asked).
        x: the point, shape ``(d,)``, in the objective's own (native) coordinates.
        iteration: the iteration that asked it (0 = initial design).
    """

    id: int
    x: np.ndarray
    iteration: int


@dataclasses.dataclass(frozen=True)
class Best:
    """The best observation so far: its trial, point ``x`` (shape ``(d,)``), observed value ``y``
    and noise-free value ``f`` (None unless the objective knows it)."""

    trial: int
    x: np.ndarray
    y: float
    f: float | None


@dataclasses.dataclass(frozen=True)
class Status:
    """Where a study stands.

    Attributes:
        budget: the evaluation budget.
        used: evaluations of asked trials told so far (the budget counts these).
        budget_left: evaluations neither told nor pending.
        pending: trials asked and not told, in id order.
        imported: observations told without an ask (warm start).
        failed: failed evaluations.
        best: the best observation, or None.
        finished: why the study ended (``"budget exhausted"``, ...), or None while it goes on.
        success: whether it ended as planned (None while it goes on).
    """

    budget: int
    used: int
    budget_left: int
    pending: builtins.list[Trial]
    imported: int
    failed: int
    best: Best | None
    finished: str | None
    success: bool | None


@dataclasses.dataclass(frozen=True)
class Result:
    """The outcome of :func:`minimize`, :func:`run` or :meth:`Study.run`.

    Attributes:
        x: the best point, shape ``(d,)`` (None when no evaluation succeeded).
        y: its observed value (nan when no evaluation succeeded).
        history_x: every evaluated point in journal order, shape ``(n, d)``.
        history_y: their values, shape ``(n,)``; nan where the evaluation failed.
        errors: per evaluation, the failure message (the traceback of a Python objective's
            exception) or None.
        sources: per evaluation, where an imported observation came from, or None.
        run_dir: the run directory (None for a study kept in memory).
        stop_reason: why the run ended (``"budget exhausted"``, ``"evaluation failed: ..."``).
        success: whether it ended as planned.
        summary: the run's ``summary.json`` as a dict.
    """

    x: np.ndarray | None
    y: float
    history_x: np.ndarray
    history_y: np.ndarray
    errors: builtins.list[str | None]
    sources: builtins.list[str | None]
    run_dir: Path | None
    stop_reason: str | None
    success: bool | None
    summary: dict[str, Any]

    @property
    def n_evaluations(self) -> int:
        """Evaluations in the journal (imported observations included)."""
        return len(self.history_y)

    def __repr__(self) -> str:
        return (
            f"Result(x={self.x!r}, y={self.y!r}, n_evaluations={self.n_evaluations}, "
            f"stop_reason={self.stop_reason!r}, run_dir={str(self.run_dir) if self.run_dir else None!r})"
        )


@dataclasses.dataclass(frozen=True)
class Plugin:
    """A registered plugin (see :func:`describe`): its kind (``strategy``, ``inner_optimizer``,
    ``surrogate``, ``objective``), name, one-line summary, details and default parameters (a dict,
    and the same as YAML). ``str(plugin)`` is what ``les describe NAME`` prints."""

    kind: str
    name: str
    summary: str
    details: str
    default_params: dict[str, Any]
    default_params_yaml: str

    def __str__(self) -> str:
        text = f"{self.name} ({self.kind}): {self.summary}\n"
        if self.details:
            text += f"\n{self.details}\n"
        params = "".join(f"  {line}\n" for line in self.default_params_yaml.splitlines())
        return text + f"\ndefault params:\n{params}"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"{type(value).__name__} {value!r} cannot be part of a config: expected numbers, strings, lists, dicts")


def _config_args(config: ConfigLike) -> dict[str, Any]:
    if isinstance(config, Mapping):
        # JSON is YAML: indented, so that a message's line numbers point at the right key.
        return {"config_text": json.dumps(dict(config), indent=2, default=_json_default)}
    if isinstance(config, (str, os.PathLike)):
        return {"config_path": os.fspath(config)}
    raise TypeError(f"config must be a path or a dict, not {type(config).__name__}")


def _trial(t: tuple[int, int, builtins.list[float]]) -> Trial:
    return Trial(id=t[0], x=np.asarray(t[2], dtype=float), iteration=t[1])


def _best(b: Mapping[str, Any] | None) -> Best | None:
    if b is None:
        return None
    return Best(trial=b["trial"], x=np.asarray(b["x"], dtype=float), y=float(b["y"]), f=b.get("f"))


def _trial_id(trial: Trial | int) -> int:
    if isinstance(trial, Trial):
        return trial.id
    if isinstance(trial, (int, np.integer)) and not isinstance(trial, bool):
        return int(trial)
    raise TypeError(f"trial must be a Trial or a trial id (int), not {type(trial).__name__}")


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _history(records: Sequence[Mapping[str, Any]], dim: int) -> tuple[np.ndarray, np.ndarray, builtins.list, builtins.list]:
    xs = np.array([r["x"] for r in records], dtype=float).reshape(len(records), dim)
    ys = np.array([np.nan if r.get("y") is None else r["y"] for r in records], dtype=float)
    errors = [r.get("error") for r in records]
    sources = [r.get("source") for r in records]
    return xs, ys, errors, sources


def _read_journal(run_dir: Path) -> builtins.list[dict[str, Any]]:
    records = []
    with open(run_dir / "evaluations.jsonl", encoding="utf-8") as lines:
        for line in lines:
            if line.endswith("\n"):  # a torn last line is no record
                records.append(json.loads(line))
    return records


def _result(records, dim: int, run_dir: Path | None, summary: dict[str, Any]) -> Result:
    xs, ys, errors, sources = _history(records, dim)
    ok = ~np.isnan(ys)
    if ok.any():
        i = int(np.flatnonzero(ys == ys[ok].min())[0])
        x, y = xs[i].copy(), float(ys[i])
    else:
        x, y = None, float("nan")
    return Result(
        x=x,
        y=y,
        history_x=xs,
        history_y=ys,
        errors=errors,
        sources=sources,
        run_dir=run_dir,
        stop_reason=summary.get("stop_reason"),
        success=summary.get("success"),
        summary=summary,
    )


def _scalar_call(f: Callable[[np.ndarray], Any]) -> Callable[[builtins.list[float]], float]:
    def call(x: builtins.list[float]) -> float:
        return float(f(np.asarray(x, dtype=float)))

    return call


class Study:
    """A stateful optimizer driven by your own loop (ask/tell), or run to its end (:meth:`run`).

    ``Study(config, run_dir=None, *, seed=None, budget=None, workers=None, objective=None,
    vectorized=False, resume=False)``

    Args:
        config: a config file path (YAML, as for ``les run``) or a dict of the same keys
            (``objective``, ``strategy``, ``budget``, ``seed``, ...; see the repository's README).
        run_dir: the run directory to create (it must not hold a run). ``None``: the config's
            ``output`` (for a file: ``runs/<config name>-seed<seed>`` without one); a dict without
            ``output`` makes a study kept in memory, which writes nothing.
        seed, budget, workers: replace the config's values (as ``--seed`` etc.).
        objective: a Python callable to evaluate in :meth:`run`, ``f(x) -> float`` with ``x`` of
            shape ``(d,)``; the config's objective must then be ``external`` (it declares the
            space: ``{"external": "name", "bounds": {"lower": [...], "upper": [...]}}``).
        vectorized: ``objective`` takes a batch, ``f(X) -> values`` with ``X`` of shape
            ``(m, d)`` and ``m`` up to ``workers``, and returns ``m`` values.
        resume: continue the run in ``run_dir`` with this config (as ``les run --resume``).

    The study holds its run directory's lock until :meth:`close` (or the end of a ``with``
    block); another process (``les ask``, ``les resume``) can use the directory only then. Use
    :meth:`Study.open` to continue a run directory with the config it holds.

    Trials are asked and told in any order; a trial is told once. The same seed gives the same
    points as ``les run`` and ``les ask``. Observations you already have go in with
    :meth:`tell_unasked` (warm start), before the first ask.
    """

    def __init__(
        self,
        config: ConfigLike,
        run_dir: str | os.PathLike[str] | None = None,
        *,
        seed: int | None = None,
        budget: int | None = None,
        workers: int | None = None,
        objective: Callable[..., Any] | None = None,
        vectorized: bool = False,
        resume: bool = False,
    ) -> None:
        args = _config_args(config)
        in_memory = (
            run_dir is None and "config_text" in args and not (isinstance(config, Mapping) and config.get("output"))
        )
        if resume and in_memory:
            raise ValueError("resume=True needs a run directory: give run_dir")
        # A vectorized objective is evaluated by run()'s own batch loop, not by the runner.
        native_objective = None if objective is None or vectorized else _scalar_call(objective)
        self._native = _native.NativeStudy.create(
            **args,
            run_dir=None if run_dir is None else os.fspath(run_dir),
            seed=seed,
            budget=budget,
            workers=workers,
            objective=native_objective,
            in_memory=in_memory,
            resume=resume,
        )
        self._setup(objective, vectorized)

    def _setup(self, objective: Callable[..., Any] | None, vectorized: bool) -> None:
        self._objective = objective
        self._vectorized = vectorized
        if objective is not None and vectorized and "external" not in self.config["objective"]:
            self.close()
            raise ValueError(
                "objective: a Python objective needs a config that declares the space only: "
                "`objective: {external: NAME, bounds: {lower: [...], upper: [...]}}`"
            )
        lower, upper = self._native.bounds()
        self._lower = np.asarray(lower, dtype=float)
        self._upper = np.asarray(upper, dtype=float)

    @classmethod
    def open(
        cls,
        run_dir: str | os.PathLike[str],
        *,
        budget: int | None = None,
        workers: int | None = None,
        objective: Callable[..., Any] | None = None,
        vectorized: bool = False,
    ) -> "Study":
        """Opens the run in ``run_dir`` with the config it holds, to go on asking and telling
        (or to :meth:`run` it to its end): a run made by ``les run``, ``les init``, ``les ask``
        or this package. ``budget`` extends it; ``objective`` (and ``vectorized``) as for
        :class:`Study`. Trials pending in the journal are pending again."""
        self = cls.__new__(cls)
        self._native = _native.NativeStudy.open(
            os.fspath(run_dir),
            budget=budget,
            workers=workers,
            objective=None if objective is None or vectorized else _scalar_call(objective),
        )
        self._setup(objective, vectorized)
        return self

    # --- the loop ---------------------------------------------------------------------------

    def ask(self, n: int = 1) -> builtins.list[Trial]:
        """Hands out up to ``n`` new trials (a strategy that proposes a batch may give more).

        Returns an empty list when the budget is fully asked, the strategy stopped or the run
        ended (``status().finished`` says why; a :class:`LesWarning` does while trials are
        still pending). Notes about the trials handed out (points that ignore the trials still
        pending) come as :class:`LesWarning` too. Each trial is journaled as pending before it
        is returned.
        """
        trials, notes = self._native.ask(int(n))
        # A loop that asks until nothing comes needs no warning for the end of its run.
        if trials or self.status().finished is None:
            for note in notes:
                warnings.warn(note, LesWarning, stacklevel=2)
        return [_trial(t) for t in trials]

    def tell(
        self, trial: Trial | int, value: float | None = None, *, error: str | None = None, seconds: float = 0.0
    ) -> None:
        """Tells the outcome of an asked trial: its ``value`` (a finite number), or
        ``error="why"`` for a failed evaluation (handled by the config's ``on_error``).
        ``seconds``: the evaluation's wall time, for the journal. A refused tell (unknown
        trial, told twice, NaN) raises ``ValueError`` and changes nothing."""
        self._native.tell(_trial_id(trial), _float_or_none(value), error, float(seconds))

    def tell_many(
        self,
        trials: Iterable[Trial | int],
        values: Iterable[float | None] | np.ndarray,
        *,
        errors: Iterable[str | None] | None = None,
    ) -> None:
        """Tells several trials at once: ``values[i]`` is the value of ``trials[i]``; with
        ``errors``, a trial whose error is not None failed with that message (its value is
        then None). Every tell is checked before any is written: one bad tell raises
        ``ValueError`` and nothing is told."""
        ids = [_trial_id(t) for t in trials]
        vals = [_float_or_none(v) for v in values]
        errs = [None] * len(ids) if errors is None else [None if e is None else str(e) for e in errors]
        if len(errs) != len(ids):
            raise ValueError(f"{len(ids)} trials but {len(errs)} errors: expected one entry per trial")
        vals = [None if e is not None else v for v, e in zip(vals, errs)]
        self._native.tell_many(ids, vals, errs)

    def tell_unasked(
        self, x: np.ndarray | Sequence[Sequence[float]], y: np.ndarray | Sequence[float], *, source: str = "python"
    ) -> builtins.list[int]:
        """Tells observations that were never asked (warm start): ``x`` of shape ``(n, d)``
        (or ``(d,)`` for one point) in native coordinates, ``y`` of shape ``(n,)``. They do not
        use the budget, and told before the first ask they count towards ``initial_points``.
        Each is journaled with the source ``"SOURCE:ROW"``. Every row is checked first (inside
        the bounds, right dimension, finite): a bad row raises ``ValueError`` and nothing is
        told. Returns the new trial ids."""
        xs = np.asarray(x, dtype=float)
        ys = np.asarray(y, dtype=float).reshape(-1)
        if xs.ndim == 1:
            xs = xs.reshape(1, -1)
        if xs.ndim != 2:
            raise ValueError(f"x has shape {xs.shape}: expected (n, d) points")
        return self._native.tell_unasked(xs.tolist(), ys.tolist(), str(source))

    def run(self) -> Result:
        """Evaluates and tells until the study ends, with the ``objective`` given to the study
        (or the config's own objective), ``workers`` evaluations at once; trials pending from an
        earlier, interrupted run come first. Returns the :class:`Result`. The GIL is released
        while Rust works; with ``workers > 1`` the objective is called from worker threads,
        which take turns at the GIL (see :func:`minimize`).

        Ctrl-C (``KeyboardInterrupt``) stops the run: what was told stays in the journal, the
        trials in flight stay pending (a later :meth:`run`, ``Study.open(...).run()`` or
        ``les resume`` evaluates them), and the ``KeyboardInterrupt`` is raised again.
        """
        if self._objective is not None and self._vectorized:
            self._run_batches()
        else:
            self._native.run()
        return self.result()

    def _run_batches(self) -> None:
        """The loop of a vectorized objective: ask a batch, evaluate it in one call, tell it."""
        f = self._objective
        batch = max(self._native.workers(), 1)
        pending = self.status().pending
        while True:
            trials = pending or self._ask_quiet(max(self._native.design_remaining(), batch))
            pending = []
            if not trials:
                return
            xs = np.array([t.x for t in trials], dtype=float)
            start = time.perf_counter()
            errors: builtins.list[str | None] = [None] * len(trials)
            try:
                values = np.asarray(f(xs), dtype=float).reshape(-1)
                if values.shape != (len(trials),):
                    raise ValueError(
                        f"the vectorized objective returned {values.size} values for {len(trials)} points: "
                        "expected one value per row of X"
                    )
            except Exception:
                message = traceback.format_exc().rstrip()
                values = np.full(len(trials), np.nan)
                errors = [message] * len(trials)
            except BaseException as stop:  # KeyboardInterrupt, SystemExit: the batch stays pending
                self._native.write_interrupted_summary(type(stop).__name__)
                raise
            for i, v in enumerate(values):
                if errors[i] is None and not np.isfinite(v):
                    shown = "NaN" if np.isnan(v) else ("inf" if v > 0 else "-inf")  # as the runner says it
                    errors[i] = f"objective returned a non-finite value ({shown})"
            seconds = (time.perf_counter() - start) / len(trials)
            ids = [t.id for t in trials]
            vals = [None if e is not None else float(v) for v, e in zip(values, errors)]
            self._native.tell_many(ids, vals, errors, seconds)

    def _ask_quiet(self, n: int) -> builtins.list[Trial]:
        trials, _notes = self._native.ask(int(n))
        return [_trial(t) for t in trials]

    # --- where it stands --------------------------------------------------------------------

    def best(self) -> Best | None:
        """The best observation so far (lowest value, the first on ties), or None."""
        b = self._native.best()
        if b is None:
            return None
        return Best(trial=b[0], x=np.asarray(b[1], dtype=float), y=b[2], f=b[3])

    def status(self) -> Status:
        """Where the study stands: budget, used, pending trials, best, how it ended."""
        s = json.loads(self._native.status())
        return Status(
            budget=s["budget"],
            used=s["used"],
            budget_left=s["budget_left"],
            pending=[Trial(id=p["trial"], x=np.asarray(p["x"], dtype=float), iteration=p["iteration"]) for p in s["pending"]],
            imported=s["imported"],
            failed=s["failed"],
            best=_best(s["best"]),
            finished=s["finished"],
            success=s["success"],
        )

    def history(self) -> tuple[np.ndarray, np.ndarray]:
        """Every told point and value in journal order: ``X`` of shape ``(n, d)`` and ``y`` of
        shape ``(n,)``, nan where the evaluation failed."""
        xs, ys, _, _ = _history(json.loads(self._native.records()), self.dim)
        return xs, ys

    def result(self) -> Result:
        """The study so far as a :class:`Result` (what :meth:`run` returns)."""
        summary = json.loads(self._native.summary())
        return _result(json.loads(self._native.records()), self.dim, self.run_dir, summary)

    @property
    def run_dir(self) -> Path | None:
        """The run directory, or None for a study kept in memory."""
        d = self._native.run_dir()
        return None if d is None else Path(d)

    @property
    def config(self) -> dict[str, Any]:
        """The resolved config (every default filled in), as written to ``config.yaml``."""
        return json.loads(self._native.config())

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """The objective's box: ``(lower, upper)``, each of shape ``(d,)``."""
        return self._lower.copy(), self._upper.copy()

    @property
    def dim(self) -> int:
        """The input dimension ``d``."""
        return len(self._lower)

    # --- the run directory's lock -----------------------------------------------------------

    def close(self) -> None:
        """Releases the run directory (its lock): ``les`` commands and other studies can use
        it. The study cannot be used afterwards."""
        self._native.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._native.closed()

    def __enter__(self) -> "Study":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        if self.closed:
            return "Study(closed)"
        s = self.status()
        where = str(self.run_dir) if self.run_dir else "in memory"
        return f"Study({where}, budget={s.budget}, used={s.used}, pending={len(s.pending)})"


def _bounds_arrays(bounds: Any) -> tuple[builtins.list[float], builtins.list[float]]:
    b = np.asarray(bounds, dtype=float)
    if b.ndim != 2 or b.shape[1] != 2 or b.shape[0] == 0:
        raise ValueError(
            f"bounds has shape {b.shape}: expected one (lower, upper) pair per input, e.g. [(-5, 10), (0, 15)]"
        )
    return b[:, 0].tolist(), b[:, 1].tolist()


def minimize(
    f: Callable[[np.ndarray], float],
    bounds: Sequence[tuple[float, float]] | np.ndarray,
    strategy: str = "les",
    *,
    budget: int,
    seed: int,
    workers: int = 1,
    vectorized: bool = False,
    initial_points: int | None = None,
    initial_data: tuple[np.ndarray, np.ndarray] | None = None,
    on_error: str = "stop",
    run_dir: str | os.PathLike[str] | None = None,
    name: str | None = None,
    **params: Any,
) -> Result:
    """Minimizes ``f`` over a box with Bayesian optimization (Local Entropy Search by default).

    Args:
        f: the objective, ``f(x) -> float`` with ``x`` a numpy array of shape ``(d,)``; with
            ``vectorized=True``, ``f(X) -> values`` with ``X`` of shape ``(m, d)``, returning
            ``m`` values. An exception is a failed evaluation (its traceback is journaled);
            ``on_error`` decides what happens next. NaN or inf is a failure too.
        bounds: one ``(lower, upper)`` pair per input, e.g. ``[(-5, 10), (0, 15)]``, or an
            array of shape ``(d, 2)``.
        strategy: ``"les"``, ``"logei"``, ``"mes"``, ``"turbo"``, ``"gibo"``, ``"sobol"``,
            ``"random"`` (``les.list("strategy")``).
        budget: the exact number of evaluations of ``f``, the initial design included.
        seed: the seed of every random stream: the same seed gives the same points.
        workers: evaluations in flight at once. With ``workers > 1`` the calls of ``f`` come
            from worker threads, which take turns at the GIL: pure-Python code runs one call at a
            time; code that releases the GIL (numpy, I/O, subprocesses) overlaps. With
            ``vectorized=True``, the most points per call.
        vectorized: see ``f``.
        initial_points: uniform random points before the strategy's first ask (default 2).
        initial_data: ``(X, y)`` observations to start from (warm start), ``X`` of shape
            ``(n, d)``, ``y`` of shape ``(n,)``; they do not use the budget.
        on_error: ``"stop"`` (the run ends at the first failed evaluation) or ``"skip"``.
        run_dir: where the run journal goes (a new directory, or an empty one); default: a
            new temporary directory, ``result.run_dir``. ``les resume`` / ``les report`` read it.
        name: the objective's name in the journal (default: ``f.__name__``).
        **params: the strategy's parameters (``les.describe(strategy)`` lists them), e.g.
            ``paths=100`` or ``inner_optimizer={"name": "adam", "params": {"steps": 200}}``.

    Returns:
        A :class:`Result`: ``x`` and ``y`` (the best point and value), ``history_x`` and
        ``history_y`` (every evaluation), ``errors``, ``run_dir``, ``stop_reason``.

    Raises:
        ValueError: a bad argument, with the config key it ended up in (``strategy.params.pahts:
            unknown key ...``).
        KeyboardInterrupt: Ctrl-C; the journal in ``run_dir`` is intact, and
            ``les.Study.open(run_dir, objective=f).run()`` (or ``les.resume``) continues it.

    Example::

        >>> import numpy as np, les
        >>> def branin(x):
        ...     a, b, c, r, s, t = 1, 5.1 / (4 * np.pi**2), 5 / np.pi, 6, 10, 1 / (8 * np.pi)
        ...     return a * (x[1] - b * x[0]**2 + c * x[0] - r)**2 + s * (1 - t) * np.cos(x[0]) + s
        >>> result = les.minimize(branin, [(-5, 10), (0, 15)], budget=25, seed=1)
        >>> result.y, result.x
    """
    if not callable(f):
        raise TypeError(f"f must be callable, not {type(f).__name__}")
    lower, upper = _bounds_arrays(bounds)
    label = name or getattr(f, "__name__", None) or "python"
    if label == "<lambda>":
        label = "lambda"
    config: dict[str, Any] = {
        "objective": {"external": label, "bounds": {"lower": lower, "upper": upper}},
        "strategy": {"name": strategy, "params": params},
        "budget": budget,
        "seed": seed,
        "workers": workers,
        "on_error": on_error,
    }
    if initial_points is not None:
        config["initial_points"] = initial_points
    if run_dir is None:
        run_dir = tempfile.mkdtemp(prefix=f"les-{label}-")
    with Study(config, run_dir, objective=f, vectorized=vectorized) as study:
        if initial_data is not None:
            x0, y0 = initial_data
            study.tell_unasked(x0, y0, source="initial_data")
        return study.run()


def run(
    config: str | os.PathLike[str],
    *,
    seed: int | None = None,
    budget: int | None = None,
    workers: int | None = None,
    run_dir: str | os.PathLike[str] | None = None,
    resume: bool = False,
) -> Result:
    """Runs a config file to its end, as ``les run CONFIG`` does (its objective is the config's:
    a builtin, a library or a command). ``seed``, ``budget``, ``workers`` replace the config's
    values; ``run_dir`` replaces its ``output`` (``--out``); ``resume=True`` continues the run
    in ``run_dir`` (``--resume DIR``). Returns the :class:`Result`; a run that ends badly (an
    evaluation failed under ``on_error: stop``) returns too, with ``success`` False."""
    outcome = json.loads(
        _native.run(
            os.fspath(config),
            seed=seed,
            budget=budget,
            workers=workers,
            run_dir=None if run_dir is None else os.fspath(run_dir),
            resume=resume,
        )
    )
    return _result_of_dir(Path(outcome["dir"]), outcome["summary"])


def _result_of_dir(run_dir: Path, summary: dict[str, Any]) -> Result:
    records = _read_journal(run_dir)
    dim = len(records[0]["x"]) if records else len(summary.get("best_x") or [])
    return _result(records, dim, run_dir, summary)


def resume(
    run_dir: str | os.PathLike[str],
    *,
    budget: int | None = None,
    objective: Callable[..., Any] | None = None,
    vectorized: bool = False,
) -> Result:
    """Continues the run in ``run_dir`` to its end with the config it holds, as ``les resume
    DIR`` does; ``budget`` extends it. A run of a Python objective (``minimize``) needs that
    ``objective`` again. Returns the :class:`Result`."""
    with Study.open(run_dir, budget=budget, objective=objective, vectorized=vectorized) as study:
        return study.run()


def report(dir: str | os.PathLike[str], out: str | os.PathLike[str] | None = None) -> Path:
    """Writes CSV, tables, SVG plots and ``report.md`` for the runs under ``dir`` into ``out``
    (default ``dir/report``), as ``les report`` does; returns the path of ``report.md``.
    Run directories that cannot be used are left out with a :class:`LesWarning`."""
    out = Path(dir) / "report" if out is None else Path(out)
    path, notes = _native.report(os.fspath(dir), os.fspath(out))
    for note in notes:
        warnings.warn(note, LesWarning, stacklevel=2)
    return Path(path)


def check(config: ConfigLike) -> dict[str, Any]:
    """Checks a config (a file or a dict) as ``les check`` does: parses it and builds every
    component; returns the resolved config (every default filled in). A bad config raises
    ``ValueError`` with the file, line, key path and what was expected."""
    return json.loads(_native.check(**_config_args(config)))


def _list(kind: str | None = None) -> dict[str, Any]:
    """The registered plugins, as ``les list`` prints them.

    Without ``kind``: ``{kind: {name: summary}}`` for every kind (``strategy``,
    ``inner_optimizer``, ``surrogate``, ``objective``); with ``kind``: ``{name: summary}``."""
    kinds = _native.plugin_kinds()
    if kind is not None and kind not in kinds:
        raise ValueError(f"unknown plugin kind `{kind}`; known kinds: {', '.join(kinds)}")
    table: dict[str, dict[str, str]] = {k: {} for k in kinds}
    for k, name, summary in _native.list_plugins():
        table[k][name] = summary
    return table if kind is None else table[kind]


def describe(name: str, kind: str | None = None) -> Plugin:
    """The plugin called ``name``: its summary, details and default parameters (``print`` it
    for what ``les describe NAME`` shows). A name used by plugins of several kinds needs
    ``kind``. Unknown names raise ``ValueError`` listing the known ones."""
    found = [Plugin(k, n, s, d, json.loads(j), y) for (k, n, s, d, y, j) in _native.describe_plugin(name)]
    if kind is not None:
        found = [p for p in found if p.kind == kind]
        if not found:
            raise ValueError(f"no {kind} plugin is named `{name}`")
    if len(found) > 1:
        kinds = ", ".join(p.kind for p in found)
        raise ValueError(f"`{name}` names plugins of several kinds ({kinds}): give kind=")
    return found[0]


def kernel_name() -> str:
    """Which random-feature kernel this process runs: ``"avx2-fma"`` (picked at run time where
    the CPU has AVX2 and FMA) or ``"portable"``."""
    return _native.kernel_name()


list = _list  # noqa: A001 - `les.list()` as `les list`; the module uses builtins.list itself
list.__name__ = "list"
