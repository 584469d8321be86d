"""One run directory, two front ends: a run made in Python is continued by the CLI and the
other way round, and both end with the evaluations of one uninterrupted `les run`."""

from __future__ import annotations

import json

import les
from conftest import branin_config, journal, run_cli, write_yaml, xs


def whole_run(tmp_path, les_bin, config):
    run_cli(les_bin, "run", str(config), "--budget", "9", "--out", str(tmp_path / "whole"), "--quiet")
    return xs(tmp_path / "whole")


def test_python_run_resumed_by_the_cli(tmp_path, les_bin):
    config = write_yaml(tmp_path / "branin.yaml", branin_config(tmp_path, budget=9))
    part = les.run(config, budget=4, run_dir=tmp_path / "run")
    assert part.n_evaluations == 4 and part.success
    run_cli(les_bin, "resume", str(tmp_path / "run"), "--budget", "9", "--quiet")
    assert xs(tmp_path / "run") == whole_run(tmp_path, les_bin, config)
    assert len(journal(tmp_path / "run")) == 9


def test_cli_run_resumed_by_python(tmp_path, les_bin):
    config = write_yaml(tmp_path / "branin.yaml", branin_config(tmp_path, budget=9))
    run_cli(les_bin, "run", str(config), "--budget", "4", "--out", str(tmp_path / "run"), "--quiet")
    result = les.resume(tmp_path / "run", budget=9)
    assert result.n_evaluations == 9 and result.stop_reason == "budget exhausted"
    assert result.history_x.tolist() == whole_run(tmp_path, les_bin, config)
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["evaluations"] == 9 and summary["best_y"] == result.y


def test_ask_tell_shared_between_cli_and_python(tmp_path, les_bin):
    """`les ask` / `les tell` and les.Study take turns on one directory; the points are those of
    `les run` (the values told are the builtin's, read back from the CLI's own run)."""
    config = write_yaml(tmp_path / "branin.yaml", branin_config(tmp_path, budget=6))
    run_cli(les_bin, "run", str(config), "--out", str(tmp_path / "whole"), "--quiet")
    reference = journal(tmp_path / "whole")
    run_dir = tmp_path / "run"
    run_cli(les_bin, "init", str(config), "--out", str(run_dir))
    for turn in range(6):
        if turn % 2 == 0:
            trial, *_ = run_cli(les_bin, "ask", str(run_dir)).stdout.split()
            run_cli(les_bin, "tell", str(run_dir), trial, repr(reference[turn]["y"]))
        else:
            with les.Study.open(run_dir) as study:
                (t,) = study.ask(1)
                study.tell(t, reference[turn]["y"])
    assert [r["x"] for r in journal(run_dir)] == [r["x"] for r in reference]
    status = run_cli(les_bin, "status", str(run_dir), "--json").stdout
    assert json.loads(status)["pending"] == []


def test_python_objective_run_continued_with_les_ask(tmp_path, les_bin):
    """A minimize run directory declares its space (`external`): the CLI's ask/tell go on."""
    from branin_objective import branin

    result = les.minimize(branin, [(-5, 10), (0, 15)], budget=3, seed=1, run_dir=tmp_path / "run", paths=16)
    config = (tmp_path / "run" / "config.yaml").read_text()
    assert "external: branin" in config
    out = run_cli(les_bin, "ask", str(tmp_path / "run")).stdout
    assert out == "", "the budget is used up: nothing more to ask"
    proc = run_cli(les_bin, "resume", str(tmp_path / "run"), "--budget", "4", check=False)
    # The CLI cannot call Python: the evaluation fails and says to use ask/tell.
    assert proc.returncode == 1 and "evaluated outside les" in proc.stderr
    assert result.n_evaluations == 3
