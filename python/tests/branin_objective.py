"""The Branin function in plain Python floats (the same bits wherever it is called)."""

import math


def branin(x) -> float:
    x0, x1 = float(x[0]), float(x[1])
    a, b, c, r, s, t = 1.0, 5.1 / (4.0 * math.pi**2), 5.0 / math.pi, 6.0, 10.0, 1.0 / (8.0 * math.pi)
    return a * (x1 - b * x0**2 + c * x0 - r) ** 2 + s * (1.0 - t) * math.cos(x0) + s


BRANIN_MINIMUM = 0.397887357729738
