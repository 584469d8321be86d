"""A shared-library objective run from Python: isolated in a child process (a Python process
serving the library), so a segfault fails one evaluation instead of the interpreter."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

import les
from conftest import REPO, write_yaml

CRASHY_C = r"""
#include "les_objective.h"
static double lower[2] = {0.0, 0.0}, upper[2] = {1.0, 1.0};
static int32_t eval(void *state, const double *x, double *y) {
    (void)state;
    if (x[0] > 0.6) *y = *(volatile double *)0;   /* segfault */
    *y = x[0] * x[0] + x[1] * x[1];
    return 0;
}
LES_OBJECTIVE_EXPORT uint32_t les_objective_abi_version(void) { return LES_OBJECTIVE_ABI_VERSION; }
LES_OBJECTIVE_EXPORT int32_t les_objective_create(const char *params, LesObjective *out) {
    (void)params;
    out->abi_version = LES_OBJECTIVE_ABI_VERSION; out->dim = 2; out->lower = lower; out->upper = upper;
    out->state = 0; out->eval = eval; out->eval_grad = 0; out->destroy = 0;
    return 0;
}
LES_OBJECTIVE_EXPORT const char *les_objective_last_error(void) { return 0; }
"""


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
