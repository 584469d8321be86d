"""Branin as a `command:` objective: reads {"x": [...]} on stdin, prints the value exactly."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from branin_objective import branin  # noqa: E402

print(repr(branin(json.load(sys.stdin)["x"])))
