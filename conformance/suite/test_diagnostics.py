"""Conformance test cases of the fault memory (area DIAG).

The diagnostics block is driven on its own: the harness writes the fault flags that the
other components would produce, so each DTC's history is known exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.harness.context import Harness
from conformance.harness.loop import ClosedLoop
from conformance.suite import steps as S

DIAG = "diagnostics"
req = pytest.mark.requirement




def _diag_run(h: Harness) -> tuple[ClosedLoop, int, int, int, int]:
    ov_row = h.dtc_row(S.SUPERVISOR, "cell_overvoltage")
    uv_row = h.dtc_row(S.SUPERVISOR, "cell_undervoltage")
    loop = h.run(components=[DIAG], channels=S.dtc_channels(ov_row, "ov")
                 + S.dtc_channels(uv_row, "uv"))
    ov = h.bit(S.SUPERVISOR, "cell_overvoltage")
    uv = h.bit(S.SUPERVISOR, "cell_undervoltage")
    return loop, ov, uv, ov_row, uv_row


def _pulse(loop: ClosedLoop, mask: int, high_s: float, low_s: float) -> float:
    """Raise ``mask`` in safety_fault_flags for ``high_s``; returns the rising time."""
    return S.pulse_flag(loop, "safety_fault_flags", mask, high_s, low_s)


@req("OBSA-DIAG-001", "OBSA-DIAG-002", "OBSA-DIAG-003")
def test_occurrences_and_times(obsa: Harness) -> None:
    loop, ov, _, _, _ = _diag_run(obsa)
    active = obsa.enum("dtc_status", "active")
    inactive = obsa.enum("dtc_status", "inactive")
    loop.run(0.5)
    rises = [_pulse(loop, ov, 0.3, 0.7), _pulse(loop, ov, 0.2, 0.8), _pulse(loop, ov, 0.1, 1.0)]
    status = S.channel(loop, "ov_dtc_status")
    events = {f"flag rises ({i + 1})": r for i, r in enumerate(rises)}
    obsa.judge("OBSA-DIAG-001", S.dtc_activation(loop, "ov", active, rises),
               events=events, message="cell_overvoltage flag raised three times")
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
