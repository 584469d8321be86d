"""Run by test_interrupt.py in a subprocess: minimize a slow Branin, print a line per
evaluation, and report how the run ended."""

import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import les  # noqa: E402
from branin_objective import branin  # noqa: E402
from conftest import SMALL_LES  # noqa: E402

run_dir, workers, how = sys.argv[1], int(sys.argv[2]), sys.argv[3]


printing = threading.Lock()


def slow(x):
    with printing:  # whole lines, also from worker threads
        print("evaluating", flush=True)
    time.sleep(0.3)  # where Ctrl-C lands: inside the callable
    return branin(x)


try:
    if how == "run":  # a config of a builtin objective: the whole run is Rust
        les.run(run_dir + ".yaml", run_dir=run_dir)
        print("finished", flush=True)
    elif how == "resume":
        result = les.resume(run_dir, objective=slow)
        print("finished", result.n_evaluations, flush=True)
    else:
        les.minimize(slow, [(-5, 10), (0, 15)], budget=12, seed=7, workers=workers, run_dir=run_dir, **SMALL_LES)
        print("finished", flush=True)
except KeyboardInterrupt:
    print("KeyboardInterrupt reached the caller", flush=True)
    sys.exit(130)
