"""Conformance test cases of the contactor and precharge manager (area CONT)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from conformance.harness.context import Harness, Stimulus
from conformance.suite import steps as S

CM = S.CONTACTORS
req = pytest.mark.requirement

CLOSE_CMDS = ("main_positive_close_cmd", "main_negative_close_cmd", "precharge_close_cmd")


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) index pairs of the True runs of ``mask`` (end exclusive)."""
    m = np.concatenate(([False], mask.astype(bool), [False]))
    edges = np.flatnonzero(m[1:] != m[:-1])
    return list(zip(edges[::2], edges[1::2], strict=True))


def _any_close(loop) -> np.ndarray:
    return np.any([S.channel(loop, c) > 0.5 for c in CLOSE_CMDS], axis=0)


@req("OBSA-CONT-001", "OBSA-CONT-002")
def test_close_through_precharge(obsa: Harness) -> None:
    loop = obsa.run()
    S.settle(loop, 0.3)
    c = S.close_through_precharge(obsa, loop)
    events = {"close request": c.t_request}
    if c.t_main_positive is not None:
        events["main positive commanded"] = c.t_main_positive
    obsa.judge("OBSA-CONT-001", {"voltage_difference_at_close_V": c.voltage_difference_V},
               events=events,
               message="HV path closed on request; link vs pack voltage when main positive closes")
    if c.t_closed is not None:
        events["closed"] = c.t_closed
    obsa.judge("OBSA-CONT-002", {
        "close_time_s": None if c.t_closed is None else c.t_closed - c.t_request,
        "precharge_open_when_closed": c.precharge_open,
        "closing_order_kept": c.order_kept,
    }, events=events, message="close request on a healthy HV circuit; first close command "
                              "of each contactor in order main negative, precharge, main positive")


@req("OBSA-CONT-003", "OBSA-CONT-004", "OBSA-CONT-005")
def test_precharge_failure(obsa: Harness) -> None:
    p = obsa.params(CM)
    timeout, attempts = float(p["precharge_timeout_s"]), int(p["precharge_max_attempts"])
    wait = float(p["precharge_retry_wait_s"])
    dt = obsa.step_period(CM)
    mask = obsa.bit(CM, "precharge_failed")
    error = obsa.enum("contactor_state", "error")
    loop = obsa.run()
    loop.bench.inject(S.OpenResistor(signal="precharge", start_s=0.0))
    S.settle(loop, 0.3)
    t_req = loop.t
    loop.set("close_request", True)
    loop.run(attempts * (timeout + wait) + 2.0,
             until=lambda pool: int(pool["contactor_fault_flags"]) & mask != 0)
    t_fail = loop.t_s[-1]
    loop.run(10.0)
    pre = S.channel(loop, "precharge_close_cmd") > 0.5
    t = S.times(loop)
    runs = _runs(pre)
    longest = max(((e - s) * dt for s, e in runs), default=None)
    gaps = [t[runs[i + 1][0]] - t[runs[i][1]] for i in range(len(runs) - 1)]
    events = {"close request": t_req}
    for i, (s, _) in enumerate(runs[:5]):
        events[f"attempt {i + 1}"] = float(t[s])
    obsa.judge("OBSA-CONT-003", {
        "attempt_duration_s": None if longest is None else longest - dt,
    }, events=events, message="precharge resistor open: the DC link never charges",
       on_pins=("attempt_duration_s",))
    obsa.judge("OBSA-CONT-004", {
        "attempts_beyond_declared": abs(len(runs) - attempts),
        "retry_wait_shortfall_s": (wait - min(gaps)) if gaps else (0.0 if attempts == 1 else None),
    }, events=events, message=f"{len(runs)} precharge attempts observed, {attempts} declared",
       on_pins=("retry_wait_shortfall_s",))
    failed = S.flag_set(loop, "contactor_fault_flags", mask)
    t_flag = S.first_time(loop, failed)
    after = t > (t_flag if t_flag is not None else t_fail)
    if t_flag is not None:
        events["precharge failed"] = t_flag
    obsa.judge("OBSA-CONT-005", {
        "fault_set": int(bool(failed[-1]) and int(S.channel(loop, "contactor_state")[-1]) == error),
        "close_commands_after_failure": None if t_flag is None
        else int(np.count_nonzero(_any_close(loop) & after)),
    }, events=events, message="state and commands for 10 s after the last failed attempt")


@req("OBSA-CONT-006", "OBSA-CONT-010")
def test_open_on_request(obsa: Harness) -> None:
    loop = obsa.run(components=[CM])
    t_req = S.open_requested_on_closed_path(obsa, loop)
    loop.run(5.0)
    t = S.times(loop)
    closing = _any_close(loop)
    t_open = S.first_time(loop, ~closing, after=t_req)
    requested = t >= t_req
    rising = np.zeros_like(closing)
    for c in CLOSE_CMDS:
        x = S.channel(loop, c) > 0.5
        rising[1:] |= x[1:] & ~x[:-1]
    events = {"open request": t_req}
    if t_open is not None:
        events["all commanded open"] = t_open
    obsa.judge("OBSA-CONT-006", {"open_time_s": None if t_open is None else t_open - t_req},
               events=events, message="contactor_open_request raised on a closed HV path",
               on_pins=("open_time_s",))
    obsa.judge("OBSA-CONT-010", {
        "close_commands_while_open_requested": int(np.count_nonzero(rising & requested)),
    }, events=events, message="close_request held for 5 s while opening is requested")


@req("OBSA-CONT-007")
def test_opening_order(obsa: Harness) -> None:
    dt = obsa.step_period(CM)
    loop = obsa.run()
    S.settle(loop, 0.2)
    S.hv_closed(obsa, loop)
    loop.run(0.5)
    t_req = loop.t
    loop.set("close_request", False)
    loop.run(1.0)
    t_pos = S.first_time(loop, S.channel(loop, "main_positive_close_cmd") < 0.5, after=t_req)
    t_neg = S.first_time(loop, S.channel(loop, "main_negative_close_cmd") < 0.5, after=t_req)
    events = {"open request": t_req}
    if t_pos is not None:
        events["main positive open"] = t_pos
    if t_neg is not None:
        events["main negative open"] = t_neg
    order = delay = None
    if t_pos is not None and t_neg is not None:
        order, delay = int(t_neg < t_pos), t_neg - t_pos - dt
    obsa.judge("OBSA-CONT-007", {"order_violations": order, "negative_open_delay_s": delay},
               events=events, message="close request withdrawn on a closed HV path",
               on_pins=("negative_open_delay_s",))


CONTACTORS = ("main_positive", "main_negative", "precharge")


def _detection(obsa: Harness, loop, label: str, t_after: float, command: np.ndarray,
               command_label: str, detected: np.ndarray, flag_label: str) -> Stimulus:
    """detection_time_s: from the first ``command`` after ``t_after`` to the first step with
    ``detected``, less one step period."""
    delay, events = S.response(loop, command, detected, t_after, (command_label, flag_label))
    return Stimulus(label, {"detection_time_s": None if delay is None
                            else delay - obsa.step_period(CM)},
                    {f"{label}: {k}": v for k, v in events.items()}, loop)


def _weld(obsa: Harness, contactor: str) -> Stimulus:
    """Weld ``contactor`` and open it: the weld fault AND contactor_state error must follow
    within the declared feedback timeout of its open command."""
    mask = obsa.bit(CM, f"{contactor}_welded")
    error = obsa.enum("contactor_state", "error")
    cmd = f"{contactor}_close_cmd"
    loop = obsa.run()
    S.settle(loop, 0.2)
    if contactor == "precharge":  # opened by the closing sequence itself, once precharged
        loop.bench.inject(S.Welded(signal=contactor, start_s=loop.t))
        t_after = loop.t
        loop.set("close_request", True)
        loop.run(4.0)
        closed = S.first_time(loop, S.channel(loop, cmd) > 0.5, after=t_after)
        opened = None if closed is None else S.first_time(loop, S.channel(loop, cmd) < 0.5,
                                                          after=closed)
        if closed is None or opened is None:
            raise S.PreconditionFailed("the closing sequence never closed and then opened the "
                                       f"precharge contactor within 4 s; seen instead: "
                                       f"{S.seen(loop)}", blame="OBSA-CONT-002")
        t_after = closed
    else:
        S.hv_closed(obsa, loop)
        loop.bench.inject(S.Welded(signal=contactor, start_s=loop.t))
        loop.run(0.3)
        t_after = loop.t
        loop.set("close_request", False)
        loop.run(1.5)
    detected = S.flag_set(loop, "contactor_fault_flags", mask) & (
        S.channel(loop, "contactor_state") == error)
    return _detection(obsa, loop, contactor.replace("_", " "), t_after,
                      S.channel(loop, cmd) < 0.5, "commanded open", detected,
                      "weld fault and state error")


@req("OBSA-CONT-008")
def test_weld_detection(obsa: Harness) -> None:
    S.judge_each_possible(obsa, "OBSA-CONT-008",
                          [(c, functools.partial(_weld, obsa, c)) for c in CONTACTORS],
                          "each contactor welded in turn, then commanded open")


def _fails_to_close(obsa: Harness, contactor: str) -> Stimulus:
    mask = obsa.bit(CM, "feedback_mismatch")
    loop = obsa.run()
    loop.bench.inject(S.FailToClose(signal=contactor, start_s=0.0))
    S.settle(loop, 0.2)
    t_req = loop.t
    loop.set("close_request", True)
    loop.run(4.0)
    label = contactor.replace("_", " ")
    flagged = S.flag_set(loop, "contactor_fault_flags", mask)
    found = _detection(obsa, loop, label, t_req,
                       S.channel(loop, f"{contactor}_close_cmd") > 0.5, "commanded closed",
                       flagged, "mismatch detected")
    # the whole path opens after the fault (that it stays open while the fault is latched
    # is OBSA-CONT-011's, watched by its monitor)
    t_flag = S.first_time(loop, flagged, after=t_req)
    open_time = None
    if t_flag is not None:
        t_open = S.first_time(loop, ~_any_close(loop), after=t_flag)
        if t_open is not None:
            open_time = max(0.0, t_open - t_flag - float(obsa.param(CM, "opening_delay_s")))
            found.events[f"{label}: path open"] = t_open
    found.measured["open_time_s"] = open_time
    found.on_pins = ("open_time_s",)  # the flag may come late over a bus, the commands not
    return found


@req("OBSA-CONT-009")
def test_feedback_mismatch(obsa: Harness) -> None:
    obsa.judge_each("OBSA-CONT-009", [_fails_to_close(obsa, c) for c in CONTACTORS],
                    message="each contactor in turn never closes when commanded")


@req("OBSA-CONT-011")
def test_contactor_fault_latches(obsa: Harness) -> None:
    mask = obsa.bit(CM, "feedback_mismatch")
    loop = obsa.run()
    loop.bench.inject(S.FailToClose(signal="main_negative", start_s=0.0,
                              end_s=1.5))
    S.settle(loop, 0.2)
    loop.set("close_request", True)
    t_flag = loop.run(1.2, until=lambda pool: int(pool["contactor_fault_flags"]) & mask != 0)
    if t_flag is None:  # that is OBSA-CONT-009's failure; this one cannot be judged
        raise S.PreconditionFailed("no feedback mismatch detected within 1.2 s on a contactor "
                                   f"that does not close; seen instead: {S.seen(loop)}",
                                   blame="OBSA-CONT-009")
    loop.set("close_request", False)
    loop.run(5.0)  # the contactor works again; nobody resets
    flagged = S.flag_set(loop, "contactor_fault_flags", mask)
    self_cleared = S.first_time(loop, ~flagged, after=t_flag)
    t_reset = S.reset_faults(loop)
    loop.run(0.5)
    cleared = S.cleared_at(loop, "contactor_fault_flags", mask, after=t_reset)
    events = {"fault": t_flag, "reset": t_reset}
    obsa.judge("OBSA-CONT-011", {
        "self_cleared_faults": int(self_cleared is not None and self_cleared < t_reset),
        "reset_clears": int(cleared is not None),
    }, events=events, message="feedback mismatch, contactor repaired, reset after 5 s")
