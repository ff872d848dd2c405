"""Steps of the thermal manager's scenarios (area THERM): each sentence runs its test case."""

from __future__ import annotations

from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when
from conformance.suite.steps import SAMPLED_OTHERS
from conformance.suite.test_thermal import MARGIN_K, START_BEYOND_K

THERM = "test_thermal"

_SWITCHES = {
    ("up", "cooling_on_temperature_degC", "above", "cooling_off_temperature_degC", "down"):
        f"{THERM}::test_cooling_request",
    ("down", "heating_on_temperature_degC", "below", "heating_off_temperature_degC", "up"):
        f"{THERM}::test_heating_request",
}


def _check(others: int, margin: float | None = None) -> None:
    if others != SAMPLED_OTHERS or (margin is not None and margin != MARGIN_K):
        raise SuiteError(f"the test case sweeps {SAMPLED_OTHERS} seeded sensors besides the "
                         f"first and the last, from {MARGIN_K:g} K before each threshold; the "
                         f"scenario says {others} and {margin:g} K" if margin is not None else
                         f"the test case sweeps {SAMPLED_OTHERS} seeded sensors besides the "
                         f"first and the last; the scenario says {others}")


@when("the first, the last and {others:d} seeded temperature sensors are each swept {way} "
      "across the declared {on}, then set {margin:g} K {side} the declared {off} and swept "
      "{back} across it")
def switch_cycle(context: Any, others: int, way: str, on: str, margin: float, side: str,
                 off: str, back: str) -> None:
    _check(others, margin)
    key = _SWITCHES.get((way, on, side, off, back))
    if key is None:
        raise SuiteError(f"no test case sweeps {way} across {on} and {back} across {off} "
                         f"from {side}; known: cooling (up, then down) and heating (down, then "
                         "up)")
    run_case(context, key)


@when("heating is requested for one sensor {margin:g} K below heating_on, then the first, the "
      "last and {others:d} seeded other sensors are each set {margin2:g} K above cooling_on, "
      "and {margin3:g} K below cooling_off once cooling is requested")
def both_due(context: Any, margin: float, others: int, margin2: float,
             margin3: float) -> None:
    for m in (margin, margin2, margin3):
        _check(others, m)
    run_case(context, f"{THERM}::test_cooling_and_heating_due")


@when("the first, the last and {others:d} seeded temperature sensors are each made hotter, "
      "then colder, than the others until the valid temperatures spread by more than the "
      "declared temperature_spread_limit_K, and back")
def spread(context: Any, others: int) -> None:
    _check(others)
    run_case(context, f"{THERM}::test_temperature_spread")


_ACTUATORS = {("above", "cooling_on_temperature_degC", "coolant", "cooling_request"): "cooling",
              ("below", "heating_on_temperature_degC", "heaters", "heating_request"): "heating"}


@when("every cell starts {beyond:g} K {side} the declared {on} with the bench's {actuator} "
      "following {request}")
def closed_loop(context: Any, beyond: float, side: str, on: str, actuator: str,
                request: str) -> None:
    which = _ACTUATORS.get((side, on, actuator, request))
    if which is None or beyond != START_BEYOND_K:
        raise SuiteError(f"the test case starts every cell {START_BEYOND_K:g} K above "
                         "cooling_on (coolant, cooling_request) or below heating_on (heaters, "
                         f"heating_request); the scenario says {beyond:g} K {side} {on}, "
                         f"{actuator}, {request}")
    run_case(context, f"{THERM}::test_conditioning_closes_the_loop[{which}]")
