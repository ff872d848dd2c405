"""Steps of the safety supervisor's scenarios (area SAFE): sweep a measured quantity across
a declared limit, watch the fault latch, judge the trip."""

from __future__ import annotations

from typing import Any

from conformance.suite import steps as S
from features.steps.verdicts import given, judge, then, when

SUP = S.SUPERVISOR

#: the swept signal and the channel the trip is measured on, per quantity and direction
SWEPT = {
    ("voltage", +1): ("cell_voltage_V", "cell_voltage_max_V"),
    ("voltage", -1): ("cell_voltage_V", "cell_voltage_min_V"),
    ("temperature", +1): ("cell_temperature_degC", "cell_temperature_max_degC"),
    ("temperature", -1): ("cell_temperature_degC", "cell_temperature_min_degC"),
}
DIRECTIONS = {"up": +1, "down": -1}

#: a sweep starts this long (of ramp) before the limit: the margins of the pytest MSL cases
#: are two seconds of their sweep rates (20 mV at 10 mV/s, 0.4 K at 0.2 K/s)
LEAD_S = 2.0


@when("one cell {quantity} is swept {direction} across the declared {parameter} "
      "at {rate:g} {unit}/s")
def sweep_cell(context: Any, quantity: str, direction: str, parameter: str, rate: float,
               unit: str) -> None:
    sign = DIRECTIONS[direction]
    signal, context.quantity = SWEPT[(quantity, sign)]
    limit = float(context.obsa.param(SUP, parameter))
    context.sweep = S.sweep_measurement(context.loop, signal, limit, sign, rate, LEAD_S * rate)
    context.unit = unit
    context.message = f"{context.quantity} swept across the declared MSL {limit} at {rate}/s"


@then("the {fault} fault latches within the declared {delay_parameter}")
def fault_latches(context: Any, fault: str, delay_parameter: str) -> None:
    """Runs the sweep until the fault latches and observes the trip; the judging step
    decides whether it was in time and at the right level."""
    h, loop, sweep = context.obsa, context.loop, context.sweep
    mask = h.bit(SUP, fault)
    delay = float(h.param(SUP, delay_parameter))
    S.run_until_flag(loop, "safety_fault_flags", mask, sweep.duration_s(delay))
    S.settle(loop, 0.2)
    q = S.measured_quantity(loop, context.quantity)
    context.trip = S.observe_trip(loop, q, sweep.limit, sweep.direction, mask, delay,
                                  after=sweep.t0)


@then("the trip is judged against {requirement}")
def judge_trip(context: Any, requirement: str) -> None:
    measured = S.trip_measurements(context.trip, context.sweep.limit,
                                   context.obsa.step_period(SUP),
                                   f"trip_threshold_error_{context.unit}")
    judge(context, requirement, measured, message=context.message, events=context.trip.events())


@given("a cell over-voltage fault latched {above:g} V above the declared MSL")
def overvoltage_latched(context: Any, above: float) -> None:
    context.fault_mask = context.obsa.bit(SUP, "cell_overvoltage")
    context.t_fault = S.latch_overvoltage(context.obsa, context.loop, above=above)


@when("the cell voltage is back to normal for {seconds:g} s without a reset request")
def condition_heals(context: Any, seconds: float) -> None:
    loop = context.loop
    loop.bench.clear_faults()
    context.t_healed = loop.t
    context.healed_s = seconds
    loop.run(seconds)
    context.cleared = S.cleared_at(loop, "safety_fault_flags", context.fault_mask,
                                   after=context.t_healed)


@then("the fault has not cleared by itself, judged against {requirement}")
def judge_latching(context: Any, requirement: str) -> None:
    events = {"fault latched": context.t_fault, "condition cleared": context.t_healed}
    if context.cleared is not None:
        events["fault cleared without reset"] = context.cleared
    judge(context, requirement, {"self_cleared_faults": 0 if context.cleared is None else 1},
          events=events,
          message=f"cell voltage back to normal for {context.healed_s:g} s, no reset request")
