"""Conformance test cases of the fault memory (area DIAG).

The diagnostics block is driven on its own: the harness writes the fault flags that the
other components would produce, so each DTC's history is known exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.harness.context import Harness
from conformance.harness.loop import ClosedLoop, TraceChannel
from conformance.suite import steps as S

DIAG = "diagnostics"
req = pytest.mark.requirement


def _row_channels(row: int, tag: str) -> list[TraceChannel]:
    def cell(name: str):
        return lambda pool: float(np.asarray(pool[name])[row])

    return [TraceChannel(f"{tag}_{n}", "1" if n in ("dtc_status", "dtc_occurrences") else "s",
                         read=cell(n))
            for n in ("dtc_status", "dtc_occurrences", "dtc_first_time_s", "dtc_last_time_s")]


def _diag_run(h: Harness) -> tuple[ClosedLoop, int, int, int, int]:
    ov_row = h.dtc_row(S.SUPERVISOR, "cell_overvoltage")
    uv_row = h.dtc_row(S.SUPERVISOR, "cell_undervoltage")
    loop = h.run(components=[DIAG], channels=_row_channels(ov_row, "ov")
                 + _row_channels(uv_row, "uv"))
    ov = h.bit(S.SUPERVISOR, "cell_overvoltage")
    uv = h.bit(S.SUPERVISOR, "cell_undervoltage")
    return loop, ov, uv, ov_row, uv_row


def _pulse(loop: ClosedLoop, mask: int, high_s: float, low_s: float) -> float:
    """Raise ``mask`` in safety_fault_flags for ``high_s``; returns the rising time."""
    t = loop.t
    loop.set("safety_fault_flags", int(loop.pool["safety_fault_flags"]) | mask)
    loop.run(high_s)
    loop.set("safety_fault_flags", int(loop.pool["safety_fault_flags"]) & ~mask)
    loop.run(low_s)
    return t


@req("OBSA-DIAG-001", "OBSA-DIAG-002", "OBSA-DIAG-003")
def test_occurrences_and_times(obsa: Harness) -> None:
    loop, ov, _, _, _ = _diag_run(obsa)
    active = obsa.enum("dtc_status", "active")
    inactive = obsa.enum("dtc_status", "inactive")
    loop.run(0.5)
    rises = [_pulse(loop, ov, 0.3, 0.7), _pulse(loop, ov, 0.2, 0.8), _pulse(loop, ov, 0.1, 1.0)]
    status = S.channel(loop, "ov_dtc_status")
    delays = []
    for r in rises:
        t_act = S.first_time(loop, status == active, after=r)
        delays.append(None if t_act is None else t_act - r)
    occ = S.channel(loop, "ov_dtc_occurrences")[-1]
    events = {f"flag rises ({i + 1})": r for i, r in enumerate(rises)}
    obsa.judge("OBSA-DIAG-001", {
        "activation_delay_s": None if None in delays else max(delays),  # type: ignore[type-var]
        "count_error": abs(occ - len(rises)),
    }, events=events, message="cell_overvoltage flag raised three times")
    obsa.judge("OBSA-DIAG-002", {
        "first_time_error_s": abs(S.channel(loop, "ov_dtc_first_time_s")[-1] - rises[0]),
        "last_time_error_s": abs(S.channel(loop, "ov_dtc_last_time_s")[-1] - rises[-1]),
    }, events=events, message="recorded vs actual times of the first and last occurrence")
    t = S.times(loop)
    after_first = t > rises[0] + 0.35
    obsa.judge("OBSA-DIAG-003", {
        "lost_dtcs": int(np.count_nonzero((status == inactive) & after_first) > 0),
    }, events=events, message="status between and after the occurrences, no reset request")


@req("OBSA-DIAG-004")
def test_reset_keeps_history(obsa: Harness) -> None:
    loop, ov, uv, _, _ = _diag_run(obsa)
    active = obsa.enum("dtc_status", "active")
    inactive = obsa.enum("dtc_status", "inactive")
    loop.run(0.3)
    _pulse(loop, ov, 0.2, 0.3)  # over-voltage occurred and healed: stored
    loop.set("safety_fault_flags", int(loop.pool["safety_fault_flags"]) | uv)  # stays active
    loop.run(0.3)
    before = {n: S.channel(loop, n)[-1] for n in ("ov_dtc_occurrences", "ov_dtc_first_time_s",
                                                  "ov_dtc_last_time_s", "uv_dtc_occurrences")}
    t_reset = S.reset_faults(loop, pulse_s=0.05)
    loop.run(0.3)
    after = {n: S.channel(loop, n)[-1] for n in before}
    lost = sum(1 for n in before if after[n] != before[n])
    uv_status = S.channel(loop, "uv_dtc_status")
    t = S.times(loop)
    post = t >= t_reset
    ov_status = S.value_at(loop, "ov_dtc_status", t_reset + 0.02)
    obsa.judge("OBSA-DIAG-004", {
        "history_lost": lost,
        "active_cleared": int(np.count_nonzero((uv_status != active) & post) > 0),
        "stored_not_cleared": int(ov_status != inactive),
    }, events={"reset": t_reset}, message="reset with one stored and one active DTC")
