"""Steps of the measurement hardware abstraction's scenarios (area MEAS: current sensor,
isolation monitor, contactor driver): each sentence runs its test case. The sentences are
built from the test case's own constants, so a scenario cannot say other numbers than the
case uses."""

from __future__ import annotations

from conformance.gherkin.steps import when_runs
from conformance.suite.test_measurement import (
    CURRENT_RANGE,
    DROPOUT_TIMEOUTS,
    DROPOUTS,
    INSULATION_MEASURED_S,
    INSULATION_SETTLE_S,
    MEASURED_STEPS,
    SEEDED_POINTS,
)

MEAS = "test_measurement"
_LOW, _HIGH = (f"{x:.0%}" for x in CURRENT_RANGE)

#: the scenarios: each sentence → the test case it runs
SENTENCES: dict[str, str] = {
    (f"the true pack current is held for {MEASURED_STEPS} steps at each of {_LOW} and {_HIGH} of "
     f"the declared largest charge and discharge currents and {SEEDED_POINTS} seeded fractions "
     "in between, in a seeded order"):
        f"{MEAS}::test_current_gain_error",
    (f"the true pack current is zero for {MEASURED_STEPS} steps with the HV path open, and "
     f"after the largest charge current, the largest discharge current and {SEEDED_POINTS} "
     "seeded currents"):
        f"{MEAS}::test_current_offset_error",
    ("the true pack current alternates in sign, from just above twice the declared offset to "
     f"the largest current declared, each held for {MEASURED_STEPS} steps"):
        f"{MEAS}::test_current_sign",
    (f"the true pack current changes on every step and the sensor's input delivers nothing in "
     f"{DROPOUTS} seeded windows of one step to {DROPOUT_TIMEOUTS:g} current-sensor timeouts"):
        f"{MEAS}::test_current_freshness",
    ("the pack is set empty, full and to seeded states of charge, and at each the DC link "
     "is discharged, precharged, closed at seeded currents of both signs and opened again"):
        f"{MEAS}::test_pack_and_link_voltage",
    ("the true insulation resistance is set to 10 kΩ, 10 MΩ and seeded values in between, each "
     f"measured for {INSULATION_MEASURED_S:g} s after {INSULATION_SETTLE_S:g} s"):
        f"{MEAS}::test_insulation_accuracy",
    ("each contactor in turn is commanded closed and open at seeded instants, then all "
     "together"):
        f"{MEAS}::test_contactor_driver",
}
when_runs(SENTENCES)
