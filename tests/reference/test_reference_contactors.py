"""The reference contactor manager against the behaviour of the spec (OBSA-CONT-*)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from reference_helpers import DT, ContactorLoop

from reference_impl.component import ConfigurationError
from reference_impl.functions.contactors import ContactorManager
from reference_impl.interfaces import PARAMETER_DEFAULTS, ContactorState
from reference_impl.interfaces import ContactorManagerFault as F

P = PARAMETER_DEFAULTS["contactor_manager"]
CMDS = ("main_positive_close_cmd", "main_negative_close_cmd", "precharge_close_cmd")
MakeLoop = Callable[..., ContactorLoop]


def steps_of(seconds: float) -> int:
    return round(seconds / DT)


def first(trace: list[dict[str, Any]], signal: str, value: Any = True, start: int = 0) -> int:
    """Index of the first step (from ``start``) whose ``signal`` equals ``value``."""
    return next(i for i in range(start, len(trace)) if trace[i][signal] == value)


def any_closed(out: dict[str, Any]) -> bool:
    return any(out[c] for c in CMDS)


def close(loop: ContactorLoop, seconds: float = 2.0) -> dict[str, Any]:
    return loop.run(steps_of(seconds), close_request=True)


# ------------------------------------------------------------------------------ closing
def test_outputs_are_exact_and_typed(spec) -> None:
    out = ContactorManager().step(0.0, {
        "close_request": False, "contactor_open_request": False, "fault_reset_request": False,
        "pack_voltage_V": 400.0, "link_voltage_V": 0.0,
        "main_positive_closed_fb": False, "main_negative_closed_fb": False,
        "precharge_closed_fb": False})
    assert set(out) == {p.signal for p in spec.interfaces["contactor_manager"].outputs}
    assert out == {"main_positive_close_cmd": False, "main_negative_close_cmd": False,
                   "precharge_close_cmd": False, "contactor_state": ContactorState.OPEN,
                   "precharge_attempts": 0, "contactor_fault_flags": 0}
    assert all(type(out[c]) is bool for c in CMDS)
    assert type(out["contactor_state"]) is int
    assert type(out["precharge_attempts"]) is int
    assert type(out["contactor_fault_flags"]) is int


def test_close_sequence_negative_precharge_positive(make_loop: MakeLoop) -> None:
    loop = make_loop()
    out = close(loop)
    trace = loop.trace
    assert out["contactor_state"] == ContactorState.CLOSED
    neg = first(trace, "main_negative_close_cmd")
    pre = first(trace, "precharge_close_cmd")
    pos = first(trace, "main_positive_close_cmd")
    assert neg < pre < pos
    pre_open = first(trace, "precharge_close_cmd", False, pos)
    closed = first(trace, "contactor_state", ContactorState.CLOSED)
    assert pre_open <= closed
    assert closed * DT <= 2.0
    assert out["main_negative_close_cmd"] and out["main_positive_close_cmd"]
    assert not out["precharge_close_cmd"]
    assert out["precharge_attempts"] == 1
    assert trace[pre]["contactor_state"] == ContactorState.PRECHARGING


def test_main_positive_closes_only_within_the_tolerance(make_loop: MakeLoop) -> None:
    loop = make_loop({"precharge_voltage_tolerance_V": 2.0}, tau_s=0.2)
    close(loop)
    pos = first(loop.trace, "main_positive_close_cmd")
    assert abs(loop.plant.pack_V - loop.trace[pos]["link_voltage_V"]) <= 2.0
    assert abs(loop.plant.pack_V - loop.trace[pos - 1]["link_voltage_V"]) > 2.0


def test_no_closing_while_open_is_requested(make_loop: MakeLoop) -> None:
    loop = make_loop()
    out = loop.run(steps_of(3.0), close_request=True, contactor_open_request=True)
    assert not any(any_closed(o) for o in loop.trace)
    assert out["contactor_state"] == ContactorState.OPEN
    out = loop.run(steps_of(2.0), contactor_open_request=False)  # level-sensitive close_request
    assert out["contactor_state"] == ContactorState.CLOSED


# ------------------------------------------------------------------------------ opening
def test_open_request_opens_everything_in_the_same_step(make_loop: MakeLoop) -> None:
    loop = make_loop()
    close(loop)
    out = loop.step(contactor_open_request=True)
    assert not any_closed(out)
    assert out["contactor_state"] == ContactorState.OPENING  # feedback still reads closed
    out = loop.run(10)
    assert out["contactor_state"] == ContactorState.OPEN


def test_open_request_during_precharge(make_loop: MakeLoop) -> None:
    loop = make_loop(tau_s=1.0)
    loop.run(steps_of(0.3), close_request=True)
    assert loop.trace[-1]["precharge_close_cmd"]
    assert not any_closed(loop.step(contactor_open_request=True))


@pytest.mark.parametrize("delay_s", [0.0, 0.02, 0.05])
def test_opening_order_positive_then_negative(make_loop: MakeLoop, delay_s: float) -> None:
    loop = make_loop({"opening_delay_s": delay_s})
    close(loop)
    start = len(loop.trace)
    loop.run(20, close_request=False)
    pos = first(loop.trace, "main_positive_close_cmd", False, start)
    neg = first(loop.trace, "main_negative_close_cmd", False, start)
    assert pos == start
    assert neg > pos
    assert (neg - pos) * DT <= delay_s + DT + 1e-9
    assert (neg - pos) * DT >= delay_s - 1e-9
    assert loop.trace[pos]["contactor_state"] == ContactorState.OPENING
    assert loop.trace[-1]["contactor_state"] == ContactorState.OPEN


# ----------------------------------------------------------------------------- precharge
def test_precharge_timeout_retries_and_failure(make_loop: MakeLoop) -> None:
    loop = make_loop(precharges=False)
    total = 3 * P["precharge_timeout_s"] + 2 * P["precharge_retry_wait_s"] + 1.0
    loop.run(steps_of(total), close_request=True)
    trace = loop.trace
    # attempts: runs of steps with the precharge commanded closed
    starts = [i for i in range(1, len(trace))
              if trace[i]["precharge_close_cmd"] and not trace[i - 1]["precharge_close_cmd"]]
    ends = [i for i in range(1, len(trace))
            if not trace[i]["precharge_close_cmd"] and trace[i - 1]["precharge_close_cmd"]]
    assert len(starts) == len(ends) == P["precharge_max_attempts"]
    for s, e in zip(starts, ends, strict=True):
        assert (e - s) * DT <= P["precharge_timeout_s"] + 1e-9
        assert (e - s) * DT >= P["precharge_timeout_s"] - DT
    for e, s in zip(ends, starts[1:], strict=False):
        assert (s - e) * DT >= P["precharge_retry_wait_s"]
    assert not any(o["main_positive_close_cmd"] for o in trace)
    failed = first(trace, "contactor_fault_flags", int(F.PRECHARGE_FAILED))
    assert trace[failed]["contactor_state"] == ContactorState.ERROR
    assert trace[failed]["precharge_attempts"] == P["precharge_max_attempts"]
    assert not any(any_closed(o) for o in trace[failed:])
    loop.run(steps_of(10.0))
    assert not any(any_closed(o) for o in trace[failed:])
    assert trace[-1]["contactor_fault_flags"] == F.PRECHARGE_FAILED
    out = loop.step(close_request=False, fault_reset_request=True)
    assert out["contactor_fault_flags"] == 0
    assert out["contactor_state"] == ContactorState.OPEN


def test_fewer_declared_attempts(make_loop: MakeLoop) -> None:
    loop = make_loop({"precharge_max_attempts": 1, "precharge_timeout_s": 0.5}, precharges=False)
    out = loop.run(steps_of(5.0), close_request=True)
    assert out["contactor_fault_flags"] == F.PRECHARGE_FAILED
    assert out["precharge_attempts"] == 1


def test_a_retry_can_succeed(make_loop: MakeLoop) -> None:
    loop = make_loop(precharges=False)
    loop.run(steps_of(P["precharge_timeout_s"] + 0.5), close_request=True)
    loop.plant.precharges = True
    out = loop.run(steps_of(P["precharge_retry_wait_s"] + 1.0))
    assert out["contactor_state"] == ContactorState.CLOSED
    assert out["precharge_attempts"] == 2
    assert out["contactor_fault_flags"] == 0


def test_attempts_count_from_the_last_close_request(make_loop: MakeLoop) -> None:
    loop = make_loop()
    close(loop)
    loop.run(20, close_request=False)
    assert loop.trace[-1]["precharge_attempts"] == 1
    assert close(loop)["precharge_attempts"] == 1


# ------------------------------------------------------------------- feedback supervision
@pytest.mark.parametrize(("contactor", "bit"), [
    ("main_positive", F.MAIN_POSITIVE_WELDED),
    ("main_negative", F.MAIN_NEGATIVE_WELDED),
])
def test_weld_detected_after_the_feedback_timeout(make_loop: MakeLoop, contactor: str,
                                                  bit: int) -> None:
    loop = make_loop(welded={contactor})
    close(loop)
    start = len(loop.trace)
    loop.run(steps_of(1.0), close_request=False)
    trace = loop.trace
    opened = first(trace, f"{contactor}_close_cmd", False, start)
    detected = next(i for i in range(start, len(trace)) if trace[i]["contactor_fault_flags"])
    assert trace[detected]["contactor_fault_flags"] == bit
    assert (detected - opened) * DT == pytest.approx(P["contactor_feedback_timeout_s"])
    assert trace[detected]["contactor_state"] == ContactorState.ERROR
    assert not any_closed(trace[-1])
    # latched; a reset does not clear it while the contactor still reads closed
    assert loop.run(steps_of(5.0))["contactor_fault_flags"] == bit
    assert loop.step(fault_reset_request=True)["contactor_fault_flags"] == bit
    loop.plant.welded.clear()
    loop.plant.closed[contactor] = False
    out = loop.step(fault_reset_request=True)
    assert out["contactor_fault_flags"] == 0
    assert out["contactor_state"] == ContactorState.OPEN


def test_feedback_mismatch_on_close_opens_the_path(make_loop: MakeLoop) -> None:
    loop = make_loop(stuck_open={"main_positive"})
    loop.run(steps_of(2.0), close_request=True)
    trace = loop.trace
    commanded = first(trace, "main_positive_close_cmd")
    detected = first(trace, "contactor_fault_flags", int(F.FEEDBACK_MISMATCH))
    assert (detected - commanded) * DT == pytest.approx(P["contactor_feedback_timeout_s"])
    assert trace[detected]["contactor_state"] == ContactorState.ERROR
    assert not any_closed(trace[-1])
    assert not any(any_closed(o) for o in trace[detected + 5:])  # open within opening_delay
    out = loop.step(fault_reset_request=True, close_request=False)
    assert out["contactor_fault_flags"] == 0


def test_mismatch_when_the_negative_never_closes(make_loop: MakeLoop) -> None:
    loop = make_loop(stuck_open={"main_negative"})
    out = loop.run(steps_of(1.0), close_request=True)
    assert out["contactor_fault_flags"] == F.FEEDBACK_MISMATCH
    assert not any(o["precharge_close_cmd"] for o in loop.trace)


def test_reset_waits_until_every_contactor_is_commanded_open(make_loop: MakeLoop) -> None:
    loop = make_loop(stuck_open={"main_positive"}, delay_steps=1)
    loop.run(steps_of(2.0), close_request=True, fault_reset_request=True)
    assert any(o["contactor_fault_flags"] for o in loop.trace)  # the held reset did not mask it
    detected = first(loop.trace, "contactor_fault_flags", int(F.FEEDBACK_MISMATCH))
    assert loop.trace[detected + 1]["contactor_fault_flags"] == F.FEEDBACK_MISMATCH


def test_configure_rejects_a_fractional_attempt_count() -> None:
    with pytest.raises(ConfigurationError, match="integer"):
        ContactorManager().configure({"precharge_max_attempts": 2.5})
