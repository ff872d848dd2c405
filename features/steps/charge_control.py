"""Steps of the charge control's scenarios (area CHG): each sentence runs its test case."""

from __future__ import annotations

from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when
from conformance.suite.steps import SAMPLED_OTHERS
from conformance.suite.test_charge_control import (
    HOLD_AFTER_COMPLETE_S,
    LIMIT_SEGMENTS,
    SEGMENT_S,
)

CHG = "test_charge_control"

_LIMITS = {
    "every cell below the limit": f"{CHG}::test_constant_current",
    "then a whole charge runs from a seeded start with a seeded cell the fullest":
        f"{CHG}::test_voltage_request_limit",
}


def _check_segments(segments: int, seconds: float) -> None:
    if (segments, seconds) != (LIMIT_SEGMENTS, SEGMENT_S):
        raise SuiteError(f"the test case steps the limits through {LIMIT_SEGMENTS} segments of "
                         f"{SEGMENT_S:g} s; the scenario says {segments} of {seconds:g} s")


@when("the charge runs in constant current while the limits step through {segments:d} seeded "
      "segments of {seconds:g} s")
def limits(context: Any, segments: int, seconds: float) -> None:
    _check_segments(segments, seconds)
    run_case(context, f"{CHG}::test_current_request_limits")


@when("the charge runs in constant current while the limits step through {segments:d} seeded "
      "segments of {seconds:g} s, {rest}")
def limits_and(context: Any, segments: int, seconds: float, rest: str) -> None:
    _check_segments(segments, seconds)
    key = _LIMITS.get(rest)
    if key is None:
        raise SuiteError(f"no test case continues the limit segments with {rest!r}")
    run_case(context, key)


@when("whole charges run until the phase is complete, the first, the last and {others:d} "
      "seeded cells each the fullest on a fresh bench, with the other cells spread below it")
def whole_charges(context: Any, others: int) -> None:
    if others != SAMPLED_OTHERS:
        raise SuiteError(f"the test case makes {SAMPLED_OTHERS} seeded cells the fullest besides "
                         f"the first and the last; the scenario says {others}")
    run_case(context, f"{CHG}::test_no_cell_above_limit")


@when("the charge runs in constant current and, one at a time for a seeded 1 to 2 s, the "
      "charger disconnects, the contactor state takes every value but closed, the safety "
      "state is fault and lockout, and charge_current_limit_A is zero")
def forbidden(context: Any) -> None:
    run_case(context, f"{CHG}::test_no_request_when_forbidden")


@when("a whole charge runs from a seeded start with a seeded cell the fullest until the phase "
      "is complete, and the charger stays connected {seconds:g} s more")
def termination(context: Any, seconds: float) -> None:
    if seconds != HOLD_AFTER_COMPLETE_S:
        raise SuiteError(f"the test case keeps the charger connected {HOLD_AFTER_COMPLETE_S:g} "
                         f"s after completion; the scenario says {seconds:g} s")
    run_case(context, f"{CHG}::test_termination")
