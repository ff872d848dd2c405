"""Steps of the telemetry's scenarios (area CONN): each sentence runs its test case."""

from __future__ import annotations

from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when
from conformance.suite.test_telemetry import BURST_OUTAGES, UP_RECORDS

MODULE = "test_telemetry"


@when("the link stays up for {periods:d} declared publish periods from a seeded late clock "
      "start")
def period(context: Any, periods: int) -> None:
    if periods != UP_RECORDS:
        raise SuiteError(f"the test case runs {UP_RECORDS} periods; the scenario says {periods}")
    run_case(context, f"{MODULE}::test_publish_period")


@when("the records published with the link up, after a short outage and after an outage "
      "longer than the buffer are compared with the inputs at their time stamps")
def content(context: Any) -> None:
    run_case(context, f"{MODULE}::test_record_content")


@when("the link goes down for a seeded share of the declared buffer_capacity_records periods, "
      "then {outages:d} times for one to three steps, and stays up until the backlog is "
      "drained")
def short_outages(context: Any, outages: int) -> None:
    if outages != BURST_OUTAGES:
        raise SuiteError(f"the test case takes the link down {BURST_OUTAGES} times; the "
                         f"scenario says {outages}")
    run_case(context, f"{MODULE}::test_no_record_lost_in_a_short_outage")


@when("the records published after the short outages and after an outage longer than the "
      "buffer are read in publication order")
def order(context: Any) -> None:
    run_case(context, f"{MODULE}::test_records_in_time_order")


@when("the link goes down for the declared buffer_capacity_records periods and a seeded share "
      "more, and stays up until the backlog is drained")
def overflow(context: Any) -> None:
    run_case(context, f"{MODULE}::test_buffer_overflow")


@when("the steps after the short outages and after an outage longer than the buffer are "
      "watched while the telemetry reports a backlog")
def drain(context: Any) -> None:
    run_case(context, f"{MODULE}::test_backlog_drains")


@when("the link goes down for a seeded share of the declared buffer_capacity_records periods, "
      "the module's power is cut in the middle of the outage and it is started again and "
      "configured without a reset, and the link stays up until the backlog is drained")
def power_loss(context: Any) -> None:
    run_case(context, f"{MODULE}::test_backlog_survives_power_loss")
