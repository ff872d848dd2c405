"""Steps of the contactor manager's scenarios (area CONT)."""

from __future__ import annotations

from typing import Any

from conformance.suite import steps as S
from features.steps.verdicts import judge, then, when


@when("the HV path is requested closed")
def request_close(context: Any) -> None:
    context.closing = S.close_through_precharge(context.obsa, context.loop)


@then("the voltage across main positive when it closes is judged against {requirement}")
def judge_voltage_at_close(context: Any, requirement: str) -> None:
    c = context.closing
    judge(context, requirement, {"voltage_difference_at_close_V": c.voltage_difference_V},
          events=c.events(),
          message="HV path closed on request; link vs pack voltage when main positive closes")


@then("the closing is judged against {requirement}")
def judge_closing(context: Any, requirement: str) -> None:
    c = context.closing
    judge(context, requirement, {
        "close_time_s": None if c.t_closed is None else c.t_closed - c.t_request,
        "precharge_open_when_closed": c.precharge_open,
    }, events=c.events(), message="close request on a healthy HV circuit")
