"""Steps of the data logger's scenarios (area REG, lifetime data): each sentence runs its
test case."""

from __future__ import annotations

from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when
from conformance.suite.test_data_logger import MANY_EXCURSIONS, POWER_CUTS, THROUGHPUT_SEGMENTS

MODULE = "test_data_logger"


@when("the data logger runs for {seconds:g} s")
def dates(context: Any, seconds: float) -> None:
    if seconds != 2.0:
        raise SuiteError(f"the test case runs the logger for 2 s; the scenario says {seconds:g}")
    run_case(context, f"{MODULE}::test_dates_reported")


@when("the measured pack current runs through {segments:d} seeded segments of charge, "
      "discharge and rest and a closing discharge, with a pack voltage that follows it")
def throughput(context: Any, segments: int) -> None:
    if segments != THROUGHPUT_SEGMENTS:
        raise SuiteError(f"the test case runs {THROUGHPUT_SEGMENTS} segments; the scenario "
                         f"says {segments}")
    run_case(context, f"{MODULE}::test_throughput")


@when("the first, the last and seeded cells fall below the declared deep_discharge_threshold_V "
      "one at a time, then together overlapping, then one twice with a return just at or above "
      "the threshold in between, then one with its reading invalid during the excursion, and "
      "an open wire reads 0 V while no cell is below")
def deep_discharges(context: Any) -> None:
    run_case(context, f"{MODULE}::test_deep_discharge_events")


@when("the first, the last and seeded sensors go beyond the declared extreme and charge "
      "windows at rest, charging above and below the declared charging_current_threshold_A "
      "and discharging, two sensors overlap and an invalid sensor reads an extreme temperature")
def extreme_temperatures(context: Any) -> None:
    run_case(context, f"{MODULE}::test_time_at_extreme_temperatures")


@when("the throughput profile runs from a seeded late clock start, then the extreme "
      "temperatures, the deep discharges and {many:d} more deep discharges one after the other")
def never_decrease(context: Any, many: int) -> None:
    if many != MANY_EXCURSIONS:
        raise SuiteError(f"the test case runs {MANY_EXCURSIONS} more deep discharges; the "
                         f"scenario says {many}")
    run_case(context, f"{MODULE}::test_counters_never_decrease")


@when("the module's power is cut {cuts:d} times while the pack is charged and discharged at "
      "extreme temperatures and deep discharges, the first cut more than one declared "
      "lifetime_save_period_s after the start and the second just over one after its "
      "restart, and each time the module is started again and configured without a reset")
def power_loss(context: Any, cuts: int) -> None:
    if cuts != POWER_CUTS:
        raise SuiteError(f"the test case cuts the power {POWER_CUTS} times; the scenario says "
                         f"{cuts}")
    run_case(context, f"{MODULE}::test_lifetime_data_survives_power_loss")
