"""Conformance test cases of the fault memory (area DIAG).

The diagnostics block is driven on its own: the harness writes the fault flags that the
other components would produce, so each DTC's history is known exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from conformance.harness.context import Harness, Stimulus
from conformance.harness.loop import ClosedLoop
from conformance.suite import steps as S

DIAG = "diagnostics"
req = pytest.mark.requirement

#: how long stored DTCs are watched for a history that fades without a reset request
STORED_WATCH_S = 30.0


@dataclass(frozen=True)
class Row:
    """One row of the fault memory, and the flags input that drives it."""

    index: int
    component: str
    fault: str
    flags_signal: str
    tag: str  # trace channel prefix

    @property
    def label(self) -> str:
        return f"DTC row {self.index} ({self.component}.{self.fault})"


def _rows(h: Harness, purpose: str) -> list[Row]:
    """The first, the last and seeded rows of the fault memory among those the diagnostics'
    flags inputs drive: every DTC family is a candidate, none is fixed."""
    inputs = {h.spec.signals[p.signal].flags_of: p.signal
              for p in h.spec.interfaces[DIAG].inputs if h.spec.signals[p.signal].flags_of}
    drivable = [(i, comp, fc.name) for i, (comp, fc) in enumerate(h.spec.dtc_table)
                if comp in inputs]
    if not drivable:
        raise S.PreconditionFailed("no fault code of the spec is an input of the diagnostics")
    picks = S.sample_list(h, len(drivable), purpose)
    return [Row(i, comp, fault, inputs[comp], f"r{i}")
            for i, comp, fault in (drivable[k] for k in picks)]


def _diag_loop(h: Harness, rows: list[Row]) -> ClosedLoop:
    channels = [ch for r in rows for ch in S.dtc_channels(r.index, r.tag)]
    return h.run(components=[DIAG], channels=channels)


def _pulse_row(h: Harness, loop: ClosedLoop, row: Row, high_s: float, low_s: float) -> float:
    """Raise the row's fault flag for ``high_s``; returns the rising time."""
    return S.pulse_flag(loop, row.flags_signal, h.bit(row.component, row.fault), high_s, low_s)


@req("OBSA-DIAG-001", "OBSA-DIAG-002", "OBSA-DIAG-003")
def test_occurrences_and_times(obsa: Harness) -> None:
    rows = _rows(obsa, "OBSA-DIAG-001")
    loop = _diag_loop(obsa, rows)
    active = obsa.enum("dtc_status", "active")
    inactive = obsa.enum("dtc_status", "inactive")
    loop.run(0.5)
    rises = {r.index: [_pulse_row(obsa, loop, r, 0.3, 0.7), _pulse_row(obsa, loop, r, 0.2, 0.8),
                       _pulse_row(obsa, loop, r, 0.1, 1.0)] for r in rows}
    loop.run(STORED_WATCH_S)  # no reset request: every row must stay stored
    t = S.times(loop)
    s1, s2, s3 = [], [], []
    for r in rows:
        rs = rises[r.index]
        events = {f"{r.label}: flag rises ({i + 1})": x for i, x in enumerate(rs)}
        s1.append(Stimulus(r.label, S.dtc_activation(loop, r.tag, active, rs), events, loop))
        s2.append(Stimulus(r.label, {
            "first_time_error_s": abs(S.channel(loop, f"{r.tag}_dtc_first_time_s")[-1] - rs[0]),
            "last_time_error_s": abs(S.channel(loop, f"{r.tag}_dtc_last_time_s")[-1] - rs[-1]),
        }, events, loop))
        status = S.channel(loop, f"{r.tag}_dtc_status")
        lost = np.count_nonzero((status == inactive) & (t > rs[0] + 0.35)) > 0
        s3.append(Stimulus(r.label, {"lost_dtcs": int(lost)}, events, loop))
    obsa.judge_each("OBSA-DIAG-001", s1, message="each sampled fault flag raised three times")
    obsa.judge_each("OBSA-DIAG-002", s2,
                    message="recorded vs actual times of the first and last occurrence")
    obsa.judge_each("OBSA-DIAG-003", s3,
                    message=f"status between the occurrences and for {STORED_WATCH_S:g} s after, "
                            "no reset request")


@req("OBSA-DIAG-004")
def test_reset_keeps_history(obsa: Harness) -> None:
    rows = _rows(obsa, "OBSA-DIAG-004")
    stored_row, active_row = rows[0], rows[-1]
    loop = _diag_loop(obsa, [stored_row, active_row])
    active = obsa.enum("dtc_status", "active")
    inactive = obsa.enum("dtc_status", "inactive")
    loop.run(0.3)
    _pulse_row(obsa, loop, stored_row, 0.2, 0.3)  # occurred and healed: stored
    mask = obsa.bit(active_row.component, active_row.fault)
    loop.set(active_row.flags_signal, int(loop.seen[active_row.flags_signal]) | mask)  # active
    loop.run(0.3)
    names = [f"{stored_row.tag}_dtc_{n}" for n in ("occurrences", "first_time_s", "last_time_s")]
    names.append(f"{active_row.tag}_dtc_occurrences")
    before = {n: S.channel(loop, n)[-1] for n in names}
    t_reset = S.reset_faults(loop, pulse_s=0.05)
    loop.run(0.3)
    lost = sum(1 for n in names if S.channel(loop, n)[-1] != before[n])
    active_status = S.channel(loop, f"{active_row.tag}_dtc_status")
    post = S.times(loop) >= t_reset
    stored_status = S.value_at(loop, f"{stored_row.tag}_dtc_status", t_reset + 0.02)
    obsa.judge("OBSA-DIAG-004", {
        "history_lost": lost,
        "active_cleared": int(np.count_nonzero((active_status != active) & post) > 0),
        "stored_not_cleared": int(stored_status != inactive),
    }, events={"reset": t_reset},
        message=f"reset with {stored_row.label} stored and {active_row.label} active")
