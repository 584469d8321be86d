"""One LES step through the Python package, at the setting of the Rust benchmark
`cargo bench -p les-strategy-les --bench les_step -- D N REPS` (L = 250 paths, T = 500 Adam
steps, B = 1024 features, P = 8 support points, fixed GP hyperparameters with length scale
0.2·sqrt(d), data in the unit cube with y = Σ sin(3 (i+1) x_i)), so that the wheel can be set
against a native build of the same step.

    python python/benches/les_step.py 20 100 5        # d n repetitions

Each repetition is one `Study.ask(1)` on the same data (n observations told with
`tell_unasked`), timed from Python (the FFI and the GIL release included); the step's own
time and phases come from the journal's `iterations.jsonl`. The first ask also hands the
data to the strategy (`tell`: the GP factorization), so it is reported apart.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import les


def main(d: int = 20, n: int = 100, reps: int = 5) -> None:
    rng = np.random.default_rng(42)
    x = rng.random((n, d))
    y = np.sin(3.0 * np.arange(1, d + 1) * x).sum(axis=1)
    config = {
        "objective": {"external": "bench", "dim": d},
        "strategy": {
            "name": "les",
            "params": {
                "sampler": {
                    "name": "descent",
                    "params": {
                        "paths": 250,
                        "support_points": 8,
                        "inner_optimizer": {"name": "adam", "params": {"steps": 500}},
                    },
                },
                "acquisition": {"name": "mutual_information"},
                "surrogate": {
                    "name": "gp",
                    "params": {
                        "hyperparameters": {"fixed": {"lengthscales": [0.2 * d**0.5], "signal_variance": 1.0}},
                        "features": 1024,
                    },
                },
            },
        },
        "budget": reps + 1,
        "seed": 1,
        # Each asked trial is told as failed, which leaves it out of the data: every step sees
        # the same n observations and no pending point.
        "on_error": "skip",
    }
    with tempfile.TemporaryDirectory() as tmp:
        with les.Study(config, run_dir=Path(tmp) / "run") as study:
            study.tell_unasked(x, y)
            walls = []
            for _ in range(reps + 1):
                start = time.perf_counter()
                (trial,) = study.ask(1)
                walls.append(time.perf_counter() - start)
                study.tell(trial, error="not evaluated: a timing run")
        records = [json.loads(line) for line in (Path(tmp) / "run" / "iterations.jsonl").read_text().splitlines()]
    steps = [r["ask_seconds"] for r in records]
    phases = {k: float(np.median([r["phases"][k] for r in records[1:]])) for k in records[1]["phases"]}
    later = walls[1:]
    print(
        f"d={d} n={n} L=250 T=500 B=1024 P=8: step median {np.median(later):.4f} s "
        f"(fastest {min(later):.4f} s; journal ask_seconds median {np.median(steps[1:]):.4f} s) | "
        + " ".join(f"{k} {v:.4f}" for k, v in phases.items())
        + f" | first ask (with the tell) {walls[0]:.4f} s | kernel {les.kernel_name()}"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
