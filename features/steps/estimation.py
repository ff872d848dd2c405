"""Steps of the state estimators' scenarios (area SOC): a test vector replayed to the module.

The family step finds its case from the vector the sentence names — a shipped drive cycle or
one of a vendor's (``obsa certify --vectors``: the scenario outline's examples take them,
:func:`conformance.gherkin.environment.add_vector_rows`) — and checks the sentence's start,
initial error and window against the case's constants."""

from __future__ import annotations

from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when, when_runs
from conformance.harness.replay import CHARGE_LIMIT_C, DISCHARGE_LIMIT_C
from conformance.suite.test_soc_estimator import (
    FAULT_S,
    INITIAL_ERROR,
    LONG_RUN_VECTORS,
    SOP_STOP_S,
    STALE_AFTER_S,
    STALE_S,
    START_S,
)
from conformance.vectors.discovery import discover_vectors

MODULE = "test_soc_estimator"


@when("the drive-cycle vector {vector} is replayed from {start:g} s on, the estimator "
      "configured with the characterization of its nominal cell and started {error:g} away "
      "from the true SoC (above it on the first, third, … drive cycle of the run, below it "
      "on the others)")
def drive_cycle(context: Any, vector: str, start: float, error: float) -> None:
    drive_cycles = [f.id for f in discover_vectors("drive_cycle")]
    if vector not in drive_cycles:
        raise SuiteError(f"'{vector}' is no drive-cycle vector of the run "
                         f"({', '.join(drive_cycles)})")
    if (start, error) != (START_S, INITIAL_ERROR):
        raise SuiteError(f"the test case replays from {START_S:g} s, {INITIAL_ERROR:g} away; "
                         f"the scenario says {start:g} s, {error:g}")
    run_case(context, f"{MODULE}::test_soc_on_a_drive_cycle[{vector}]")


@when("the nominal NMC drive cycle is replayed from {start:g} s to {stop:g} s and the current "
      "measurement is not renewed from {first:g} s to {last:g} s, reading 1C discharge")
def stale_current(context: Any, start: float, stop: float, first: float, last: float) -> None:
    case_stop = STALE_S[1] + STALE_AFTER_S
    if (start, stop, (first, last)) != (START_S, case_stop, STALE_S):
        raise SuiteError(f"the test case replays from {START_S:g} s to {case_stop:g} s and "
                         f"freezes the current from {STALE_S[0]:g} s to {STALE_S[1]:g} s; the "
                         f"scenario says {start:g} s to {stop:g} s, {first:g} s to {last:g} s")
    run_case(context, f"{MODULE}::test_stale_current_is_not_integrated")


@when("the long-run vector {vector} is replayed from its start, the estimator started at the "
      "true SoC and the current read with a constant offset of the declared "
      "current_offset_error_A, its sign drawn from the run's seed")
def long_run(context: Any, vector: str) -> None:
    if vector not in LONG_RUN_VECTORS:
        raise SuiteError(f"'{vector}' is no long-run vector of the suite "
                         f"({', '.join(LONG_RUN_VECTORS)})")
    run_case(context, f"{MODULE}::test_soc_does_not_drift_with_a_current_offset[{vector}]")


@when("the nominal NMC drive cycle is replayed to the SoP estimator from {start:g} s to "
      "{stop:g} s, the safety supervisor's limits {charge:g}C charge and {discharge:g}C "
      "discharge, the safety state fault from {first:g} s to {last:g} s")
def sop_replay(context: Any, start: float, stop: float, charge: float, discharge: float,
               first: float, last: float) -> None:
    said = (start, stop, charge, discharge, (first, last))
    case = (START_S, SOP_STOP_S, CHARGE_LIMIT_C, DISCHARGE_LIMIT_C, FAULT_S)
    if said != case:
        raise SuiteError(f"the test case replays from {START_S:g} s to {SOP_STOP_S:g} s with "
                         f"limits {CHARGE_LIMIT_C:g}C / {DISCHARGE_LIMIT_C:g}C and the fault "
                         f"from {FAULT_S[0]:g} s to {FAULT_S[1]:g} s; the scenario says {said}")
    run_case(context, f"{MODULE}::test_sop_within_the_safety_limits_and_zero_while_faulted")


#: the one-off scenarios: each sentence → the test case it runs
when_runs({
    ("the nominal NMC drive cycle is replayed to the SoH estimator from 600 s to its end, "
     "right after reset()"): f"{MODULE}::test_soh_definitions_and_first_values",
})
