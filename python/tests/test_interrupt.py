"""Ctrl-C and KeyboardInterrupt: the run stops, the journal stays whole, the trial in flight
stays pending, and a resume ends with exactly the evaluations of an uninterrupted run."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import les
from branin_objective import branin
from conftest import SMALL_LES, branin_config, journal, run_cli, write_yaml, xs

HERE = Path(__file__).resolve().parent
BOUNDS = [(-5, 10), (0, 15)]


def interrupted_run(run_dir: Path, workers: int, after: int) -> subprocess.CompletedProcess:
    """Starts interrupt_script.py and sends SIGINT once `after` evaluations have started."""
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "interrupt_script.py"), str(run_dir), str(workers), "minimize"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = 0
    deadline = time.monotonic() + 120
    while started < after and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        started += line.count("evaluating")
    assert started >= after, f"the script stopped early: {proc.stderr.read()}"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    # Every evaluation the script started, the ones before the signal included.
    out = "evaluating\n" * started + out
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def uninterrupted(tmp_path: Path) -> list:
    result = les.minimize(branin, BOUNDS, budget=12, seed=7, run_dir=tmp_path / "whole", **SMALL_LES)
    return result.history_x.tolist()


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_leaves_a_resumable_journal(tmp_path, workers, les_bin):
    run_dir = tmp_path / "run"
    proc = interrupted_run(run_dir, workers, after=5)
    assert proc.returncode == 130, proc.stderr
    assert "KeyboardInterrupt reached the caller" in proc.stdout
    records = journal(run_dir)  # every line whole
    assert 3 <= len(records) < 12
    assert all(r.get("error") is None for r in records), "an interrupt is no failed evaluation"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["stop_reason"].startswith("interrupted") and summary["evaluations"] == len(records)
    with les.Study.open(run_dir) as study:
        status = study.status()
        assert status.finished is None
        started = proc.stdout.count("evaluating")
        if workers == 1:
            # Ctrl-C raised KeyboardInterrupt inside the callable: its trial stays pending.
            assert [t.id for t in status.pending] == [len(records)]
            assert started == len(records) + 1
        else:
            # The calls on worker threads ran to their end (Python cannot interrupt them) and
            # were told: every evaluation started is in the journal.
            assert status.pending == [] and started == len(records)
    # Resumed from the CLI? It cannot evaluate Python; resumed from Python, in another process.
    done = subprocess.run(
        [sys.executable, str(HERE / "interrupt_script.py"), str(run_dir), "1", "resume"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "finished 12" in done.stdout
    if workers == 1:
        assert xs(run_dir) == uninterrupted(tmp_path)


def test_keyboard_interrupt_in_the_callable_ends_the_run_and_reaches_the_caller(tmp_path):
    def f(x):
        f.calls += 1
        if f.calls == 4:
            raise KeyboardInterrupt
        return branin(x)

    f.calls = 0
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        les.minimize(f, BOUNDS, budget=12, seed=7, run_dir=run_dir, **SMALL_LES)
    records = journal(run_dir)
    assert len(records) == 3 and all(r.get("y") is not None for r in records)
    assert json.loads((run_dir / "summary.json").read_text())["pending_trials"] == [3]
    # The same interpreter goes on: the run resumes and ends as an uninterrupted one.
    result = les.resume(run_dir, objective=branin)
    assert result.n_evaluations == 12 and result.success
    assert result.history_x.tolist() == uninterrupted(tmp_path)


def test_keyboard_interrupt_in_a_vectorized_callable(tmp_path):
    def f(xs):
        f.calls += 1
        if f.calls == 3:
            raise KeyboardInterrupt
        return np.array([branin(x) for x in xs])

    f.calls = 0
    run_dir = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):
        les.minimize(f, BOUNDS, budget=12, seed=7, vectorized=True, run_dir=run_dir, **SMALL_LES)
    assert len(journal(run_dir)) == 3  # the design batch of 2, then one point
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["stop_reason"] == "interrupted (KeyboardInterrupt)" and summary["pending_trials"] == [3]
    result = les.resume(run_dir, objective=lambda xs: np.array([branin(x) for x in xs]), vectorized=True)
    assert result.n_evaluations == 12
    assert result.history_x.tolist() == uninterrupted(tmp_path)


def test_ctrl_c_during_a_rust_run_then_resumed_by_the_cli(tmp_path, les_bin):
    """les.run of a builtin objective: Ctrl-C lands while Rust works without the GIL; the
    runner notices it (its observer runs Python's signal check), stops, and `les resume`
    finishes the run with the evaluations of an uninterrupted one."""
    run_dir = tmp_path / "run"
    # LES at its default setting: asks take long enough to be interrupted midway.
    config = branin_config(tmp_path, budget=14, seed=2, strategy={"name": "les"})
    write_yaml(tmp_path / "run.yaml", config)
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "interrupt_script.py"), str(run_dir), "1", "run"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (run_dir / "evaluations.jsonl").exists() and len(journal(run_dir)) >= 4:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "KeyboardInterrupt reached the caller" in out
    records = journal(run_dir)
    assert 4 <= len(records) < 14, "interrupted midway"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["stop_reason"] == "interrupted (by the caller)"
    run_cli(les_bin, "resume", str(run_dir), "--quiet")
    run_cli(les_bin, "run", str(tmp_path / "run.yaml"), "--out", str(tmp_path / "whole"), "--quiet")
    assert xs(run_dir) == xs(tmp_path / "whole")
