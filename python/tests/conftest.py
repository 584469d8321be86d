"""Shared fixtures: the `les` command-line binary (LES_BIN, default target/debug/les of the
repository, as `cargo build` makes it) and small configs written into each test's directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

# LES at a small setting: the tests check behaviour, not optimization quality, and run in
# seconds (a suite over seeds measures quality).
SMALL_LES = {
    "paths": 16,
    "support_points": 4,
    "inner_optimizer": {"name": "adam", "params": {"learning_rate": 0.01, "steps": 60}},
}


@pytest.fixture(scope="session")
def les_bin() -> Path:
    path = Path(os.environ.get("LES_BIN", REPO / "target" / "debug" / "les"))
    if not path.is_file():
        pytest.fail(f"the les binary {path} does not exist: run `cargo build` or set LES_BIN")
    return path


def run_cli(les_bin: Path, *args: str, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([os.fspath(les_bin), *args], capture_output=True, text=True, cwd=cwd)
    if check and proc.returncode != 0:
        raise AssertionError(f"les {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


def journal(run_dir: Path) -> list[dict]:
    """The evaluation records of a run directory; every line must be whole JSON."""
    text = (Path(run_dir) / "evaluations.jsonl").read_text()
    assert text == "" or text.endswith("\n"), "the journal ends in a torn line"
    return [json.loads(line) for line in text.splitlines()]


def xs(run_dir: Path) -> list[list[float]]:
    return [r["x"] for r in journal(run_dir)]


def write_yaml(path: Path, config: dict) -> Path:
    """Writes a config (JSON is YAML)."""
    path.write_text(json.dumps(config, indent=2))
    return path


def branin_config(tmp: Path, *, budget: int, seed: int = 3, objective: dict | None = None, **extra) -> dict:
    config = {
        "objective": objective or {"builtin": "branin"},
        "strategy": {"name": "les", "params": SMALL_LES},
        "budget": budget,
        "seed": seed,
        "output": os.fspath(tmp / "unused-output"),
    }
    config.update(extra)
    return config


def command_objective() -> dict:
    """Branin as a command: the CLI evaluates the same Python code the tests call."""
    return {
        "command": [sys.executable, os.fspath(HERE / "branin_command.py")],
        "bounds": {"lower": [-5, 0], "upper": [10, 15]},
    }
