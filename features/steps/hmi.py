"""Steps of the HMI API's scenarios (area HMI): each sentence runs its test case."""

from __future__ import annotations

from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when
from conformance.suite.test_hmi_api import RUN_PERIODS

MODULE = "test_hmi_api"


def _check(periods: int) -> None:
    if periods != RUN_PERIODS:
        raise SuiteError(f"the test case runs {RUN_PERIODS} refresh periods; the scenario says "
                         f"{periods}")


@when("the age of the snapshot is watched while every input of the HMI API changes on every "
      "step for {periods:d} declared refresh periods")
def refresh(context: Any, periods: int) -> None:
    _check(periods)
    run_case(context, f"{MODULE}::test_snapshot_refresh")


@when("every field served is compared with its input while every input of the HMI API "
      "changes on every step for {periods:d} declared refresh periods")
def content(context: Any, periods: int) -> None:
    _check(periods)
    run_case(context, f"{MODULE}::test_snapshot_content")


@when("the diagnostics set and clear the DTCs of the first, the last and seeded rows, then a "
      "fault reset is requested")
def fault_memory(context: Any) -> None:
    run_case(context, f"{MODULE}::test_fault_memory_readable")
