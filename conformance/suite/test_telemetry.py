"""Conformance test cases of the telemetry (area CONN, component telemetry) of a gateway.

The network link and the telemetry run in closed loop on a bench stepped at the telemetry's
step period; the bench takes the link down and up (its uplink model, the plant signal
``true_uplink_available`` at the network link's input) and the telemetry is judged against
the link as it saw it (``uplink_connected``). Every input of a record changes on every step:
the harness writes seeded values of the pack's state of charge and health, current limits
and states, and the bench's sensors deliver noisy pack and cell readings, so that a record
mixing instants shows.

What was sampled is known from the declared period: the first record's time stamp starts a
grid of publish_period_s (OBSA-CONN-001 keeps every record within one step of it), and every
other record belongs to the grid point nearest its time stamp. A record sampled but never
published is a grid point without a record. The outages are drawn from the run's seed and
scaled by the declarations: shorter than the declared buffer for OBSA-CONN-003, a burst of
one- to three-step outages, and longer than the buffer by a seeded number of records for
OBSA-CONN-005; after each the link stays up until the telemetry reports an empty backlog.
For OBSA-CONN-007 the bench cuts the module's power in the middle of an outage and starts it
again (lifecycle rule power_loss): the records sampled before the cut are known from the grid
of the first power-on period and from the backlog the telemetry reported before the cut.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from conformance.bench import Noise
from conformance.harness.context import Harness
from conformance.harness.loop import ClosedLoop, TraceChannel
from conformance.suite import steps as S

TEL = "telemetry"
NET = "network_link"
req = pytest.mark.requirement

#: field → the trace channel of the input it copies (the cell arrays: their extremes, as the
#: standard channels reduce them)
FIELD_INPUTS = {
    "telemetry_pack_soc": "pack_soc",
    "telemetry_soh_capacity": "soh_capacity",
    "telemetry_pack_voltage_V": "pack_voltage_V",
    "telemetry_pack_current_A": "pack_current_A",
    "telemetry_cell_voltage_min_V": "cell_voltage_min_V",
    "telemetry_cell_voltage_max_V": "cell_voltage_max_V",
    "telemetry_cell_temperature_min_degC": "cell_temperature_min_degC",
    "telemetry_cell_temperature_max_degC": "cell_temperature_max_degC",
    "telemetry_safety_state": "safety_state",
    "telemetry_contactor_state": "contactor_state",
    "telemetry_charge_current_limit_A": "charge_current_limit_A",
    "telemetry_discharge_current_limit_A": "discharge_current_limit_A",
}
#: the inputs the harness writes on every step (the rest are the bench's readings)
WRITTEN = ("pack_soc", "soh_capacity", "charge_current_limit_A", "discharge_current_limit_A")
ENUMS = ("safety_state", "contactor_state")
#: chance per step that a state changes
STATE_CHANGE = 0.3
#: noise of the bench's readings (V, K, A, V): inside every range at the bench's pack
NOISE = {"cell_voltage_V": 0.01, "cell_temperature_degC": 0.5, "pack_current_A": 2.0,
         "pack_voltage_V": 0.5}
#: the link-up run: this many records, from a seeded late clock start
UP_RECORDS = 40
LATE_START_S = (1.0e5, 1.0e8)
#: the link is up this many periods before an outage and after a drained backlog
SETTLE_PERIODS = (2.0, 4.0)
#: the short outage lasts this share of the declared buffer (in records), at most
#: SHORT_MAX_RECORDS records
SHORT_SHARE = (0.3, 0.9)
SHORT_MAX_RECORDS = 400
#: the burst: outages and link-up intervals of this many steps
BURST_OUTAGES = 12
BURST_STEPS = (1, 3)
#: the long outage outlasts the buffer by this share of it (at least two records)
OVERFLOW_SHARE = (0.1, 0.5)
#: the bench runs at most this many steps for one long outage (and for the power-loss one),
#: about 80 s with a module in a child process (0.4 ms a step measured with the reference
#: gateway, its backlog then in memory); a declared buffer that takes longer to fill leaves
#: OBSA-CONN-005 inconclusive, saying so, and so does OBSA-CONN-007 for a declared period
MAX_OVERFLOW_STEPS = 200_000
#: after an outage the backlog must drain within this many steps per buffered record (it
#: needs one: OBSA-CONN-006) plus DRAIN_EXTRA_PERIODS periods, else the run goes on
DRAIN_STEPS_PER_RECORD = 3
DRAIN_EXTRA_PERIODS = 5.0
#: the power-loss outage leaves room in the declared buffer for this many records more than
#: it lasts periods: the first record after the restart (a new grid), the step the link
#: returns in (OBSA-CONN-005) and one for the rounding of the outage's ends
POWER_SPARE_RECORDS = 3
#: the power is cut after this share of the power-loss outage
CUT_SHARE = (0.3, 0.7)


# ----------------------------------------------------------------------------- the runs
def _channels(h: Harness) -> list[TraceChannel]:
    outputs = [TraceChannel(p.signal, h.spec.signals[p.signal].unit, p.signal)
               for p in h.spec.interfaces[TEL].outputs]
    return outputs + [TraceChannel("uplink_connected", "1", "uplink_connected"),
                      TraceChannel("pack_soc", "1", "pack_soc"),
                      TraceChannel("soh_capacity", "1", "soh_capacity")]


class _Stimulus:
    """Writes a seeded new value of every harness-driven input before each step."""

    def __init__(self, h: Harness, rng: np.random.Generator) -> None:
        self.rng = rng
        self.ranges = {}
        for s in WRITTEN:
            rng_ = h.spec.signals[s].range
            assert rng_ is not None and rng_.min is not None and rng_.max is not None
            self.ranges[s] = (float(rng_.min), min(float(rng_.max), float(rng_.min) + 1000.0))
        self.enums = {}
        for s in ENUMS:
            enum = h.spec.signals[s].enum
            assert enum is not None
            self.enums[s] = [v.value for v in h.spec.enums[enum].values]

    def __call__(self, loop: ClosedLoop) -> None:
        rng = self.rng
        for s, (lo, hi) in self.ranges.items():
            loop.set(s, float(rng.uniform(lo, hi)))
        for s, values in self.enums.items():
            if rng.random() < STATE_CHANGE:
                loop.set(s, int(rng.choice(values)))


@dataclass
class Run:
    """One run of the network link and the telemetry, and what it published."""

    loop: ClosedLoop
    period_s: float
    step_s: float
    #: (first step with the link down, first step with it up again: inf if never) as the
    #: telemetry saw it
    outages: list[tuple[float, float]] = field(default_factory=list)
    #: what the test case did, in words
    done: list[str] = field(default_factory=list)

    def arrays(self) -> dict[str, np.ndarray]:
        lp = self.loop
        names = ["telemetry_record_published", "telemetry_record_time_s",
                 "telemetry_backlog_records", "telemetry_dropped_records", "uplink_connected"]
        return {n: lp.channel(n) for n in names} | {"t": np.asarray(lp.t_s, dtype=float)}

    @property
    def published(self) -> np.ndarray:
        """The steps that published a record, in order."""
        return np.flatnonzero(self.loop.channel("telemetry_record_published") > 0.5)

    @property
    def stamps(self) -> np.ndarray:
        """The time stamps of the published records, in publication order."""
        return self.loop.channel("telemetry_record_time_s")[self.published]


def _start(h: Harness, purpose: str, **bench: Any) -> tuple[Run, _Stimulus]:
    rng = S.seeded_rng(h, purpose)
    step = h.step_period(TEL)
    loop = h.run(components=[NET, TEL], channels=_channels(h), ideal_sensors=True, dt_s=step,
                 **bench)
    for signal, std in NOISE.items():
        loop.bench.inject(Noise(signal=signal, std=std, start_s=loop.t))
    run = Run(loop, float(h.param(TEL, "publish_period_s")), step)
    return run, _Stimulus(h, rng)


def _steps(run: Run, n: int, stim: _Stimulus) -> None:
    for _ in range(n):
        stim(run.loop)
        run.loop.step()


def _seconds(run: Run, seconds: float, stim: _Stimulus) -> None:
    _steps(run, run.loop.bench.clock.steps_for(seconds), stim)


def _outage(run: Run, steps: int, stim: _Stimulus) -> None:
    """Take the link down for ``steps`` bench steps from the next step."""
    loop = run.loop
    start = loop.t
    end = start + steps * run.step_s
    loop.bench.uplink.outage(start - 0.5 * run.step_s, end - 0.5 * run.step_s)
    _steps(run, steps, stim)


def _drain(run: Run, stim: _Stimulus, settle: bool = True) -> None:
    """Keep the link up until the telemetry reports an empty backlog (at most the time one
    record per DRAIN_STEPS_PER_RECORD steps needs), then SETTLE_PERIODS more (``settle``)."""
    loop = run.loop
    backlog = int(loop.seen["telemetry_backlog_records"])
    limit = DRAIN_STEPS_PER_RECORD * max(backlog, 0) + loop.bench.clock.steps_for(
        DRAIN_EXTRA_PERIODS * run.period_s)
    for _ in range(limit):
        if int(loop.seen["telemetry_backlog_records"]) == 0:
            break
        _steps(run, 1, stim)
    if settle:
        _seconds(run, float(stim.rng.uniform(*SETTLE_PERIODS)) * run.period_s, stim)


def _seen_outages(run: Run) -> None:
    """The outages as the telemetry saw them (uplink_connected false)."""
    a = run.arrays()
    down = a["uplink_connected"] < 0.5
    t = a["t"]
    edges = np.flatnonzero(np.diff(np.concatenate(([0], down.astype(int), [0]))))
    run.outages = [(float(t[s]), float(t[e]) if e < len(t) else math.inf)
                   for s, e in zip(edges[::2], edges[1::2], strict=True)]


def _link_up_run(h: Harness) -> Run:
    """UP_RECORDS declared periods with the link up, from a seeded late clock."""
    start = float(S.seeded_rng(h, "telemetry late start").uniform(*LATE_START_S))
    run, stim = _start(h, "telemetry link up", clock_start_s=start)
    _seconds(run, UP_RECORDS * run.period_s, stim)
    run.done.append(f"the link up for {UP_RECORDS} periods from t = {start:.1f} s")
    _seen_outages(run)
    return run


def _short_outage_steps(h: Harness) -> int:
    """The most whole steps an outage may last to be shorter than the declared buffer
    (buffer_capacity_records × publish_period_s); 0 when not even one step is."""
    buffer_s = int(h.param(TEL, "buffer_capacity_records")) * float(
        h.param(TEL, "publish_period_s"))
    return max(0, math.ceil(buffer_s / h.step_period(TEL) - 1e-9) - 1)


def _short_outages_run(h: Harness) -> Run:
    """An outage of a seeded share of the declared buffer, then a burst of outages of one to
    three steps (each shorter than the buffer too), each followed by the drain."""
    run, stim = _start(h, "telemetry short outages")
    capacity = int(h.param(TEL, "buffer_capacity_records"))
    longest = _short_outage_steps(h)
    _seconds(run, float(stim.rng.uniform(*SETTLE_PERIODS)) * run.period_s, stim)
    records = float(stim.rng.uniform(*SHORT_SHARE)) * min(capacity, SHORT_MAX_RECORDS)
    steps = min(longest, max(1, int(records * run.period_s / run.step_s)))
    _outage(run, steps, stim)
    run.done.append(f"an outage of {steps * run.step_s:.1f} s "
                    f"({steps * run.step_s / run.period_s:.1f} periods; the buffer holds "
                    f"{capacity})")
    _drain(run, stim)
    burst = (BURST_STEPS[0], min(BURST_STEPS[1], longest))
    for _ in range(BURST_OUTAGES):
        _outage(run, int(stim.rng.integers(burst[0], burst[1] + 1)), stim)
        _steps(run, int(stim.rng.integers(BURST_STEPS[0], BURST_STEPS[1] + 1)), stim)
        _drain(run, stim, settle=False)  # the next outage finds the buffer empty again
    run.done.append(f"{BURST_OUTAGES} outages of {burst[0]} to {burst[1]} steps, each after "
                    f"{BURST_STEPS[0]} to {BURST_STEPS[1]} steps up and an empty backlog")
    _drain(run, stim)
    _seen_outages(run)
    return run


def _short_refusal(h: Harness) -> str | None:
    """Why no outage on the bench is shorter than the declared buffer (None: one is)."""
    if _short_outage_steps(h) >= 1:
        return None
    return (f"the declared buffer_capacity_records {h.param(TEL, 'buffer_capacity_records')} "
            f"at publish_period_s {h.param(TEL, 'publish_period_s')} s lasts no longer than "
            f"one step of {h.step_period(TEL):g} s: no outage of whole steps is shorter")


def _overflow_steps(h: Harness) -> tuple[int, int]:
    """The records the long outage outlasts the buffer by, and its length in steps."""
    capacity = int(h.param(TEL, "buffer_capacity_records"))
    period = float(h.param(TEL, "publish_period_s"))
    rng = S.seeded_rng(h, "telemetry overflow length")
    extra = max(2, int(float(rng.uniform(*OVERFLOW_SHARE)) * capacity))
    return extra, math.ceil((capacity + extra) * period / h.step_period(TEL))


def _overflow_run(h: Harness) -> Run:
    """One outage longer than the declared buffer by a seeded number of records, then the
    drain."""
    run, stim = _start(h, "telemetry overflow")
    capacity = int(h.param(TEL, "buffer_capacity_records"))
    extra, steps = _overflow_steps(h)
    _seconds(run, float(stim.rng.uniform(*SETTLE_PERIODS)) * run.period_s, stim)
    _outage(run, steps, stim)
    run.done.append(f"an outage of {steps * run.step_s:.1f} s: the declared "
                    f"{capacity} records and {extra} more")
    _drain(run, stim)
    _seen_outages(run)
    return run


def _overflow_refusal(h: Harness) -> str | None:
    """Why the bench cannot run the long outage for the declared buffer (None: it can)."""
    _, steps = _overflow_steps(h)
    if steps <= MAX_OVERFLOW_STEPS:
        return None
    return (f"the declared buffer_capacity_records {h.param(TEL, 'buffer_capacity_records')} "
            f"at publish_period_s {h.param(TEL, 'publish_period_s')} s fills in "
            f"{steps} steps of {h.step_period(TEL):g} s; the bench runs at most "
            f"{MAX_OVERFLOW_STEPS} for one outage")


def _outage_runs(h: Harness) -> list[Run]:
    """The short outages run and the overflow run, those the declarations allow (one of the
    two always: a buffer too short for the first overflows in any outage)."""
    runs = []
    if _short_refusal(h) is None:
        runs.append(_short_outages_run(h))
    if _overflow_refusal(h) is None:
        runs.append(_overflow_run(h))
    if not runs:
        raise S.PreconditionFailed(f"{_overflow_refusal(h)}, and no outage is shorter")
    return runs


def _power_loss_steps(h: Harness) -> tuple[int, int]:
    """The fewest steps of the power-loss outage (a grid point one step inside its start and
    the cut, and a step after the restart) and the most (the declared buffer holds the
    outage's records and POWER_SPARE_RECORDS more)."""
    capacity = int(h.param(TEL, "buffer_capacity_records"))
    period, step = float(h.param(TEL, "publish_period_s")), h.step_period(TEL)
    fewest = math.ceil(period / step - 1e-9) + 4
    most = int(min(capacity - POWER_SPARE_RECORDS, SHORT_MAX_RECORDS) * period / step + 1e-9)
    return fewest, min(most, MAX_OVERFLOW_STEPS)


def _power_loss_refusal(h: Harness) -> str | None:
    """Why the declared buffer holds too few records for an outage across a restart."""
    fewest, most = _power_loss_steps(h)
    if fewest <= most or most == MAX_OVERFLOW_STEPS:
        return None
    return (f"the declared buffer_capacity_records {h.param(TEL, 'buffer_capacity_records')} "
            f"leaves no outage of at least one publish_period_s "
            f"({h.param(TEL, 'publish_period_s')} s) and two steps on either side of a "
            f"restart with room for {POWER_SPARE_RECORDS} records more")


@dataclass
class PowerLoss:
    """The power-loss run: the power-on periods before and after the cut."""

    before: Run
    after: Run
    #: the last step before the cut and the first after the restart
    last_s: float
    restart_s: float
    #: telemetry_backlog_records at the last step before the cut
    backlog: int


def _power_loss_run(h: Harness) -> PowerLoss:
    """An outage of a seeded share of the declared buffer; the module's power cut after a
    seeded share of it (CUT_SHARE) and restored at once (configured again, not reset); the
    rest of the outage, then the drain."""
    run, stim = _start(h, "telemetry power loss")
    fewest, most = _power_loss_steps(h)
    _seconds(run, float(stim.rng.uniform(*SETTLE_PERIODS)) * run.period_s, stim)
    steps = max(fewest, int(float(stim.rng.uniform(*SHORT_SHARE)) * most))
    before = min(steps - 1, max(fewest - 1, int(float(stim.rng.uniform(*CUT_SHARE)) * steps)))
    loop = run.loop
    start = loop.t
    loop.bench.uplink.outage(start - 0.5 * run.step_s, start + (steps - 0.5) * run.step_s)
    _steps(run, before, stim)
    last_s = float(loop.t_s[-1])
    backlog = int(loop.seen["telemetry_backlog_records"])
    after = Run(h.power_cycle(loop), run.period_s, run.step_s)
    restart_s = after.loop.t
    _steps(after, steps - before, stim)
    _drain(after, stim)
    length_s = steps * run.step_s
    run.done.append(f"an outage of {length_s:.1f} s ({length_s / run.period_s:.1f} "
                    f"periods; the buffer holds {h.param(TEL, 'buffer_capacity_records')}), the "
                    f"power cut after {before * run.step_s:.1f} s of it, with a backlog of "
                    f"{backlog}, and restored at once; the link up until the backlog drained")
    _seen_outages(run)
    _seen_outages(after)
    return PowerLoss(run, after, last_s, restart_s, backlog)


# ----------------------------------------------------------------------------- what was sampled
@dataclass
class Grid:
    """The declared sampling grid: the first record's time stamp plus whole periods."""

    t0: float
    period_s: float

    def slot(self, stamps: np.ndarray) -> np.ndarray:
        return np.rint((stamps - self.t0) / self.period_s).astype(np.int64)

    def error(self, stamps: np.ndarray) -> np.ndarray:
        return np.abs(stamps - self.t0 - self.slot(stamps) * self.period_s)

    def time(self, slots: np.ndarray) -> np.ndarray:
        return self.t0 + slots * self.period_s


def _grid(h: Harness, run: Run) -> Grid:
    """The grid of ``run``; PreconditionFailed when no record was published or a record
    lies off it by more than a step (OBSA-CONN-001's, whose verdict says why)."""
    stamps = run.stamps
    if not len(stamps) or not np.all(np.isfinite(stamps)):
        raise S.PreconditionFailed(f"the telemetry published {len(stamps)} records with finite "
                                   "time stamps: what it sampled cannot be told",
                                   blame="OBSA-CONN-001")
    grid = Grid(float(stamps[0]), run.period_s)
    err = grid.error(stamps)
    k = int(np.argmax(err))
    if err[k] > run.step_s * 1.5:
        raise S.PreconditionFailed(
            f"the record stamped {stamps[k]:.3f} s lies {err[k]:.3f} s off the declared "
            f"period's grid from the first record ({grid.t0:.3f} s): what was sampled cannot "
            "be told", blame="OBSA-CONN-001")
    return grid


def _in_outages(run: Run, times: np.ndarray, margin_s: float) -> np.ndarray:
    inside = np.zeros(len(times), dtype=bool)
    for a, b in run.outages:
        inside |= (times >= a - margin_s) & (times < b + margin_s)
    return inside


def _need_outage(run: Run) -> None:
    if not run.outages:
        raise S.PreconditionFailed("the network link reported the link up through every "
                                   "outage of the bench: the telemetry never saw one")


def _message(run: Run, extra: str = "") -> str:
    text = "; ".join(run.done)
    return f"{text}; {extra}" if extra else text


# ----------------------------------------------------------------------------- judging
def _content_errors(h: Harness, run: Run) -> tuple[int, float, str]:
    """The largest number of fields of one published record differing from the inputs at
    its time stamp by more than the field's resolution (all of them when no step was taken
    at the time stamp), its publication time and what differed."""
    loop = run.loop
    t = np.asarray(loop.t_s, dtype=float)
    steps = run.published
    stamps = run.stamps
    j = np.searchsorted(t, stamps - 1e-6)
    j = np.clip(j, 0, max(len(t) - 1, 0))
    taken = np.isfinite(stamps) & (np.abs(t[j] - stamps) <= 1e-6) & (j <= steps)
    bad = np.where(taken, 0, len(FIELD_INPUTS))
    which: dict[int, list[str]] = {}
    for out, inp in FIELD_INPUTS.items():
        res = h.spec.signals[out].resolution
        tol = (float(res) if res is not None else 0.0) * (1.0 + 1e-9) + 1e-12
        got = loop.channel(out)[steps]
        want = loop.channel(inp)[j]
        differs = taken & ~(np.abs(got - want) <= tol)
        bad = bad + differs
        for i in np.flatnonzero(differs)[:1]:
            which.setdefault(int(i), []).append(f"{out} {got[i]:.6g} (input {want[i]:.6g})")
    if not len(steps):
        return 0, math.nan, "no record published"
    i = int(np.argmax(bad))
    what = ", ".join(which.get(i, [])) or ("no step at its time stamp" if not taken[i] else "")
    return int(bad[i]), float(t[steps[i]]), (f"record stamped {stamps[i]:.3f} s: {what}"
                                             if bad[i] else "")


def _out_of_order(run: Run) -> tuple[int, float]:
    stamps = run.stamps
    back = ~(stamps[1:] > stamps[:-1]) if len(stamps) > 1 else np.zeros(0, dtype=bool)
    t = np.asarray(run.loop.t_s, dtype=float)[run.published]
    first = float(t[1:][back][0]) if back.any() else math.nan
    return int(np.count_nonzero(back)), first


def _idle_steps(run: Run) -> tuple[int, float]:
    a = run.arrays()
    up = a["uplink_connected"] > 0.5
    waiting = ~(a["telemetry_backlog_records"] <= 0)
    idle = up & waiting & ~(a["telemetry_record_published"] > 0.5)
    first = float(a["t"][idle][0]) if idle.any() else math.nan
    return int(np.count_nonzero(idle)), first


def _published_while_down(run: Run) -> tuple[int, float]:
    a = run.arrays()
    bad = (a["uplink_connected"] < 0.5) & (a["telemetry_record_published"] > 0.5)
    first = float(a["t"][bad][0]) if bad.any() else math.nan
    return int(np.count_nonzero(bad)), first


def _events(**times: float) -> dict[str, float]:
    return {k.replace("_", " "): v for k, v in times.items() if math.isfinite(v)}


# ----------------------------------------------------------------------------- test cases
@req("OBSA-CONN-001")
def test_publish_period(obsa: Harness) -> None:
    """UP_RECORDS periods with the link up from a seeded late clock: the intervals between
    consecutive records, each record's distance from the grid of the declared period and the
    periods with no record or more than one."""
    run = _link_up_run(obsa)
    stamps = run.stamps
    t = np.asarray(run.loop.t_s, dtype=float)[run.published]
    if len(stamps) < 2:
        obsa.judge("OBSA-CONN-001", {"period_error_s": None, "grid_error_s": None,
                                     "record_count_error": None},
                   message=_message(run, f"{len(stamps)} records published"))
        return
    p = run.period_s
    interval = np.abs(np.diff(stamps) - p)
    interval = np.where(np.isfinite(interval), interval, math.inf)
    grid = Grid(float(stamps[0]), p)
    err = grid.error(stamps)
    err = np.where(np.isfinite(err), err, math.inf)
    slots = grid.slot(np.where(np.isfinite(stamps), stamps, grid.t0))
    expected = int(slots.max()) + 1 if len(slots) else 0
    count_error = abs(expected - len(np.unique(slots))) + (len(slots) - len(np.unique(slots)))
    k = int(np.argmax(interval))
    obsa.judge("OBSA-CONN-001", {"period_error_s": float(interval[k]),
                                 "grid_error_s": float(err.max()),
                                 "record_count_error": count_error},
               message=_message(run, f"{len(stamps)} records from {stamps[0]:.3f} s to "
                                     f"{stamps[-1]:.3f} s (declared period {p:g} s); largest "
                                     f"interval error between the records stamped "
                                     f"{stamps[k]:.3f} s and {stamps[k + 1]:.3f} s"),
               events=_events(largest_interval_error=float(t[k + 1])))


@req("OBSA-CONN-002")
def test_record_content(obsa: Harness) -> None:
    """Every record published in the link-up run and in the short outages and overflow
    runs (records published from the buffer) against the inputs at its time stamp, within
    each field's resolution."""
    runs = [_link_up_run(obsa)]
    if _short_refusal(obsa) is None:
        runs.append(_short_outages_run(obsa))
    if _overflow_refusal(obsa) is None:
        runs.append(_overflow_run(obsa))
    found = [(_content_errors(obsa, r), r) for r in runs]
    (worst, t_worst, what), run = max(found, key=lambda f: f[0][0])
    obsa.loop = run.loop
    n = sum(len(r.published) for r in runs)
    obsa.judge("OBSA-CONN-002", {"mismatched_fields": worst},
               message=_message(run, f"{len(FIELD_INPUTS)} fields of {n} records in "
                                     f"{len(runs)} runs compared{'; ' + what if what else ''}"),
               events=_events(largest_mismatch=t_worst))


@req("OBSA-CONN-003")
def test_no_record_lost_in_a_short_outage(obsa: Harness) -> None:
    """The short outages run: every grid point within the outages (one step around each)
    against the records published after the link returned, and the steps that published
    while the link was down."""
    refusal = _short_refusal(obsa)
    if refusal is not None:
        obsa.not_applicable("OBSA-CONN-003", refusal)
        return
    run = _short_outages_run(obsa)
    _need_outage(run)
    grid = _grid(obsa, run)
    stamps = run.stamps
    last = int(grid.slot(stamps).max())
    slots = np.arange(0, last + 1)
    sampled = slots[_in_outages(run, grid.time(slots), run.step_s)]
    lost = np.setdiff1d(sampled, grid.slot(stamps))
    down, t_down = _published_while_down(run)
    t_lost = float(grid.time(lost[:1])[0]) if len(lost) else math.nan
    obsa.judge("OBSA-CONN-003", {"lost_records": len(lost), "published_while_down": down},
               message=_message(run, f"{len(sampled)} records due in {len(run.outages)} "
                                     f"outages, {len(lost)} never published"
                                     + (f" (the first due at {t_lost:.3f} s)" if len(lost)
                                        else "")),
               events=_events(first_lost=t_lost, first_published_while_down=t_down))


@req("OBSA-CONN-004")
def test_records_in_time_order(obsa: Harness) -> None:
    """The short outages run and the overflow run: records whose time stamp is not later
    than the one published before."""
    runs = _outage_runs(obsa)
    found = [(_out_of_order(r), r) for r in runs]
    total = sum(n for (n, _), _ in found)
    (_, first), run = max(found, key=lambda f: f[0][0])
    obsa.loop = run.loop
    obsa.judge("OBSA-CONN-004", {"out_of_order_records": total},
               message=_message(run, f"{sum(len(r.published) for r in runs)} records in "
                                     f"{len(runs)} runs"),
               events=_events(first_out_of_order=first))


@req("OBSA-CONN-005")
def test_buffer_overflow(obsa: Harness) -> None:
    """The overflow run: the records of the outage published after it (at most the declared
    buffer), the newest buffer_capacity_records − 1 of the outage (each must be published:
    the step the link returns may sample one more first) and, once the backlog drained, the
    dropped count against the grid points never published."""
    refusal = _overflow_refusal(obsa)
    if refusal is not None:
        obsa.inconclusive("OBSA-CONN-005", f"{refusal}: the buffer cannot be made to "
                                           "overflow on the bench")
        return
    run = _overflow_run(obsa)
    _need_outage(run)
    grid = _grid(obsa, run)
    capacity = int(obsa.param(TEL, "buffer_capacity_records"))
    a, b = max(run.outages, key=lambda o: o[1] - o[0])
    stamps = run.stamps
    published = grid.slot(stamps)
    last = int(published.max())
    slots = np.arange(0, last + 1)
    times = grid.time(slots)
    # the records of the outage, by their grid points (off by up to a step from the edges)
    during = slots[(times >= a + run.step_s) & (times < b - run.step_s)]
    newest = during[-(capacity - 1):] if capacity > 1 else during[:0]
    newest_lost = np.setdiff1d(newest, published)
    from_outage = int(np.count_nonzero((stamps >= a) & (stamps < b)))
    excess = max(0, from_outage - capacity)
    never = np.setdiff1d(slots, published)
    dropped = float(run.loop.seen["telemetry_dropped_records"])
    backlog = int(run.loop.seen["telemetry_backlog_records"])
    count_error = abs(dropped - len(never)) if math.isfinite(dropped) else math.inf
    obsa.judge("OBSA-CONN-005", {"dropped_count_error": count_error,
                                 "newest_records_lost": len(newest_lost),
                                 "records_beyond_capacity": excess},
               message=_message(run, f"{len(during)} records due inside the outage "
                                     f"({a:.1f} s to {b:.1f} s), {from_outage} of them "
                                     f"published after it; {len(never)} never published, "
                                     f"telemetry_dropped_records {dropped:g} and backlog "
                                     f"{backlog} at the end"),
               events=_events(outage_end=b))


@req("OBSA-CONN-006")
def test_backlog_drains(obsa: Harness) -> None:
    """The short outages run and the overflow run: steps with the link up that report a
    backlog and publish no record."""
    runs = _outage_runs(obsa)
    for r in runs:
        _need_outage(r)
    found = [(_idle_steps(r), r) for r in runs]
    total = sum(n for (n, _), _ in found)
    (_, first), run = max(found, key=lambda f: f[0][0])
    obsa.loop = run.loop
    obsa.judge("OBSA-CONN-006", {"idle_steps_with_backlog": total},
               message=_message(run, f"{sum(r.loop.steps for r in runs)} steps in "
                                     f"{len(runs)} runs"),
               events=_events(first_idle_step=first))


@req("OBSA-CONN-007")
def test_backlog_survives_power_loss(obsa: Harness) -> None:
    """The power-loss run: the grid points of the outage up to one step before the cut and
    the backlog reported before it, against the records published after the restart; the
    time stamps published twice; the records published after the restart earlier than the
    one before."""
    refusal = obsa.power_cycle_refusal()
    if refusal is not None:
        # never not applicable: a transport must not be a way around the requirement
        obsa.inconclusive("OBSA-CONN-007", f"{refusal}, so what survives a power loss cannot "
                                           "be judged; certify the module over the python or "
                                           "process transport to have it judged")
        return
    refusal = _power_loss_refusal(obsa)
    if refusal is not None:
        obsa.not_applicable("OBSA-CONN-007", refusal)
        return
    fewest, _ = _power_loss_steps(obsa)
    if fewest > MAX_OVERFLOW_STEPS:
        obsa.inconclusive("OBSA-CONN-007", f"an outage of one publish_period_s "
                                           f"({obsa.param(TEL, 'publish_period_s')} s) and "
                                           f"two steps on either side of a restart lasts "
                                           f"{fewest} steps of {obsa.step_period(TEL):g} s; "
                                           f"the bench runs at most {MAX_OVERFLOW_STEPS} for "
                                           "one outage")
        return
    cut = _power_loss_run(obsa)
    run, after = cut.before, cut.after
    _need_outage(run)
    grid = _grid(obsa, run)
    a = run.outages[0][0]
    before, restored = run.stamps, after.stamps
    stamps = np.concatenate((before, restored))
    old = stamps[stamps <= cut.last_s + 1e-9]
    last = max(int(grid.slot(np.array([cut.last_s - run.step_s]))[0]), 0)
    slots = np.arange(0, last + 1)
    times = grid.time(slots)
    sampled = slots[(times >= a - 1e-9) & (times <= cut.last_s - run.step_s + 1e-9)]
    lost = np.setdiff1d(sampled, grid.slot(old))
    kept = np.unique(restored[restored <= cut.last_s + 1e-9])
    kept = np.setdiff1d(kept, before)
    shortfall = max(0, cut.backlog - len(kept))
    finite = stamps[np.isfinite(stamps)]
    duplicates = len(finite) - len(np.unique(finite))
    seq = np.concatenate((before[-1:], restored))
    back = seq[1:] < seq[:-1]
    t_after = np.asarray(after.loop.t_s, dtype=float)[after.published]
    t_back = float(t_after[back][0]) if back.any() else math.nan
    t_lost = float(grid.time(lost[:1])[0]) if len(lost) else math.nan
    up = after.outages[0][1] if after.outages else cut.restart_s
    obsa.loop = after.loop
    obsa.judge("OBSA-CONN-007", {
        "lost_records": max(len(lost), shortfall),
        "duplicate_records": duplicates,
        "out_of_order_records": int(np.count_nonzero(back))},
        message=_message(run, f"{len(sampled)} records due in the outage up to one step "
                              f"before the cut, {len(lost)} never published"
                              + (f" (the first due at {t_lost:.3f} s)" if len(lost) else "")
                              + f"; {len(kept)} records stamped before the cut published "
                              f"after the restart for a backlog of {cut.backlog}; "
                              f"{len(restored)} records published after the restart"),
        events=_events(power_cut=cut.last_s, restart=cut.restart_s, link_back=up,
                       first_out_of_order=t_back))
