"""Debounce on the simulated clock.

A condition counts once it has been present for at least ``delay_s``, measured from the
first sample in which it was present (the step in which the violation was first seen), so a
fault with a declared delay D latches in the first step at or after t_first + D. Time is the
explicit step time, never the wall clock, so a run is reproducible at any speed.
"""

from __future__ import annotations

from ..component import TIME_EPS_S


class Debounce:
    """Tracks how long one condition has been present."""

    __slots__ = ("delay_s", "since_s")

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s - TIME_EPS_S
        self.since_s: float | None = None

    def reset(self) -> None:
        self.since_s = None

    def update(self, present: bool, t: float) -> bool:
        """True when the condition has been present for the delay, up to and including ``t``."""
        if not present:
            self.since_s = None
            return False
        if self.since_s is None:
            self.since_s = t
        return t - self.since_s >= self.delay_s
