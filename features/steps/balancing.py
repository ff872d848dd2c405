"""Steps of the balancing's scenarios (area BAL): each sentence runs its test case."""

from __future__ import annotations

from conformance.gherkin.steps import when_runs
from conformance.suite.steps import SAMPLED_OTHERS
from conformance.suite.test_balancing import (
    ABOVE_MAX_K,
    BALANCED_ABOVE_V,
    BELOW_MIN_V,
    SWEEP_BEYOND_V,
    SWEEP_RATE_V_PER_S,
)

BAL = "test_balancing"
_OTHERS = f"the first, the last and {SAMPLED_OTHERS} seeded other"
_mV = 1e3

#: the scenarios' sentences, built from the test cases' constants (a changed constant
#: leaves its sentence undefined) → the test case each runs
ONE_OFF: dict[str, str] = {
    (f"at rest {_OTHERS} cells read from below the declared balancing_threshold_V above the "
     f"lowest cell up to {SWEEP_BEYOND_V * _mV:g} mV beyond it, at "
     f"{SWEEP_RATE_V_PER_S * _mV:g} mV per step, while the other cells read half-way to the "
     "threshold"):
        f"{BAL}::test_start_threshold",
    (f"at rest {_OTHERS} cells are balanced {SWEEP_BEYOND_V * _mV:g} mV beyond the declared "
     f"balancing_threshold_V, then read down at {SWEEP_RATE_V_PER_S * _mV:g} mV per step to "
     "30 mV below the threshold less the declared balancing_hysteresis_V"):
        f"{BAL}::test_stop_threshold",
    (f"a cell reads {BALANCED_ABOVE_V * _mV:g} mV beyond the threshold while the measured "
     "current is a discharge above the declared balancing_rest_current_A, then exactly it, "
     "then below it for half the declared balancing_rest_time_s, at it for one step, below "
     "it again, and last a charge above it"):
        f"{BAL}::test_rest",
    (f"at rest with a seeded cell balanced, {_OTHERS} cells each read "
     f"{BELOW_MIN_V * _mV:g} mV below the declared balancing_min_cell_voltage_V"):
        f"{BAL}::test_min_cell_voltage",
    (f"at rest with a seeded cell balanced, {_OTHERS} temperature sensors each read "
     f"{ABOVE_MAX_K:g} K above the declared balancing_max_temperature_degC, then are flagged "
     "invalid"):
        f"{BAL}::test_max_temperature",
    "at rest with a seeded cell balanced, the safety state is fault, then normal, then lockout":
        f"{BAL}::test_fault_and_lockout",
    (f"at rest {_OTHERS} cells each read high but invalid, then with an open sense wire "
     "(0 V, invalid)"):
        f"{BAL}::test_invalid_cells",
}
when_runs(ONE_OFF)
