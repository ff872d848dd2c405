"""Scenario steps shared by the pytest suite and the Gherkin suite.

Each step is one sentence of a test procedure expressed over the harness API: put the
bench in a state, drive a quantity across a limit, find when the module reacted. Steps
measure; they never judge — judging is :meth:`Harness.judge`, against the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..bench import Fault
from ..harness.context import Harness
from ..harness.loop import ClosedLoop

SUPERVISOR = "safety_supervisor"
CONTACTORS = "contactor_manager"


def times(loop: ClosedLoop) -> np.ndarray:
    return np.asarray(loop.t_s)


def channel(loop: ClosedLoop, name: str) -> np.ndarray:
    return loop.channel(name)


def first_time(loop: ClosedLoop, mask: np.ndarray, after: float = -np.inf) -> float | None:
    """First recorded time at which ``mask`` holds, at or after ``after``."""
    t = times(loop)
    idx = np.nonzero(mask & (t >= after))[0]
    return float(t[idx[0]]) if len(idx) else None


def flag_set(loop: ClosedLoop, flags_channel: str, mask: int) -> np.ndarray:
    return (channel(loop, flags_channel).astype(np.int64) & mask) != 0


def value_at(loop: ClosedLoop, name: str, t: float) -> float:
    """Value of a channel in force at time ``t`` (the last sample at or before it)."""
    ts = times(loop)
    i = int(np.searchsorted(ts, t + 1e-9, side="right")) - 1
    return float(channel(loop, name)[max(i, 0)])


def violation_start(loop: ClosedLoop, beyond: np.ndarray, t_event: float) -> float | None:
    """Start of the uninterrupted violation that ended in the event at ``t_event``.

    Measured from the last sample inside the limit before the event, so that noise
    crossing the limit earlier does not count against the module.
    """
    t = times(loop)
    upto = np.nonzero(t <= t_event + 1e-9)[0]
    if not len(upto):
        return None
    b = beyond[: upto[-1] + 1]
    inside = np.nonzero(~b)[0]
    start = inside[-1] + 1 if len(inside) else 0
    return float(t[start]) if start < len(b) and b[start] else None


def settle(loop: ClosedLoop, seconds: float = 0.5) -> None:
    loop.run(seconds)


def close_hv(h: Harness, loop: ClosedLoop, timeout_s: float = 8.0) -> float | None:
    """Request the HV path closed and run until the contactor manager reports closed."""
    closed = h.enum("contactor_state", "closed")
    loop.set("close_request", True)
    return loop.run(timeout_s, until=lambda pool: int(pool["contactor_state"]) == closed)


def open_request_path(h: Harness, loop: ClosedLoop) -> None:
    loop.set("close_request", False)


def reset_faults(loop: ClosedLoop, pulse_s: float = 0.05) -> float:
    """A fault reset request pulse; returns its start time."""
    t0 = loop.t
    loop.set("fault_reset_request", True)
    loop.run(pulse_s)
    loop.set("fault_reset_request", False)
    return t0


TRUTH_OF = {"cell_voltage_V": "true_cell_voltage_V",
            "cell_temperature_degC": "true_cell_temperature_degC"}


def true_value(loop: ClosedLoop, signal: str, index: int) -> float:
    """The plant's true value behind a measured array signal (what an offset adds to)."""
    return float(np.asarray(loop.bench.truth()[TRUTH_OF[signal]])[index])


def ramp_measurement(loop: ClosedLoop, signal: str, index: int | None, target: float,
                     margin: float, rate_per_s: float, hold_value: float) -> float:
    """Offset the measured ``signal`` so it sits ``margin`` before ``target``, then ramp it
    across at ``rate_per_s`` (signed). Returns the ramp's start time."""
    t0 = loop.t
    start_offset = (target - margin * np.sign(rate_per_s)) - hold_value
    loop.bench.inject(Fault(signal=signal, kind="offset", index=index, start_s=t0,
                            value=float(start_offset)))
    loop.bench.inject(Fault(signal=signal, kind="ramp", index=index, start_s=t0,
                            rate=float(rate_per_s)))
    return t0


def current_ramp(start_A: float, rate_A_per_s: float, t0: float) -> Callable[[ClosedLoop], None]:
    """A scenario driver: the demanded pack current follows a ramp from ``t0``."""

    def drive(loop: ClosedLoop) -> None:
        loop.bench.set_load_current(start_A + rate_A_per_s * max(0.0, loop.t - t0))

    return drive


@dataclass(frozen=True)
class Trip:
    """What a limit sweep observed."""

    t_start: float | None  # first sample of the violation that led to the fault
    t_fault: float | None  # first step with the fault flag set
    value_at_delay: float | None  # measured quantity in force at t_fault − declared delay

    def events(self) -> dict[str, float]:
        ev = {}
        if self.t_start is not None:
            ev["limit exceeded"] = self.t_start
        if self.t_fault is not None:
            ev["fault latched"] = self.t_fault
        return ev


def observe_trip(loop: ClosedLoop, quantity: np.ndarray, limit: float, direction: int,
                 fault_mask: int, delay_s: float, after: float,
                 flags_channel: str = "safety_fault_flags") -> Trip:
    """Find the fault and the violation behind it for a quantity swept across ``limit``."""
    beyond = quantity > limit if direction > 0 else quantity < limit
    t_fault = first_time(loop, flag_set(loop, flags_channel, fault_mask), after=after)
    if t_fault is None:
        return Trip(None, None, None)
    t_start = violation_start(loop, beyond, t_fault)
    t = times(loop)
    i = int(np.searchsorted(t, t_fault - delay_s + 1e-9, side="right")) - 1
    return Trip(t_start, t_fault, float(quantity[max(i, 0)]))


def measured_quantity(loop: ClosedLoop, name: str) -> np.ndarray:
    """A supervised quantity as the module saw it, from the standard trace channels."""
    if name == "charge_current":
        return np.maximum(channel(loop, "pack_current_A"), 0.0)
    if name == "discharge_current":
        return np.maximum(-channel(loop, "pack_current_A"), 0.0)
    return channel(loop, name)


def any_true(values: Any) -> bool:
    return bool(np.any(values))
