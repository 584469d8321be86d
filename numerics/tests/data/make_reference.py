"""Reference optima of bounded test problems from SciPy's L-BFGS-B, an implementation
independent of les_numerics::lbfgs. Writes lbfgs_reference.json next to this file; the Rust
test numerics/tests/lbfgs_scipy.rs defines the same problems by name and compares.

Run: python3 -m venv /tmp/scipy-venv && /tmp/scipy-venv/bin/pip install scipy numpy
     /tmp/scipy-venv/bin/python numerics/tests/data/make_reference.py

For each problem it also records, at SciPy's optimum, the largest entry of the projected
gradient and the smallest eigenvalue of the Hessian on the free coordinates (by central
differences of the analytic gradient): the Rust test derives its tolerance from them.
"""

import json
import os

import numpy as np
import scipy
from scipy.optimize import minimize


def rosenbrock(x):
    x = np.asarray(x)
    f = np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
    g = np.zeros_like(x)
    g[:-1] += -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return f, g


# Bounded quadratic ½xᵀAx − bᵀx, A = QᵀDQ with a fixed rotation and condition number 100.
def quadratic_matrix(d):
    i = np.arange(d)
    theta = 0.3 * (i[:, None] + 2 * i[None, :] + 1)
    m = np.cos(theta) + np.eye(d)
    q, _ = np.linalg.qr(m)
    eig = np.logspace(0, 2, d)
    a = q.T @ np.diag(eig) @ q
    return 0.5 * (a + a.T)  # exactly symmetric, so Ax − b is exactly the gradient


QUAD_D = 6
QUAD_A = quadratic_matrix(QUAD_D)
QUAD_B = np.array([3.0, -2.0, 40.0, 1.0, -30.0, 5.0])


def quadratic(x):
    x = np.asarray(x)
    ax = QUAD_A @ x
    return 0.5 * x @ ax - QUAD_B @ x, ax - QUAD_B


# log Σ exp(cᵢ·x) + ½|x − m|²: smooth, strongly convex, not quadratic.
LSE_C = np.array([[1.0, 2.0, -1.0, 0.5], [-2.0, 0.5, 1.0, 1.0], [0.5, -1.0, 2.0, -1.5]])
LSE_M = np.array([2.0, -1.5, 0.3, 0.8])


def logsumexp_ridge(x):
    x = np.asarray(x)
    z = LSE_C @ x
    zmax = z.max()
    w = np.exp(z - zmax)
    f = zmax + np.log(w.sum()) + 0.5 * np.sum((x - LSE_M) ** 2)
    p = w / w.sum()
    return f, LSE_C.T @ p + (x - LSE_M)


PROBLEMS = [
    # Upper bound on x0 active at the optimum (0.5, 0.25).
    ("rosenbrock", rosenbrock, [-1.2, 1.0], [-2.0, -2.0], [0.5, 2.0]),
    ("rosenbrock", rosenbrock, [-1.2, 1.0], [-2.0, -2.0], [2.0, 2.0]),
    # 5-D with the upper bound on x2 active, from the classic start.
    ("rosenbrock", rosenbrock, [-1.2, 1.0, -1.2, 1.0, -1.2], [-2.0] * 5, [2.0, 2.0, 0.7, 2.0, 2.0]),
    # 5-D with an upper bound (x1) and a lower bound (x4) active.
    ("rosenbrock", rosenbrock, [0.5] * 5, [-2.0, -2.0, -2.0, -2.0, 0.8], [2.0, 0.8, 2.0, 2.0, 3.0]),
    ("quadratic", quadratic, [0.5] * QUAD_D, [0.0] * QUAD_D, [1.0] * QUAD_D),
    ("quadratic", quadratic, [0.0] * QUAD_D, [-1.0, -1.0, -0.2, -1.0, -0.1, -1.0], [1.0, 1.0, 0.2, 1.0, 1.0, 1.0]),
    ("logsumexp_ridge", logsumexp_ridge, [0.0] * 4, [-1.0, -1.0, -1.0, 0.9], [1.0, 1.0, 1.0, 2.0]),
]


def projected_gradient(x, g, lo, hi):
    pg = np.where((x <= lo) & (g > 0) | (x >= hi) & (g < 0), 0.0, g)
    return float(np.max(np.abs(pg)))


def free_hessian_min_eig(fun, x, lo, hi, h=1e-6):
    free = [i for i in range(len(x)) if lo[i] < x[i] < hi[i]]
    if not free:
        return None
    hess = np.zeros((len(free), len(free)))
    for a, i in enumerate(free):
        e = np.zeros(len(x))
        e[i] = h
        hess[:, a] = (fun(x + e)[1] - fun(x - e)[1])[free] / (2 * h)
    return float(np.linalg.eigvalsh(0.5 * (hess + hess.T)).min())


def main():
    cases = []
    for name, fun, x0, lo, hi in PROBLEMS:
        lo, hi = np.array(lo), np.array(hi)
        r = minimize(
            fun,
            np.array(x0),
            jac=True,
            method="L-BFGS-B",
            bounds=list(zip(lo, hi)),
            # ftol = 0 and a tiny gtol: stop only at (numerical) stationarity.
            options={"maxiter": 10000, "maxfun": 100000, "ftol": 0.0, "gtol": 1e-12, "maxcor": 10},
        )
        x = r.x
        cases.append(
            {
                "problem": name,
                "x0": list(x0),
                "lower": lo.tolist(),
                "upper": hi.tolist(),
                "x": x.tolist(),
                "f": float(r.fun),
                "projected_gradient": projected_gradient(x, fun(x)[1], lo, hi),
                "free_hessian_min_eigenvalue": free_hessian_min_eig(fun, x, lo, hi),
                "at_lower": [bool(v <= l) for v, l in zip(x, lo)],
                "at_upper": [bool(v >= u) for v, u in zip(x, hi)],
                "scipy_iterations": int(r.nit),
                "scipy_evaluations": int(r.nfev),
                "scipy_message": str(r.message),
            }
        )
    out = {
        "generator": "numerics/tests/data/make_reference.py",
        "scipy": scipy.__version__,
        "numpy": np.__version__,
        "quadratic_a": QUAD_A.tolist(),
        "quadratic_b": QUAD_B.tolist(),
        "logsumexp_c": LSE_C.tolist(),
        "logsumexp_m": LSE_M.tolist(),
        "cases": cases,
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lbfgs_reference.json")
    # One line per matrix row and per case: readable in a diff, short in the tree.
    def dump(value):
        return json.dumps(value, separators=(", ", ": "))

    lines = ["{"]
    for key, value in out.items():
        if key == "cases" or key.endswith(("_a", "_c")):
            rows = ",\n".join("  " + dump(v) for v in value)
            lines.append(f' "{key}": [\n{rows}\n ],')
        else:
            lines.append(f' "{key}": {dump(value)},')
    lines[-1] = lines[-1].rstrip(",")
    lines.append("}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
