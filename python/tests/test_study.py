"""les.Study: ask/tell through Python gives the journal of `les run`; warm start from numpy
arrays equals the CLI's warm start from a file; refused tells change nothing."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import les
from branin_objective import branin
from conftest import branin_config, command_objective, journal, run_cli, write_yaml


def test_ask_tell_equals_les_run_for_the_same_seed(tmp_path, les_bin):
    config = write_yaml(tmp_path / "branin.yaml", branin_config(tmp_path, budget=8, objective=command_objective()))
    run_cli(les_bin, "run", str(config), "--out", str(tmp_path / "cli"), "--quiet")
    with les.Study(config, run_dir=tmp_path / "py") as study:
        while trials := study.ask(1):
            for trial in trials:
                study.tell(trial, branin(trial.x))
        assert study.status().finished == "budget exhausted"
    cli, py = journal(tmp_path / "cli"), journal(tmp_path / "py")
    assert len(cli) == 8
    assert [r["x"] for r in py] == [r["x"] for r in cli]
    assert [r["y"] for r in py] == [r["y"] for r in cli]
    assert [r["trial"] for r in py] == [r["trial"] for r in cli]


def test_dict_config_in_memory_equals_file_config(tmp_path):
    config = branin_config(tmp_path, budget=6)
    del config["output"]
    memory = les.Study(config)
    assert memory.run_dir is None
    on_disk = les.Study(write_yaml(tmp_path / "c.yaml", config), run_dir=tmp_path / "run")
    for study in (memory, on_disk):
        while trials := study.ask(2):
            study.tell_many(trials, [branin(t.x) for t in trials])
    x_memory, y_memory = memory.history()
    x_disk, y_disk = on_disk.history()
    assert x_memory.shape == (6, 2)
    np.testing.assert_array_equal(x_memory, x_disk)
    np.testing.assert_array_equal(y_memory, y_disk)
    assert not (tmp_path / "unused-output").exists()


def test_warm_start_from_numpy_equals_initial_data_file(tmp_path, les_bin):
    rng = np.random.default_rng(5)
    x0 = np.column_stack([rng.uniform(-5, 10, 3), rng.uniform(0, 15, 3)])
    y0 = np.array([branin(x) for x in x0])
    csv = tmp_path / "seen.csv"
    csv.write_text("x0,x1,y\n" + "".join(f"{float(a)!r},{float(b)!r},{float(y)!r}\n" for (a, b), y in zip(x0, y0)))
    external = {"external": "branin", "bounds": {"lower": [-5, 0], "upper": [10, 15]}}
    cli_config = write_yaml(
        tmp_path / "cli.yaml", branin_config(tmp_path, budget=4, objective=external, initial_data=str(csv))
    )
    run_cli(les_bin, "init", str(cli_config), "--out", str(tmp_path / "cli"))
    cli_first = run_cli(les_bin, "ask", str(tmp_path / "cli"), "--json").stdout

    study = les.Study(branin_config(tmp_path, budget=4, objective=external), run_dir=tmp_path / "py")
    ids = study.tell_unasked(x0, y0, source="notebook")
    assert ids == [0, 1, 2]
    status = study.status()
    assert (status.imported, status.used, status.budget_left) == (3, 0, 4)
    np.testing.assert_array_equal(status.best.x, x0[np.argmin(y0)])
    (trial,) = study.ask(1)
    # Three rows cover the two initial points: the first ask is the strategy's.
    assert trial.iteration == 1
    import json

    expected = json.loads(cli_first.splitlines()[0])
    assert trial.id == expected["trial"]
    assert trial.x.tolist() == expected["x"]
    assert [r["source"] for r in journal(tmp_path / "py")] == ["notebook:0", "notebook:1", "notebook:2"]


def test_bad_warm_start_row_tells_nothing(tmp_path):
    external = {"external": "space", "bounds": {"lower": [0, 0], "upper": [1, 1]}}
    config = branin_config(tmp_path, budget=3, objective=external)
    del config["output"]
    study = les.Study(config)
    with pytest.raises(ValueError, match=r"row 1: coordinate x0 = 2 is outside the bounds \[0, 1\]; nothing was told"):
        study.tell_unasked([[0.5, 0.5], [2.0, 0.5]], [1.0, 2.0])
    with pytest.raises(ValueError, match="row 0: y = NaN is not valid"):
        study.tell_unasked([[0.5, 0.5]], [float("nan")])
    assert study.status().imported == 0


def test_notes_of_an_ask_are_warnings(tmp_path):
    config = branin_config(tmp_path, budget=2)
    del config["output"]
    study = les.Study(config)
    assert len(study.ask(2)) == 2
    with pytest.warns(les.LesWarning, match=r"the budget's last 2 evaluation\(s\) are pending \(trials 0, 1\)"):
        assert study.ask(1) == []
    study.tell_many([0, 1], [1.0, 2.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the end of the run is no warning: status says it
        assert study.ask(1) == []
    assert study.status().finished == "budget exhausted"


def test_refused_tells_raise_value_error_and_change_nothing(tmp_path):
    config = branin_config(tmp_path, budget=4)
    del config["output"]
    study = les.Study(config)
    a, b = study.ask(2)
    with pytest.raises(ValueError, match="trial 7 was never asked; pending trials: 0, 1"):
        study.tell(7, 1.0)
    with pytest.raises(ValueError, match="is not a valid value for trial 0: expected a finite number"):
        study.tell(a, float("inf"))
    with pytest.raises(ValueError, match=r"tell 2 of 2: trial 0 appears twice; nothing was told"):
        study.tell_many([a, a], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"trial 9 was never asked.*\(tell 2 of 2; nothing was told\)"):
        study.tell_many([b, 9], [1.0, 2.0])
    assert study.status().used == 0
    study.tell(a, 1.5)
    with pytest.raises(ValueError, match="trial 0 was already told"):
        study.tell(a, 1.5)
    study.tell(b, error="rig offline")
    status = study.status()
    assert (status.used, status.failed) == (2, 1)
    assert study.result().errors == [None, "rig offline"]


def test_config_errors_carry_the_cli_text(tmp_path, les_bin):
    config = branin_config(tmp_path, budget=5)
    config["strategy"]["params"] = {"pahts": 3}
    path = write_yaml(tmp_path / "typo.yaml", config)
    cli = run_cli(les_bin, "check", str(path), check=False)
    assert cli.returncode == 2
    with pytest.raises(ValueError) as raised:
        les.Study(path)
    assert f"error: {raised.value}\n" == cli.stderr
    assert "strategy.params.pahts: unknown key `pahts`" in str(raised.value)
    with pytest.raises(ValueError, match=r"<config dict>:\d+:\d+: strategy.params.pahts: unknown key `pahts`"):
        les.Study(config)


def test_a_fresh_study_refuses_a_run_directory(tmp_path):
    config = branin_config(tmp_path, budget=3)
    les.Study(config, run_dir=tmp_path / "run").close()
    with pytest.raises(FileExistsError, match="already exists and holds a run"):
        les.Study(config, run_dir=tmp_path / "run")
    with pytest.raises(FileNotFoundError, match="holds no run to resume"):
        les.Study.open(tmp_path / "nothing")


def test_a_run_directory_in_use_is_refused(tmp_path):
    config = branin_config(tmp_path, budget=3)
    with les.Study(config, run_dir=tmp_path / "run"):
        with pytest.raises(RuntimeError, match="is in use by process"):
            les.Study.open(tmp_path / "run")
    les.Study.open(tmp_path / "run").close()


def test_python_objective_needs_an_external_space(tmp_path):
    with pytest.raises(ValueError, match="the config's objective is `builtin: branin`, which les evaluates itself"):
        les.Study(branin_config(tmp_path, budget=3), run_dir=tmp_path / "r", objective=branin)


def test_the_gil_is_released_while_rust_asks(tmp_path):
    """A Python thread keeps running during an LES step: the ask holds no GIL."""
    import sys
    import threading

    config = branin_config(tmp_path, budget=4)
    config["strategy"] = {"name": "les"}  # the default setting: a step of a tenth of a second or more
    del config["output"]
    study = les.Study(config)
    study.tell_unasked([[0.0, 5.0], [3.0, 3.0], [9.0, 2.0]], [17.5, 1.1, 2.4])
    counter = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1

    # A long switch interval: the counting thread gets the GIL only when it is released, not
    # by the interpreter's periodic hand-over.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.5)
    thread = threading.Thread(target=count)
    try:
        thread.start()
        before = counter[0]
        (trial,) = study.ask(1)
        during = counter[0] - before
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(interval)
    assert trial.iteration == 1
    # Held GIL: the counting thread could not run at all between the two reads.
    assert during > 1000, during
