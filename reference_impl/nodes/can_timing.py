"""Time for the reference CAN nodes: explicit simulated time, and a wall-clock pacer.

A CAN node is stepped like every reference block: ``step(t)`` reads what the bus holds now
(never waiting), acts on it, and sends the frames that are due at ``t``. In process the
caller chooses ``t`` (a simulated clock: deterministic, far faster than real time); on a
real bus :func:`run_realtime` calls ``step`` with the seconds elapsed on the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..component import TIME_EPS_S


class Periodic:
    """A periodic transmission: due at the first call, then every ``period_s`` on that grid.

    Steps that fall between grid points send nothing; a call late by a whole period or more
    (a stalled host) starts the grid anew at that call instead of sending a burst of
    catch-up frames, which would only break the receivers' cycle-time checks.
    """

    def __init__(self, period_s: float) -> None:
        if not period_s > 0:
            raise ValueError(f"expected a period > 0 s, found {period_s!r}")
        self.period_s = period_s
        self._next: float | None = None

    def reset(self) -> None:
        self._next = None

    def due(self, t: float) -> bool:
        """Whether a frame is due at ``t``; if so the next one is scheduled."""
        next_s = self._next
        if next_s is not None and t < next_s - TIME_EPS_S:
            return False
        base = next_s if next_s is not None and t < next_s + self.period_s else t
        self._next = base + self.period_s
        return True


class SupportsStep(Protocol):
    def step(self, t: float) -> object: ...


@dataclass
class RealtimeRun:
    """What :func:`run_realtime` did: steps taken, steps that started late by more than a
    period (their ticks were skipped), and the largest lateness of a step's start."""

    steps: int = 0
    overruns: int = 0
    max_lateness_s: float = 0.0


def run_realtime(nodes: Sequence[SupportsStep], duration_s: float, period_s: float = 0.01,
                 stop: Callable[[], bool] | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 run: RealtimeRun | None = None) -> RealtimeRun:
    """Step ``nodes`` (in order) every ``period_s`` of wall-clock time for ``duration_s``, or
    until ``stop()`` is true; each ``step(t)`` gets the seconds since the start.

    For real hardware (a board on socketcan, PCAN, Vector, Kvaser, …): the nodes' own
    schedules put their frames on the catalog's periods, so a late tick only delays frames
    and never repeats them. Timing on a PC jitters by milliseconds (DOMAIN.md): cycle times
    on a real bus are judged statistically, control logic on the simulated clock.

    ``run``: the record to keep (default: a new one), which a caller in another thread may
    read while the nodes run (how late they have been so far).
    """
    run = run if run is not None else RealtimeRun()
    start = clock()
    tick = 0
    while True:
        now = clock() - start
        if now > duration_s + TIME_EPS_S or (stop is not None and stop()):
            return run
        lateness = now - tick * period_s
        run.max_lateness_s = max(run.max_lateness_s, lateness)
        if lateness >= period_s:
            run.overruns += 1
            tick = int(now / period_s)  # skip the missed ticks
        for node in nodes:
            node.step(now)
        run.steps += 1
        tick += 1
        wait = tick * period_s - (clock() - start)
        if wait > 0:
            sleep(wait)
