"""Conformance test cases of the HMI API (area HMI, component hmi_api).

The snapshot is judged against the HMI API's own inputs as it saw them. For the refresh
period and the content, the API runs alone from a seeded late clock: the harness writes a
seeded new value of every input it reads on every step (the pack current and voltage and the
cell readings through seeded ramps of the bench's measurements), the states and the DTC
statuses change at seeded instants. For the fault memory, the diagnostics run in front of it
and set the DTCs of the first, the last and seeded rows from fault flags the harness raises
and lowers, with a fault reset request in between; the HMI outputs are compared with the
diagnostics' dtc_status. A module without diagnostics (a gateway, which reads the fault
memory from the BMS) gets the statuses of those rows written by the harness instead.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from conformance.bench import Ramp
from conformance.harness.context import Harness
from conformance.harness.loop import ClosedLoop
from conformance.suite import steps as S

HMI = "hmi_api"
DIAG = "diagnostics"
req = pytest.mark.requirement

#: (output, input) of every field of the snapshot but the DTC array
FIELDS = (("hmi_pack_soc", "pack_soc"), ("hmi_soh_capacity", "soh_capacity"),
          ("hmi_pack_voltage_V", "pack_voltage_V"), ("hmi_pack_current_A", "pack_current_A"),
          ("hmi_safety_state", "safety_state"), ("hmi_contactor_state", "contactor_state"),
          ("hmi_charge_current_limit_A", "charge_current_limit_A"),
          ("hmi_discharge_current_limit_A", "discharge_current_limit_A"))
#: (output, input) of the cell arrays of the snapshot (the bench's measurements): a field
#: differs when one element does
ARRAYS = (("hmi_cell_voltage_V", "cell_voltage_V"),
          ("hmi_cell_temperature_degC", "cell_temperature_degC"))
#: the inputs the harness writes (the pack current and voltage are the bench's)
WRITTEN = ("pack_soc", "soh_capacity", "charge_current_limit_A", "discharge_current_limit_A")
ENUMS = ("safety_state", "contactor_state")
#: simulated time of the refresh and content runs, in declared refresh periods
RUN_PERIODS = 60
#: the refresh and content runs start their clock at a seeded time in this range (a module
#: keeping time in single precision serves old or mixed snapshots there)
LATE_START_S = (1.0e5, 1.0e8)
#: mean time between two changes of a state or a DTC status
STATE_CHANGE_S = 1.0
#: the fault memory run: per row, flag high and low times
FLAG_HIGH_S, FLAG_LOW_S = 0.5, 0.7


class Record:
    """What the HMI API saw and served on every step of a loop."""

    def __init__(self) -> None:
        self.t: list[float] = []
        self.seen: list[dict[str, Any]] = []
        self.served: list[dict[str, Any]] = []

    def index_of(self, t: float) -> int | None:
        """The step taken at ``t`` (to 1 µs), None if no step was."""
        arr = np.asarray(self.t)
        k = int(np.searchsorted(arr, t - 1e-6))
        return k if k < len(arr) and abs(arr[k] - t) <= 1e-6 else None


def _range(h: Harness, signal: str) -> tuple[float, float]:
    rng = h.spec.signals[signal].range
    assert rng is not None and rng.min is not None and rng.max is not None
    return float(rng.min), float(rng.max)


def _resolution(h: Harness, signal: str) -> float:
    res = h.spec.signals[signal].resolution
    return float(res) if res is not None else 0.0


def _enum_values(h: Harness, signal: str) -> list[int]:
    enum = h.spec.signals[signal].enum
    assert enum is not None
    return [v.value for v in h.spec.enums[enum].values]


_ARRAY_INPUTS = frozenset({"dtc_status", *(signal for _, signal in ARRAYS)})


def _inputs_seen(loop: ClosedLoop, prev: dict[str, Any] | None) -> dict[str, Any]:
    """The inputs of the HMI API as it saw them at this step: a signal a component later
    in the order produces is its value of the previous step."""
    order = {c: i for i, c in enumerate(loop.components)}
    out: dict[str, Any] = {}
    producers = {p.signal: c for c in loop.components
                 for p in loop.spec.interfaces[c].outputs}
    for _, signal in FIELDS + ARRAYS + (("", "dtc_status"),):
        value = loop.seen[signal]
        value = np.array(value) if signal in _ARRAY_INPUTS else value
        p = producers.get(signal)
        if p is not None and order[p] > order[HMI] and prev is not None:
            value = prev["now"][signal]
        out[signal] = value
    return out


def _step_and_record(loop: ClosedLoop, rec: Record, last: dict[str, Any]) -> None:
    loop.step()
    seen = _inputs_seen(loop, last.get("prev"))
    now = {s: loop.seen[s] for _, s in FIELDS}
    for signal in _ARRAY_INPUTS:
        now[signal] = np.array(loop.seen[signal])
    last["prev"] = {"now": now}
    rec.t.append(loop.t_s[-1])
    rec.seen.append(seen)
    arrays = {"hmi_dtc_status", *(o for o, _ in ARRAYS)}
    rec.served.append({name: (np.array(loop.seen[name]) if name in arrays
                              else loop.seen[name])
                       for name in ("hmi_snapshot_time_s", "hmi_active_dtc_count",
                                    "hmi_dtc_status", *(o for o, _ in FIELDS + ARRAYS))})


def _content_run(h: Harness) -> tuple[ClosedLoop, Record]:
    """The HMI API alone; every written input new on every step, the states and the DTC
    statuses changing at seeded instants, the pack current and voltage ramping."""
    rng = S.seeded_rng(h, "hmi content")
    period = float(h.param(HMI, "hmi_refresh_period_s"))
    start = float(rng.uniform(*LATE_START_S))
    loop = h.run(components=[HMI], ideal_sensors=True, clock_start_s=start)
    # ramps that change the readings on every step and stay inside their ranges
    run_s = RUN_PERIODS * period
    _, i_high = _range(h, "pack_current_A")
    _, v_high = _range(h, "pack_voltage_V")
    v0 = float(loop.bench.measurements()["pack_voltage_V"])
    loop.bench.inject(Ramp(signal="pack_current_A", start_s=start,
                           rate=float(rng.uniform(0.2, 0.4) * rng.choice([-1, 1])) * i_high
                           / run_s))
    loop.bench.inject(Ramp(signal="pack_voltage_V", start_s=start,
                           rate=float(rng.uniform(0.2, 0.4)) * (v_high - v0) / run_s))
    # the cell arrays too: every cell's reading changes by more than its resolution a step
    loop.bench.inject(Ramp(signal="cell_voltage_V", start_s=start,
                           rate=float(rng.uniform(0.2, 0.4) * rng.choice([-1, 1])) * 0.5
                           / run_s))
    loop.bench.inject(Ramp(signal="cell_temperature_degC", start_s=start,
                           rate=float(rng.uniform(0.2, 0.4)) * 60.0 / run_s))
    ranges = {s: _range(h, s) for s in WRITTEN}
    enums = {s: _enum_values(h, s) for s in ENUMS}
    statuses = _enum_values(h, "dtc_status")
    n_dtc = len(np.asarray(loop.seen["dtc_status"]))
    p_change = loop.bench.config.dt_s / STATE_CHANGE_S
    rec, last = Record(), {}  # type: ignore[var-annotated]
    status = np.zeros(n_dtc, dtype=np.int64)
    for _ in range(loop.bench.clock.steps_for(RUN_PERIODS * period)):
        for s, (lo, hi) in ranges.items():
            loop.set(s, float(rng.uniform(lo, min(hi, lo + 1000.0))))
        for s, values in enums.items():
            if rng.random() < p_change:
                loop.set(s, int(rng.choice(values)))
        if n_dtc and rng.random() < p_change:
            status = status.copy()
            status[int(rng.integers(n_dtc))] = int(rng.choice(statuses))
            loop.set("dtc_status", status)
        _step_and_record(loop, rec, last)
    return loop, rec


def _snapshot_errors(h: Harness, rec: Record) -> tuple[int, float, int, int]:
    """Per step: the fields that differ from the inputs at hmi_snapshot_time_s (all of them
    when no step was taken then), the DTC statuses that differ and the active-count error.
    Returns the largest field count, its time, and the largest DTC and count errors."""
    res = {out: _resolution(h, out) for out, _ in FIELDS + ARRAYS}
    active = h.enum("dtc_status", "active")
    worst_fields, t_fields, worst_dtc, worst_count = 0, math.nan, 0, 0
    for k, served in enumerate(rec.served):
        ts = float(served["hmi_snapshot_time_s"])
        j = rec.index_of(ts) if math.isfinite(ts) and ts <= rec.t[k] + 1e-6 else None
        if j is None:
            n_dtc = len(served["hmi_dtc_status"])
            fields, dtc, count = len(FIELDS) + len(ARRAYS), n_dtc, n_dtc + 1
        else:
            seen = rec.seen[j]
            fields = 0
            for out, signal in FIELDS:
                a, b = float(served[out]), float(seen[signal])
                if not abs(a - b) <= res[out] * (1.0 + 1e-9) + 1e-12:
                    fields += 1
            for out, signal in ARRAYS:
                got_a = np.asarray(served[out], dtype=float)
                want_a = np.asarray(seen[signal], dtype=float)
                if got_a.shape != want_a.shape or not np.all(
                        np.abs(got_a - want_a) <= res[out] * (1.0 + 1e-9) + 1e-12):
                    fields += 1
            want = np.asarray(seen["dtc_status"], dtype=np.int64)
            got = np.asarray(served["hmi_dtc_status"], dtype=np.int64)
            dtc = (int(np.count_nonzero(got != want)) if got.shape == want.shape
                   else max(len(want), 1))
            count = abs(int(served["hmi_active_dtc_count"])
                        - int(np.count_nonzero(want == active)))
        if fields > worst_fields:
            worst_fields, t_fields = fields, rec.t[k]
        worst_dtc, worst_count = max(worst_dtc, dtc), max(worst_count, count)
    return worst_fields, t_fields, worst_dtc, worst_count


@req("OBSA-HMI-001")
def test_snapshot_refresh(obsa: Harness) -> None:
    """Over RUN_PERIODS declared refresh periods with every input changing: the largest age
    of the snapshot served, minus one step period."""
    loop, rec = _content_run(obsa)
    t = np.asarray(rec.t)
    ts = np.asarray([float(s["hmi_snapshot_time_s"]) for s in rec.served])
    age = np.where(np.isfinite(ts) & (ts >= 0.0), t - ts, np.inf)
    k = int(np.argmax(age))
    step = obsa.step_period(HMI)
    period = float(obsa.param(HMI, "hmi_refresh_period_s"))
    snapshots = int(np.count_nonzero(np.diff(ts) != 0)) + 1
    obsa.judge("OBSA-HMI-001", {"snapshot_age_s": float(age[k]) - step},
               message=f"{snapshots} snapshots in {t[-1] - t[0]:.2f} s (declared period "
                       f"{period:g} s); largest age {age[k]:.3f} s at t = {t[k]:.3f} s",
               events={"oldest snapshot": float(t[k])})


@req("OBSA-HMI-002")
def test_snapshot_content(obsa: Harness) -> None:
    """Every field served on every step against the input at hmi_snapshot_time_s, within
    the field's resolution."""
    loop, rec = _content_run(obsa)
    fields, t_worst, _, _ = _snapshot_errors(obsa, rec)
    events = {"largest mismatch": t_worst} if math.isfinite(t_worst) else {}
    obsa.judge("OBSA-HMI-002", {"mismatched_fields": fields},
               message=f"{len(FIELDS) + len(ARRAYS)} fields (the cell arrays each one) "
                       f"compared on {len(rec.t)} steps with every input new on every step",
               events=events)


@req("OBSA-HMI-003")
def test_fault_memory_readable(obsa: Harness) -> None:
    """The diagnostics set the DTCs of the first, the last and seeded rows (a flag raised
    and lowered, the rows overlapping, then a fault reset request): on every step the served
    statuses and active count against the diagnostics' dtc_status at the snapshot time."""
    inputs = {obsa.spec.signals[p.signal].flags_of: p.signal
              for p in obsa.spec.interfaces[DIAG].inputs
              if obsa.spec.signals[p.signal].flags_of}
    drivable = [(i, comp, fc) for i, (comp, fc) in enumerate(obsa.spec.dtc_table)
                if comp in inputs]
    if not drivable:
        raise S.PreconditionFailed("no fault code of the spec is an input of the diagnostics")
    rows = [drivable[k] for k in S.sample_list(obsa, len(drivable), "hmi dtc rows")]
    if DIAG not in obsa.session.components:
        _fault_memory_from_the_bus(obsa, [i for i, _, _ in rows])
        return
    loop = obsa.run(components=[DIAG, HMI])
    rec, last = Record(), {}  # type: ignore[var-annotated]

    def run(seconds: float) -> None:
        for _ in range(loop.bench.clock.steps_for(seconds)):
            _step_and_record(loop, rec, last)

    run(0.3)
    for _, comp, fc in rows:  # each row raised while the previous is still high
        sig = inputs[comp]
        loop.set(sig, int(loop.seen[sig]) | (1 << fc.bit))
        run(FLAG_HIGH_S)
    for _, comp, fc in rows:
        sig = inputs[comp]
        loop.set(sig, int(loop.seen[sig]) & ~(1 << fc.bit))
        run(FLAG_LOW_S)
    loop.set("fault_reset_request", True)
    run(0.1)
    loop.set("fault_reset_request", False)
    run(1.0)
    _, _, dtc, count = _snapshot_errors(obsa, rec)
    seen_active = max(int(np.count_nonzero(np.asarray(s["dtc_status"]) ==
                                           obsa.enum("dtc_status", "active")))
                      for s in rec.seen)
    if seen_active == 0:
        raise S.PreconditionFailed("the diagnostics activated no DTC of the rows whose flags "
                                   "were raised", blame="OBSA-DIAG-001")
    obsa.judge("OBSA-HMI-003", {"dtc_status_mismatches": dtc, "active_count_error": count},
               message=f"DTC rows {', '.join(str(i) for i, _, _ in rows)} set and cleared by "
                       f"the diagnostics, up to {seen_active} active at once; {len(rec.t)} "
                       f"steps compared", events={"end": rec.t[-1]})


def _fault_memory_from_the_bus(obsa: Harness, rows: list[int]) -> None:
    """OBSA-HMI-003 for a module without diagnostics (a gateway reads the fault memory from
    the BMS over the vehicle bus): the harness writes dtc_status as diagnostics would — the
    rows active one after the other, overlapping, then stored, then cleared — and the HMI
    outputs are compared with it as in :func:`test_fault_memory_readable`."""
    loop = obsa.run(components=[HMI])
    rec, last = Record(), {}  # type: ignore[var-annotated]
    status = np.zeros(len(np.asarray(loop.seen["dtc_status"])), dtype=np.int64)
    active, stored = obsa.enum("dtc_status", "active"), obsa.enum("dtc_status", "stored")

    def run(seconds: float) -> None:
        for _ in range(loop.bench.clock.steps_for(seconds)):
            _step_and_record(loop, rec, last)

    def write(row: int, value: int) -> None:
        nonlocal status
        status = status.copy()
        status[row] = value
        loop.set("dtc_status", status)

    run(0.3)
    for row in rows:
        write(row, active)
        run(FLAG_HIGH_S)
    for row in rows:
        write(row, stored)
        run(FLAG_LOW_S)
    for row in rows:
        write(row, obsa.enum("dtc_status", "inactive"))
    run(1.0)
    _, _, dtc, count = _snapshot_errors(obsa, rec)
    obsa.judge("OBSA-HMI-003", {"dtc_status_mismatches": dtc, "active_count_error": count},
               message=f"the module has no diagnostics: DTC rows {', '.join(map(str, rows))} "
                       f"written active, stored and cleared as the bus delivers them, up to "
                       f"{len(rows)} active at once; {len(rec.t)} steps compared",
               events={"end": rec.t[-1]})
