"""Steps of the cell monitor's scenarios (area MEAS): each sentence runs its test case."""

from __future__ import annotations

from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when, when_runs
from conformance.suite.steps import SAMPLED_OTHERS
from conformance.suite.test_cell_monitor import (
    MEASURED_CYCLES,
    SEEDED_LEVELS,
    SENSOR_FAULTS,
    SETTLE_CYCLES,
)

CMU = "test_cell_monitor"


def _check_levels(levels: int, measured: int, settling: int) -> None:
    if (levels, measured, settling) != (SEEDED_LEVELS, MEASURED_CYCLES, SETTLE_CYCLES):
        raise SuiteError(f"the test case measures {SEEDED_LEVELS} seeded operating points, each "
                         f"on {MEASURED_CYCLES} cycles after {SETTLE_CYCLES} settling cycles; "
                         f"the scenario says {levels}, {measured} and {settling}")


@when("every cell is set to its own seeded voltage around both ends of the declared chemistry's "
      "window (empty and full) and {levels:d} seeded operating points in between, and each "
      "point is measured on every step of {measured:d} measurement cycles after {settling:d} "
      "settling cycles")
def voltage_accuracy(context: Any, levels: int, measured: int, settling: int) -> None:
    _check_levels(levels, measured, settling)
    run_case(context, f"{CMU}::test_cell_voltage_accuracy")


@when("every temperature sensor is set to its own seeded temperature around both ends of the "
      "range of the safety supervisor's temperature limits and {levels:d} seeded operating "
      "points in between, and each point is measured on every step of {measured:d} measurement "
      "cycles after {settling:d} settling cycles")
def temperature_accuracy(context: Any, levels: int, measured: int, settling: int) -> None:
    _check_levels(levels, measured, settling)
    run_case(context, f"{CMU}::test_cell_temperature_accuracy")


@when("the first sense wire (below cell 1), the last (above the last cell) and {others:d} "
      "seeded others open, each on a fresh bench at a seeded phase of the measurement cycle")
def open_sense_wire(context: Any, others: int) -> None:
    if others != SAMPLED_OTHERS:
        raise SuiteError(f"the test case opens {SAMPLED_OTHERS} seeded wires besides the first "
                         f"and the last; the scenario says {others}")
    run_case(context, f"{CMU}::test_open_sense_wire")


_RAILS = {"open": "open (their input at the cold rail)",
          "shorted": "short (their input at the hot rail)"}


@when("the first, the last and {others:d} seeded temperature sensors {what}, each on a fresh "
      "bench at a seeded phase of the measurement cycle")
def temperature_sensor_fault(context: Any, others: int, what: str) -> None:
    kinds = [k for k, words in _RAILS.items() if words == what and k in SENSOR_FAULTS]
    if others != SAMPLED_OTHERS or not kinds:
        raise SuiteError(f"the test case faults {SAMPLED_OTHERS} seeded sensors besides the "
                         f"first and the last, and knows "
                         f"{' or '.join(repr(w) for w in _RAILS.values())}; the scenario says "
                         f"{others} and {what!r}")
    run_case(context, f"{CMU}::test_temperature_sensor_fault[{kinds[0]}]")


#: the one-off scenarios: each sentence → the test case it runs
ONE_OFF: dict[str, str] = {
    ("the true values change on every step while cell_monitor_age_s is compared with the time "
     "since the module's last complete cycle, then every cell and every sensor steps its true "
     "value at its own seeded instant"):
        f"{CMU}::test_measurement_cycle",
}
when_runs(ONE_OFF)
