"""Sequences and combinations: what happens between and after the situations the other
test cases set up one at a time — two faults at once, a second reset, an open request in the
middle of precharge, a close request toggled after a failed precharge. (A reset while a
weld persists is test_readings.py's.) The always-on monitors watch every step of them.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.harness.context import Harness
from conformance.harness.loop import ClosedLoop
from conformance.suite import steps as S

SUP, CM = S.SUPERVISOR, S.CONTACTORS
req = pytest.mark.requirement
CLOSE_CMDS = ("main_positive_close_cmd", "main_negative_close_cmd", "precharge_close_cmd")


def _any_close(loop: ClosedLoop) -> np.ndarray:
    return np.any([S.channel(loop, c) > 0.5 for c in CLOSE_CMDS], axis=0)


def _cycle(h: Harness) -> float:
    return float(h.param("cell_monitor", "measurement_cycle_s"))


@req("OBSA-SAFE-014", "OBSA-SAFE-015")
def test_reset_with_two_faults_one_healed(obsa: Harness) -> None:
    """Over-voltage on the first cell and under-voltage on the last one at once; the
    over-voltage heals, the under-voltage does not; one reset must clear exactly the healed
    fault."""
    ov = obsa.bit(SUP, "cell_overvoltage")
    uv = obsa.bit(SUP, "cell_undervoltage")
    uv_msl = float(obsa.param(SUP, "cell_voltage_min_msl_V"))
    delay = float(obsa.param(SUP, "cell_voltage_min_fault_delay_s"))
    loop = S.start(obsa, "rest")
    last = loop.bench.config.n_cells - 1
    if last == 0:
        obsa.inconclusive("OBSA-SAFE-014", "a pack of one cell cannot be over- and "
                                           "under-voltage at once")
        obsa.inconclusive("OBSA-SAFE-015", "a pack of one cell cannot be over- and "
                                           "under-voltage at once")
        return
    hold = S.true_value(loop, "cell_voltage_V", last)
    loop.bench.inject(S.Offset(signal="cell_voltage_V", index=last,
                              start_s=loop.t, value=uv_msl - S.TRIP_ABOVE_V - hold))
    t_ov = S.latch_overvoltage(obsa, loop)
    t_uv = loop.run(delay + 1.0, until=S.flags_have(uv))
    if not S.flags_have(uv)(loop.seen):
        raise S.PreconditionFailed(f"no under-voltage fault latched within {delay + 1.0:g} s "
                                   f"of a cell {S.TRIP_ABOVE_V:g} V below the declared MSL; "
                                   f"seen instead: {S.seen(loop)}", blame="OBSA-SAFE-002")
    # heal the over-voltage: a second offset cancels the first one
    msl = float(obsa.param(SUP, "cell_voltage_max_msl_V"))
    loop.bench.inject(S.Offset(signal="cell_voltage_V", index=0, start_s=loop.t,
                              value=-(msl + S.TRIP_ABOVE_V - S.true_value(loop, "cell_voltage_V",
                                                                          0))))
    loop.run(2 * _cycle(obsa) + 0.2)
    t_reset = S.reset_faults(loop)
    loop.run(1.0)
    t_cleared = S.cleared_at(loop, "safety_fault_flags", ov, after=t_reset)
    uv_cleared = S.cleared_at(loop, "safety_fault_flags", uv, after=t_reset)
    events = {"over-voltage latched": t_ov, "reset": t_reset}
    if t_uv is not None:
        events["under-voltage latched"] = t_uv
    if t_cleared is not None:
        events["over-voltage cleared"] = t_cleared
    obsa.judge("OBSA-SAFE-015", {
        "reset_time_s": None if t_cleared is None else t_cleared - t_reset,
    }, events=events, notes={"reset_time_s": "the over-voltage flag; the state stays fault "
                                             "for the under-voltage that persists"},
        message="two faults latched, the over-voltage healed, the under-voltage present")
    obsa.judge("OBSA-SAFE-014", {"faults_cleared_while_present": int(uv_cleared is not None)},
               events=events, message=f"under-voltage still {S.TRIP_ABOVE_V:g} V below its MSL "
                                      "when the reset clears the healed over-voltage")


@req("OBSA-SAFE-017")
def test_second_reset_after_lockout(obsa: Harness) -> None:
    """A deep discharge locks out; the cell recovers; two reset requests, a second apart."""
    mask = obsa.bit(SUP, "deep_discharge")
    loop = S.start(obsa, "rest")
    trip = S.lockout_trip(obsa, loop, loop.bench.config.n_cells - 1)
    resets = []
    for _ in range(2):
        resets.append(S.reset_faults(loop))
        loop.run(1.0)
    cleared = S.cleared_at(loop, "safety_fault_flags", mask, after=resets[0])
    events = trip.events() | {f"reset {i + 1}": r for i, r in enumerate(resets)}
    obsa.judge("OBSA-SAFE-017", {
        "lockout_cleared_by_reset": None if trip.t_fault is None else int(cleared is not None),
        "lockout_delay_s": trip.reaction_s(obsa.step_period(SUP)),
    }, events=events, message=f"a cell swept below "
                              f"{obsa.param(SUP, 'deep_discharge_voltage_V')} V, recovered, then "
                              "two resets 1 s apart")


@req("OBSA-CONT-006", "OBSA-CONT-010")
def test_open_request_during_precharge(obsa: Harness) -> None:
    """contactor_open_request rises while the manager is precharging (close_request held):
    every contactor opens within 0.1 s and none closes while the request stands."""
    loop = obsa.run(components=[CM])
    S.settle(loop, 0.2)
    loop.set("close_request", True)
    t_pre = loop.run(2.0, until=lambda pool: bool(pool["precharge_close_cmd"]))
    if t_pre is None:
        raise S.PreconditionFailed("precharge never commanded within 2 s of the close request; "
                                   f"seen instead: {S.seen(loop)}", blame="OBSA-CONT-002")
    loop.run(0.05)
    t_req = loop.t
    loop.set("contactor_open_request", True)
    loop.run(3.0)
    loop.set("contactor_open_request", False)
    loop.set("close_request", False)
    loop.run(0.5)
    t = S.times(loop)
    closing = _any_close(loop)
    requested = (t >= t_req) & (t < t_req + 3.0)
    t_open = S.first_time(loop, ~closing, after=t_req)
    rising = np.zeros_like(closing)
    for c in CLOSE_CMDS:
        x = S.channel(loop, c) > 0.5
        rising[1:] |= x[1:] & ~x[:-1]
    events = {"precharge commanded": t_pre, "open request": t_req}
    if t_open is not None:
        events["all commanded open"] = t_open
    obsa.judge("OBSA-CONT-006", {"open_time_s": None if t_open is None else t_open - t_req},
               events=events, message="contactor_open_request raised during precharge",
               on_pins=("open_time_s",))
    obsa.judge("OBSA-CONT-010", {
        "close_commands_while_open_requested": int(np.count_nonzero(rising & requested)),
    }, events=events, message="close_request held for 3 s while opening is requested, from "
                              "the middle of precharge")


@req("OBSA-CONT-005")
def test_close_request_toggled_after_failed_precharge(obsa: Harness) -> None:
    """Every precharge attempt fails; the close request is withdrawn and raised again with
    no reset: the manager must stay in error with every contactor open."""
    p = obsa.params(CM)
    attempts = int(p["precharge_max_attempts"])
    span = attempts * (float(p["precharge_timeout_s"]) + float(p["precharge_retry_wait_s"]))
    mask = obsa.bit(CM, "precharge_failed")
    error = obsa.enum("contactor_state", "error")
    loop = obsa.run()
    loop.bench.inject(S.OpenResistor(signal="precharge", start_s=0.0))
    S.settle(loop, 0.3)
    loop.set("close_request", True)
    t_fail = loop.run(span + 2.0, until=S.flags_have(mask, "contactor_fault_flags"))
    if t_fail is None:
        raise S.PreconditionFailed(f"precharge_failed not set within {span + 2.0:g} s of "
                                   f"failing attempts; seen instead: {S.seen(loop)}",
                                   blame="OBSA-CONT-005")
    events = {"precharge failed": t_fail}
    for k in range(2):
        loop.run(0.5)
        loop.set("close_request", False)
        events[f"close request withdrawn ({k + 1})"] = loop.t
        loop.run(0.5)
        loop.set("close_request", True)
        events[f"close request raised ({k + 1})"] = loop.t
    loop.run(5.0)
    t = S.times(loop)
    after = t > t_fail
    state = S.channel(loop, "contactor_state")
    failed = S.flag_set(loop, "contactor_fault_flags", mask)
    obsa.judge("OBSA-CONT-005", {
        "fault_set": int(bool(np.all(failed[after])) and bool(np.all(state[after] == error))),
        "close_commands_after_failure": int(np.count_nonzero(_any_close(loop) & after)),
    }, events=events, message="close request toggled twice after the last failed attempt, no "
                              "reset request")
