"""Long runs and the limits of representation.

A module keeps time and counts in its own types. The other test cases start the clock at
0 and run for seconds, where every representation works; here the clock starts late —
just before 16-bit millisecond ticks wrap (65.536 s), just before float32 time loses its
resolution (2^24 s, where it resolves 2 s) and just before 32-bit millisecond ticks wrap
(2^32 ms) — a fault memory sees more than 255 occurrences, a stored trouble code waits a
minute and a half and a latched fault 15 s. (Every step of the module is a round trip to
its process: the durations are as long as the defects they catch need, no longer.)
"""

from __future__ import annotations

import pytest

from conformance.harness.context import Harness
from conformance.suite import steps as S

SUP = S.SUPERVISOR
DIAG = "diagnostics"
req = pytest.mark.requirement

#: where a module's time representation breaks: the clock is started so that this instant
#: falls in the middle of the over-voltage debounce
LATE_CLOCKS = {
    "uint16_ms_wrap": 2**16 / 1000.0,
    "float32_2s_resolution": float(2**24),
    "uint32_ms_wrap": 2**32 / 1000.0,
}
#: the over-voltage sweep of OBSA-SAFE-001's test case (rate V/s, margin V)
SWEEP_RATE, SWEEP_MARGIN = 0.01, 0.02
SETTLE_S = 0.3


@pytest.mark.parametrize("boundary", [pytest.param(b, id=name) for name, b in
                                      LATE_CLOCKS.items()])
@req("OBSA-SAFE-001")
def test_trip_on_a_late_clock(obsa: Harness, boundary: float) -> None:
    """The over-voltage sweep of OBSA-SAFE-001 on a clock that crosses ``boundary`` during
    the debounce."""
    msl = float(obsa.param(SUP, "cell_voltage_max_msl_V"))
    delay = float(obsa.param(SUP, "cell_voltage_max_fault_delay_s"))
    dt = obsa.step_period(SUP)
    mask = obsa.bit(SUP, "cell_overvoltage")
    # the sweep crosses the MSL SWEEP_MARGIN / SWEEP_RATE after it starts, at the end of the
    # settling; the boundary then falls half a declared delay later
    start = boundary - SETTLE_S - SWEEP_MARGIN / SWEEP_RATE - delay / 2
    loop = obsa.run(ideal_sensors=True, clock_start_s=start)
    S.settle(loop, SETTLE_S)
    sweep = S.sweep_measurement(loop, "cell_voltage_V", msl, +1, SWEEP_RATE, SWEEP_MARGIN)
    S.run_until_flag(loop, "safety_fault_flags", mask, sweep.duration_s(delay))
    S.settle(loop, 0.2)
    q = S.channel(loop, "cell_voltage_max_V")
    trip = S.observe_trip(loop, q, msl, +1, mask, delay, after=sweep.t0)
    obsa.judge("OBSA-SAFE-001", S.trip_measurements(trip, msl, dt, "trip_threshold_error_V"),
               events=trip.events() | {"clock boundary": boundary},
               message=f"over-voltage sweep with the clock started at {start:.3f} s, across "
                       f"{boundary:.3f} s during the debounce")


@pytest.mark.parametrize("boundary", [pytest.param(b, id=name) for name, b in
                                      LATE_CLOCKS.items()])
@req("OBSA-DIAG-002")
def test_occurrence_times_on_a_late_clock(obsa: Harness, boundary: float) -> None:
    """The fault memory alone on a clock that crosses ``boundary``: one occurrence just
    before it, one just after; both times must be recorded to within a step."""
    row = obsa.dtc_row(SUP, "cell_overvoltage")
    mask = obsa.bit(SUP, "cell_overvoltage")
    loop = obsa.run(components=[DIAG], channels=S.dtc_channels(row, "ov"),
                    clock_start_s=boundary - 0.5)
    loop.run(0.2)
    rises = [S.pulse_flag(loop, "safety_fault_flags", mask, 0.2, 0.33) for _ in range(2)]
    first = S.channel(loop, "ov_dtc_first_time_s")[-1]
    last = S.channel(loop, "ov_dtc_last_time_s")[-1]
    obsa.judge("OBSA-DIAG-002", {"first_time_error_s": abs(first - rises[0]),
                                 "last_time_error_s": abs(last - rises[1])},
               events={"first occurrence": rises[0], "last occurrence": rises[1],
                       "clock boundary": boundary},
               message=f"cell_overvoltage flag raised at {rises[0]:.3f} s and {rises[1]:.3f} s; "
                       f"recorded {first:.3f} s and {last:.3f} s")


@req("OBSA-DIAG-001")
def test_occurrence_counter_past_255(obsa: Harness) -> None:
    """300 occurrences of one trouble code: the counter must reach 300."""
    row = obsa.dtc_row(SUP, "cell_undervoltage")
    mask = obsa.bit(SUP, "cell_undervoltage")
    active = obsa.enum("dtc_status", "active")
    dt = obsa.step_period(DIAG)
    loop = obsa.run(components=[DIAG], channels=S.dtc_channels(row, "uv"))
    loop.run(0.1)
    rises = [S.pulse_flag(loop, "safety_fault_flags", mask, 2 * dt, 2 * dt) for _ in range(300)]
    measured = S.dtc_activation(loop, "uv", active, rises)
    obsa.judge("OBSA-DIAG-001", measured, events={"first rise": rises[0], "last rise": rises[-1]},
               message=f"cell_undervoltage flag raised {len(rises)} times, "
                       f"{2 * dt:g} s high and {2 * dt:g} s low")


@req("OBSA-DIAG-003")
def test_stored_dtc_kept_for_minutes(obsa: Harness) -> None:
    """A trouble code that occurred once stays stored for 90 s without a reset."""
    row = obsa.dtc_row(SUP, "charge_overcurrent")
    mask = obsa.bit(SUP, "charge_overcurrent")
    inactive = obsa.enum("dtc_status", "inactive")
    loop = obsa.run(components=[DIAG], channels=S.dtc_channels(row, "oc"))
    loop.run(0.1)
    t_rise = S.pulse_flag(loop, "safety_fault_flags", mask, 0.5, 0.0)
    t_fall = loop.t
    loop.run(90.0)
    status = S.channel(loop, "oc_dtc_status")
    lost = S.first_time(loop, status == inactive, after=t_fall + 0.05)
    events = {"flag rose": t_rise, "flag fell": t_fall}
    if lost is not None:
        events["DTC inactive"] = lost
    obsa.judge("OBSA-DIAG-003", {"lost_dtcs": int(lost is not None)}, events=events,
               message="charge_overcurrent occurred once, then 90 s without a reset request")


@req("OBSA-SAFE-013")
def test_latch_holds_for_15_s(obsa: Harness) -> None:
    """An over-voltage fault latched, the cell back to normal, no reset for 15 s (three
    times as long as OBSA-SAFE-013's own test case waits)."""
    mask = obsa.bit(SUP, "cell_overvoltage")
    loop = S.start(obsa, "rest")
    t_fault = S.latch_overvoltage(obsa, loop)
    loop.bench.clear_faults()
    t_healed = loop.t
    loop.run(15.0)
    cleared = S.cleared_at(loop, "safety_fault_flags", mask, after=t_healed)
    events = {"fault latched": t_fault, "condition cleared": t_healed}
    if cleared is not None:
        events["fault cleared without reset"] = cleared
    obsa.judge("OBSA-SAFE-013", {"self_cleared_faults": int(cleared is not None)},
               events=events, message="cell voltage back to normal for 15 s, no reset request")
