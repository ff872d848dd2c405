"""Simulated time with an explicit, fixed step.

Time is an integer step count times ``dt_s``, never a running float sum, so that a
10 ms step reaches 1.0 s in exactly 100 steps and every run lands on the same instants.
"""

from __future__ import annotations

import math

#: Tolerance for comparing a simulated time with a scenario time given in seconds.
TIME_EPS_S = 1e-9


class Clock:
    """Step counter that turns into seconds on demand."""

    __slots__ = ("dt_s", "step")

    def __init__(self, dt_s: float) -> None:
        if not dt_s > 0.0:
            raise ValueError(f"Clock: dt_s must be > 0 s, found {dt_s!r}")
        self.dt_s = float(dt_s)
        self.step = 0

    @property
    def t(self) -> float:
        """Simulated time, s."""
        return self.step * self.dt_s

    def tick(self) -> None:
        """One step of simulated time."""
        self.step += 1

    def steps_for(self, duration_s: float, minimum: int = 0) -> int:
        """Whole steps covering ``duration_s`` (rounded up, at least ``minimum``)."""
        return max(minimum, math.ceil(duration_s / self.dt_s - TIME_EPS_S))
