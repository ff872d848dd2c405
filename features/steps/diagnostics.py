"""Steps of the fault memory's scenarios (area DIAG)."""

from __future__ import annotations

from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when, when_runs
from conformance.suite.steps import SAMPLED_OTHERS
from conformance.suite.test_diagnostics import STORED_WATCH_S
from conformance.suite.test_long_runs import LATE_CLOCKS

DIAG = "test_diagnostics"
LONG = "test_long_runs"


@when("the fault memory runs alone and, on the first, the last and {others:d} seeded of its rows "
      "that its flag inputs drive, the fault flag is raised three times (0.3 s high and 0.7 s "
      "low, 0.2 s high and 0.8 s low, 0.1 s high and 1 s low), then {watch:g} s pass without a "
      "reset request")
def occurrences_and_times(context: Any, others: int, watch: float) -> None:
    if others != SAMPLED_OTHERS or watch != STORED_WATCH_S:
        raise SuiteError(f"the test case samples {SAMPLED_OTHERS} rows besides the first and the "
                         f"last and watches {STORED_WATCH_S:g} s; the scenario says {others} "
                         f"and {watch:g} s")
    run_case(context, f"{DIAG}::test_occurrences_and_times")


@when("the fault memory runs alone on a clock started 0.5 s before {boundary:g} s, where {what}, "
      "and the cell_overvoltage flag is raised twice, 0.2 s high and 0.33 s low, once before "
      "that instant and once after it")
def occurrence_times_on_a_late_clock(context: Any, boundary: float, what: str) -> None:
    """The late-clock family: the boundary the sentence names."""
    ids = [k for k, b in LATE_CLOCKS.items() if abs(b - boundary) <= 1e-6 * max(1.0, b)]
    if not ids:
        raise SuiteError(f"the test case starts its clock before "
                         f"{', '.join(f'{b:.10g}' for b in LATE_CLOCKS.values())} s; the scenario "
                         f"says {boundary:g} s")
    run_case(context, f"{LONG}::test_occurrence_times_on_a_late_clock[{ids[0]}]")


#: the one-off scenarios: each sentence → the test case it runs
ONE_OFF: dict[str, str] = {
    ('the fault memory runs alone and the cell_undervoltage flag is raised 300 times, two step '
     'periods (0.02 s) high and two low'):
        f"{LONG}::test_occurrence_counter_past_255",
    ('the fault memory runs alone and the flag of the first fault code, in DTC order, of a '
     'component outside the claimed profiles (or, when the profiles hold them all, of a '
     'component other than the safety supervisor and the contactor manager) is raised twice, 0.2'
     ' s high and 0.5 s low'):
        "test_readings::test_codes_outside_the_profile_are_dtcs",
    ('the fault memory runs alone, the charge_overcurrent flag is raised once for 0.5 s, and 90 '
     's pass without a reset request'):
        f"{LONG}::test_stored_dtc_kept_for_minutes",
    ('the fault memory runs alone: the flag of the first of its rows that its flag inputs drive '
     'rises for 0.2 s and falls (the DTC stored), 0.3 s later the flag of the last such row '
     'rises and stays raised (the DTC active), and 0.3 s later a fault_reset_request pulse of '
     '0.05 s comes, then 0.3 s more'):
        f"{DIAG}::test_reset_keeps_history",
}
when_runs(ONE_OFF)
