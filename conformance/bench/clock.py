"""Simulated time with an explicit, fixed step.

Time is a start time plus an integer step count times ``dt_s``, never a running float sum,
so that a 10 ms step reaches 1.0 s in exactly 100 steps and every run lands on the same
instants. The start time (``start_s``, 0 by default) lets a run begin late — past the wrap
of 16-bit millisecond ticks (65.536 s), past 2^24 s where float32 time resolves only 2 s —
to expose modules whose own representation of time does not last.
"""

from __future__ import annotations

import math

#: Tolerance for comparing a simulated time with a scenario time given in seconds.
TIME_EPS_S = 1e-9


class Clock:
    """Step counter that turns into seconds on demand."""

    __slots__ = ("dt_s", "start_s", "step")

    def __init__(self, dt_s: float, start_s: float = 0.0) -> None:
        if not dt_s > 0.0:
            raise ValueError(f"Clock: dt_s must be > 0 s, found {dt_s!r}")
        if not (math.isfinite(start_s) and start_s >= 0.0):
            raise ValueError(f"Clock: start_s must be a finite time ≥ 0 s, found {start_s!r}")
        self.dt_s = float(dt_s)
        self.start_s = float(start_s)
        self.step = 0

    @property
    def t(self) -> float:
        """Simulated time, s."""
        return self.start_s + self.step * self.dt_s

    def time_of(self, step: int) -> float:
        """Simulated time of step number ``step``, s."""
        return self.start_s + step * self.dt_s

    def tick(self) -> None:
        """One step of simulated time."""
        self.step += 1

    def steps_for(self, duration_s: float, minimum: int = 0) -> int:
        """Whole steps covering ``duration_s`` (rounded up, at least ``minimum``)."""
        return max(minimum, math.ceil(duration_s / self.dt_s - TIME_EPS_S))
