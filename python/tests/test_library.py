"""A shared-library objective run from Python: isolated in a child process (a Python process
serving the library), so a segfault fails one evaluation instead of the interpreter."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

import les
from conftest import REPO, write_yaml

# The library of the Rust isolation test (tests/isolation.rs).
CRASHY_C = (REPO / "tests" / "data" / "crashy.c").read_text()


@pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler (cc) to build the library")
def test_a_segfaulting_library_fails_single_evaluations(tmp_path):
    source = tmp_path / "crashy.c"
    source.write_text(CRASHY_C)
    lib = tmp_path / "libcrashy.so"
    include = REPO / "objectives" / "abi" / "include"
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-I", str(include), "-o", str(lib), str(source)], check=True)
    config = write_yaml(
        tmp_path / "run.yaml",
        {
            "objective": {"library": str(lib)},
            "strategy": {"name": "sobol"},
            "budget": 10,
            "seed": 2,
            "on_error": "skip",
            "output": str(tmp_path / "run"),
        },
    )
    result = les.run(config)
    assert result.success, result.stop_reason
    crashed = result.history_x[:, 0] > 0.6
    assert crashed.any() and (~crashed).any()
    for x, y, error in zip(result.history_x, result.history_y, result.errors):
        if x[0] > 0.6:
            assert np.isnan(y) and "was killed by signal 11" in error, error
        else:
            assert y == x[0] ** 2 + x[1] ** 2 and error is None
