"""Scenario steps shared by the pytest suite and the Gherkin suite.

Each step is one sentence of a test procedure expressed over the harness API: put the
bench in a state, drive a quantity across a limit, find when the module reacted. Steps
measure; they never judge — judging is :meth:`Harness.judge`, against the spec.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# the fault kinds the test cases inject, as S.<kind>
from ..bench import Dropout as Dropout
from ..bench import FailToClose as FailToClose
from ..bench import Offset as Offset
from ..bench import OpenResistor as OpenResistor
from ..bench import OpenWire as OpenWire
from ..bench import Ramp as Ramp
from ..bench import Stuck as Stuck
from ..bench import Welded as Welded
from ..bench.clock import TIME_EPS_S
from ..harness.context import Harness, PreconditionFailed, Stimulus
from ..harness.loop import ClosedLoop, TraceChannel

SUPERVISOR = "safety_supervisor"
CONTACTORS = "contactor_manager"


def times(loop: ClosedLoop) -> np.ndarray:
    return np.asarray(loop.t_s)


def own_steps(loop: ClosedLoop, component: str) -> np.ndarray:
    """The indices of the recorded steps at which ``component`` was stepped (every step of
    its own period, from the loop's first)."""
    return np.arange(0, len(loop.t_s), loop.every.get(component, 1))


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
    i = int(np.searchsorted(ts, t + TIME_EPS_S, side="right")) - 1
    return float(channel(loop, name)[max(i, 0)])


def violation_start(loop: ClosedLoop, beyond: np.ndarray, t_event: float) -> float | None:
    """Start of the uninterrupted violation that ended in the event at ``t_event``.

    Measured from the last sample inside the limit before the event, so that noise
    crossing the limit earlier does not count against the module.
    """
    t = times(loop)
    upto = np.nonzero(t <= t_event + TIME_EPS_S)[0]
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


def hv_closed(h: Harness, loop: ClosedLoop, timeout_s: float = 8.0) -> float:
    """A precondition: the HV path closes on request (else the verdict is inconclusive)."""
    t = close_hv(h, loop, timeout_s)
    if t is None:
        raise PreconditionFailed(f"the HV path did not close within {timeout_s:g} s of a close "
                                 f"request; seen instead: {seen(loop)}", blame="OBSA-CONT-002")
    return t


#: what a precondition's message shows of the loop when it was not met
SEEN_SIGNALS = ("contactor_state", "contactor_fault_flags", "safety_state", "safety_fault_flags",
                "contactor_open_request")


def seen(loop: ClosedLoop, names: tuple[str, ...] = SEEN_SIGNALS) -> str:
    """The module's state in words, for a precondition that was not met."""
    parts = []
    for name in names:
        if name in loop.seen:
            value = loop.seen[name]
            parts.append(f"{name}={int(value):#x}" if name.endswith("_flags")
                         else f"{name}={value}")
    return ", ".join(parts) + f" at t={loop.t:.2f} s"


# ----------------------------------------------------------------------------- stimulus sampling
#: how many channels a test case stimulates besides the first and the last
SAMPLED_OTHERS = 2


def sample_indices(h: Harness, dimension: str, purpose: str,
                   others: int = SAMPLED_OTHERS) -> list[int]:
    """The channels of an array ``dimension`` ("cell", "temperature_sensor") a test case
    stimulates: the first, the last and ``others`` more drawn from the run's seed.

    A module that checks only some channels (the first slave, the first 16 sensors, never
    the last cell) cannot know which will be stimulated; the seed comes from the module's
    manifest and is printed, so the run can be reproduced.
    """
    return sample_list(h, int(h.session.dimensions.get(dimension, 0)), purpose, others)


def sample_list(h: Harness, n: int, purpose: str, others: int = SAMPLED_OTHERS) -> list[int]:
    """Positions in a list of ``n``: the first, the last and ``others`` seeded ones."""
    if n <= 0:
        return []
    rng = seeded_rng(h, purpose)
    chosen = {0, n - 1}
    middle = np.arange(1, n - 1)
    if len(middle):
        chosen.update(int(i) for i in rng.choice(middle, size=min(others, len(middle)),
                                                 replace=False))
    return sorted(chosen)


def seeded_index(h: Harness, dimension: str, purpose: str) -> int:
    """One channel of ``dimension`` drawn from the run's seed (any of them, ends included)."""
    n = int(h.session.dimensions.get(dimension, 0))
    if n <= 0:
        raise KeyError(f"the module declares no '{dimension}' channels")
    return int(seeded_rng(h, purpose).integers(n))


def seeded_rng(h: Harness, purpose: str) -> np.random.Generator:
    """A generator of the run's seed, one stream per purpose (a test case and what it draws)."""
    return np.random.default_rng([h.seed, zlib.crc32(purpose.encode())])


def signal_dimension(h: Harness, signal: str) -> str:
    """The array dimension of a dictionary signal ("cell" for cell_voltage_V)."""
    dim = h.spec.signals[signal].dimension
    if dim is None:
        raise KeyError(f"signal {signal} is not an array")
    return str(dim)


def channel_label(signal: str, index: int) -> str:
    """How a report names one channel: "cell 17", "temperature sensor 3" (1-based)."""
    what = "cell" if signal.startswith("cell_voltage") else "temperature sensor"
    return f"{what} {index + 1}"


def open_requested_on_closed_path(h: Harness, loop: ClosedLoop) -> float:
    """Close the HV path (a precondition), let it settle 0.5 s, then raise
    contactor_open_request with close_request still raised; returns the request's time."""
    settle(loop, 0.2)
    hv_closed(h, loop)
    loop.run(0.5)
    t_req = loop.t
    loop.set("contactor_open_request", True)
    return t_req


def judge_each_possible(h: Harness, requirement: str,
                        makers: Sequence[tuple[str, Callable[[], Stimulus]]],
                        message: str) -> None:
    """Judge ``requirement`` on every stimulus that can be created (see
    :meth:`Harness.judge_each`). One whose precondition fails — a behaviour another
    requirement judges — is left out and named in the message; when none can be created, the
    first precondition stands (inconclusive, naming what it depends on)."""
    stimuli: list[Stimulus] = []
    skipped: list[str] = []
    first: PreconditionFailed | None = None
    for label, make in makers:
        try:
            stimuli.append(make())
        except PreconditionFailed as exc:
            skipped.append(f"{label} ({exc})")
            first = first or exc
    if not stimuli:
        assert first is not None  # makers is never empty
        raise first
    note = f"; not judged on: {'; '.join(skipped)}" if skipped else ""
    h.judge_each(requirement, stimuli, message=message + note)


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
    loop.bench.inject(Offset(signal=signal, index=index, start_s=t0,
                            value=float(start_offset)))
    loop.bench.inject(Ramp(signal=signal, index=index, start_s=t0,
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
    #: the fault latched before the quantity was beyond the limit: the module tripped at a
    #: threshold on the safe side of it (how far is the threshold criterion's business)
    before_limit: bool = False

    def reaction_s(self, step_s: float) -> float | None:
        """Time from the violation's first sample to the latched fault, minus one step
        period of timing resolution; 0 for a fault that latched before the limit was
        crossed (it cannot be late); None when the fault was not observed."""
        if self.t_fault is None:
            return None
        if self.before_limit:
            return 0.0
        if self.t_start is None:
            return None
        return self.t_fault - self.t_start - step_s

    def events(self) -> dict[str, float]:
        ev = {}
        if self.t_start is not None:
            ev["limit exceeded"] = self.t_start
        if self.t_fault is not None:
            ev["fault latched" + (" (before the limit)" if self.before_limit else "")] = (
                self.t_fault)
        return ev


def observe_trip(loop: ClosedLoop, quantity: np.ndarray, limit: float, direction: int,
                 fault_mask: int, delay_s: float, after: float,
                 flags_channel: str = "safety_fault_flags") -> Trip:
    """Find the fault and the violation behind it for a quantity swept across ``limit``."""
    t_fault = first_time(loop, flag_set(loop, flags_channel, fault_mask), after=after)
    return trip_at(loop, quantity, limit, direction, t_fault, delay_s, after)


def trip_at(loop: ClosedLoop, quantity: np.ndarray, limit: float, direction: int,
            t_event: float | None, delay_s: float, after: float, lag_s: float = 0.0) -> Trip:
    """The violation behind a reaction seen at ``t_event`` (None: not seen), for a quantity
    swept across ``limit``; ``lag_s``: how long after the module's decision the reaction
    shows (a switch follows its command one step later)."""
    if t_event is None:
        return Trip(None, None, None)
    beyond = quantity > limit if direction > 0 else quantity < limit
    decided = t_event - lag_s
    t_start = violation_start(loop, beyond, decided)
    t = times(loop)
    seen_late = float(getattr(loop, "observation_lag_s", 0.0))
    if t_start is None and seen_late > 0.0:
        # seen over a bus up to a frame period after the decision: the reaction (the path
        # opened on an over-current) may have ended the violation before it showed
        ended = np.nonzero(beyond & (t >= decided - seen_late - TIME_EPS_S)
                           & (t <= decided + TIME_EPS_S))[0]
        if len(ended):
            t_start = violation_start(loop, beyond, float(t[ended[-1]]))
    i = int(np.searchsorted(t, decided - delay_s + TIME_EPS_S, side="right")) - 1
    before = t_start is None and not bool(np.any(beyond[(t >= after) & (t <= t_event)]))
    return Trip(t_start, t_event, float(quantity[max(i, 0)]), before_limit=before)


def lockout_trip(h: Harness, loop: ClosedLoop, index: int) -> Trip:
    """Sweep cell ``index`` down across the declared deep_discharge_voltage_V at 10 mV/s,
    observe the deep-discharge lockout, then bring the cell back to normal (its sensor fault
    removed, two cell-monitor cycles run)."""
    deep = float(h.param(SUPERVISOR, "deep_discharge_voltage_V"))
    delay = float(h.param(SUPERVISOR, "deep_discharge_delay_s"))
    mask = h.bit(SUPERVISOR, "deep_discharge")
    hold = true_value(loop, "cell_voltage_V", index)
    t0 = ramp_measurement(loop, "cell_voltage_V", index, deep, 0.02, -0.01, hold)
    loop.run(0.02 / 0.01 + delay + 1.5, until=flags_have(mask))
    loop.run(0.2)
    trip = observe_trip(loop, channel(loop, "cell_voltage_min_V"), deep, -1, mask, delay,
                        after=t0)
    loop.bench.clear_faults()
    loop.run(2 * float(h.param("cell_monitor", "measurement_cycle_s")) + 0.2)
    return trip


def flags_have(mask: int, signal: str = "safety_fault_flags"
               ) -> Callable[[Mapping[str, Any]], bool]:
    """A stop condition for :meth:`ClosedLoop.run`: any bit of ``mask`` set in ``signal``."""
    return lambda pool: int(pool[signal]) & mask != 0


def response(loop: ClosedLoop, condition: np.ndarray, flag: np.ndarray, after: float,
             labels: tuple[str, str]) -> tuple[float | None, dict[str, float]]:
    """Delay (≥ 0) from the first step at which ``condition`` holds to the first step with
    ``flag``, and both times as report events named by ``labels``."""
    t_cond = first_time(loop, condition, after=after)
    t_flag = first_time(loop, flag, after=after)
    events = {label: t for label, t in zip(labels, (t_cond, t_flag), strict=True) if t is not None}
    if t_cond is None or t_flag is None:
        return None, events
    return max(0.0, t_flag - t_cond), events


def measured_quantity(loop: ClosedLoop, name: str) -> np.ndarray:
    """A supervised quantity as the module saw it, from the standard trace channels."""
    if name == "charge_current":
        return np.maximum(channel(loop, "pack_current_A"), 0.0)
    if name == "discharge_current":
        return np.maximum(-channel(loop, "pack_current_A"), 0.0)
    return channel(loop, name)


# ----------------------------------------------------------------------------- procedures
# Whole sentences of the test procedures, shared by the pytest cases and the Gherkin steps so
# that both measure the same quantities the same way.

#: a sweep starts one margin before the limit and goes on to four margins beyond it, so that
#: a module tripping late shows by how much
SWEEP_MARGINS = 5

#: far enough above the MSL that a module off by tens of mV still trips
TRIP_ABOVE_V = 0.1


def start(h: Harness, mode: str, current_A: float = 10.0, **bench: Any) -> ClosedLoop:
    """A settled closed loop with ideal sensors: at rest (``mode`` "rest"), or with the HV
    path closed and ``current_A`` flowing ("charge" or "discharge")."""
    loop = h.run(ideal_sensors=True, **bench)
    settle(loop, 0.3)
    if mode != "rest":
        hv_closed(h, loop)
        loop.bench.set_load_current(current_A if mode == "charge" else -current_A)
        settle(loop, 0.5)
    return loop


@dataclass(frozen=True)
class Sweep:
    """A measured quantity ramped across a limit, starting ``margin`` before it."""

    t0: float
    index: int
    limit: float
    direction: int  # +1 upwards, −1 downwards
    rate_per_s: float  # magnitude
    margin: float

    def duration_s(self, delay_s: float) -> float:
        """How long to run: the whole sweep, the declared delay and half a second."""
        return SWEEP_MARGINS * self.margin / self.rate_per_s + delay_s + 0.5


def swept_index(loop: ClosedLoop, signal: str) -> int:
    """The channel a sweep drives when none is chosen: a cell a third into the string, or
    the second temperature sensor (the first on a single-sensor pack)."""
    if signal == "cell_voltage_V":
        return loop.bench.config.n_cells // 3
    return min(1, loop.bench.config.n_temp_sensors - 1)


def sweep_measurement(loop: ClosedLoop, signal: str, limit: float, direction: int,
                      rate_per_s: float, margin: float, index: int | None = None) -> Sweep:
    """Start sweeping one channel of the measured ``signal`` across ``limit`` (``index``,
    else :func:`swept_index`)."""
    index = swept_index(loop, signal) if index is None else index
    hold = true_value(loop, signal, index)
    t0 = ramp_measurement(loop, signal, index, limit, margin, direction * rate_per_s, hold)
    return Sweep(t0, index, limit, direction, rate_per_s, margin)


def run_until_flag(loop: ClosedLoop, flags_signal: str, mask: int, duration_s: float,
                   every: Callable[[ClosedLoop], None] | None = None) -> float | None:
    """Run until ``mask`` is set in ``flags_signal`` (at most ``duration_s``)."""
    return loop.run(duration_s, every=every, until=flags_have(mask, flags_signal))


def trip_measurements(trip: Trip, limit: float, step_period_s: float,
                      error_name: str) -> dict[str, float | None]:
    """What an MSL requirement's criteria name: the threshold error and the reaction time
    (less one step period of timing resolution)."""
    return {
        error_name: None if trip.value_at_delay is None else abs(trip.value_at_delay - limit),
        "reaction_time_s": trip.reaction_s(step_period_s),
    }


def latch_overvoltage(h: Harness, loop: ClosedLoop, index: int = 0,
                      above: float = TRIP_ABOVE_V) -> float:
    """A precondition: the over-voltage fault latched by a measured cell voltage ``above``
    the MSL (a module that never latches it fails OBSA-SAFE-001, and the test cases that
    need a latched fault are inconclusive). Returns the time it latched."""
    msl = float(h.param(SUPERVISOR, "cell_voltage_max_msl_V"))
    mask = h.bit(SUPERVISOR, "cell_overvoltage")
    hold = true_value(loop, "cell_voltage_V", index)
    loop.bench.inject(Offset(signal="cell_voltage_V", index=index,
                            start_s=loop.t, value=msl + above - hold))
    delay = float(h.param(SUPERVISOR, "cell_voltage_max_fault_delay_s"))
    t = run_until_flag(loop, "safety_fault_flags", mask, delay + 1.0)
    if t is None:
        raise PreconditionFailed(
            f"awaited the cell_overvoltage fault within {delay + 1.0:g} s of "
            f"{channel_label('cell_voltage_V', index)} at {above:g} V above the declared MSL; "
            f"seen instead: {seen(loop)}", blame="OBSA-SAFE-001")
    return t


def cleared_at(loop: ClosedLoop, flags_channel: str, mask: int, after: float) -> float | None:
    """First time at or after ``after`` that the fault flag is clear."""
    return first_time(loop, ~flag_set(loop, flags_channel, mask), after=after)


def reset_and_watch(loop: ClosedLoop, mask: int, watch_s: float,
                    flags_channel: str = "safety_fault_flags") -> tuple[float, float | None]:
    """A fault reset request pulse, then ``watch_s`` of running: the reset's time and the
    first time ``mask`` is clear after it (None: it stayed set)."""
    t_reset = reset_faults(loop)
    loop.run(watch_s)
    return t_reset, cleared_at(loop, flags_channel, mask, after=t_reset)


@dataclass(frozen=True)
class Closing:
    """What a close request on a healthy HV circuit showed."""

    t_request: float
    t_closed: float | None  # contactor_state reached closed
    t_main_positive: float | None  # main positive first commanded closed
    voltage_difference_V: float | None  # |pack − link| when main positive was commanded
    precharge_open: int | None  # 1: precharge commanded open 0.1 s after closed
    order_kept: int | None  # 1: main negative, precharge, main positive, each a later step

    def events(self) -> dict[str, float]:
        ev = {"close request": self.t_request}
        if self.t_main_positive is not None:
            ev["main positive commanded"] = self.t_main_positive
        if self.t_closed is not None:
            ev["closed"] = self.t_closed
        return ev


def close_through_precharge(h: Harness, loop: ClosedLoop) -> Closing:
    """Request the HV path closed, run 0.5 s beyond, and measure how it closed."""
    t_req = loop.t
    t_closed = close_hv(h, loop)
    loop.run(0.5)
    t_pos = first_time(loop, channel(loop, "main_positive_close_cmd") > 0.5, after=t_req)
    diff = None
    if t_pos is not None:
        diff = abs(value_at(loop, "pack_voltage_V", t_pos)
                   - value_at(loop, "link_voltage_V", t_pos))
    precharge_open = None
    if t_closed is not None:
        precharge_open = int(value_at(loop, "precharge_close_cmd", t_closed + 0.1) < 0.5)
    neg, pre, pos = (first_time(loop, channel(loop, f"{c}_close_cmd") > 0.5, after=t_req)
                     for c in ("main_negative", "precharge", "main_positive"))
    order_kept = None
    if t_closed is not None:
        order_kept = int(neg is not None and pre is not None and pos is not None
                         and neg < pre < pos)
    return Closing(t_req, t_closed, t_pos, diff, precharge_open, order_kept)


# ----------------------------------------------------------------------------- fault memory
DTC_FIELDS = ("dtc_status", "dtc_occurrences", "dtc_first_time_s", "dtc_last_time_s")


def dtc_channels(row: int, tag: str) -> list[TraceChannel]:
    """Trace channels ``<tag>_<field>`` of one row of the fault memory."""

    def cell(name: str) -> Callable[[dict[str, Any]], float]:
        return lambda pool: float(np.asarray(pool[name])[row])

    return [TraceChannel(f"{tag}_{n}", "1" if n in ("dtc_status", "dtc_occurrences") else "s",
                         read=cell(n))
            for n in DTC_FIELDS]


def pulse_flag(loop: ClosedLoop, flags_signal: str, mask: int, high_s: float,
               low_s: float) -> float:
    """Raise ``mask`` in ``flags_signal`` for ``high_s``, then lower it for ``low_s``;
    returns the rising time."""
    t = loop.t
    loop.set(flags_signal, int(loop.seen[flags_signal]) | mask)
    loop.run(high_s)
    loop.set(flags_signal, int(loop.seen[flags_signal]) & ~mask)
    loop.run(low_s)
    return t


def dtc_activation(loop: ClosedLoop, tag: str, active: int,
                   rises: list[float]) -> dict[str, float | None]:
    """The slowest activation after a flag rise, and the occurrence counter's error."""
    status = channel(loop, f"{tag}_dtc_status")
    delays = []
    for r in rises:
        t_act = first_time(loop, status == active, after=r)
        delays.append(None if t_act is None else t_act - r)
    occurrences = channel(loop, f"{tag}_dtc_occurrences")[-1]
    return {
        "activation_delay_s": None if None in delays else max(delays),  # type: ignore[type-var]
        "count_error": abs(occurrences - len(rises)),
    }
