"""Steps of the SoP estimator's scenarios judged in closed loop on the truth (area SOP): a
vector replayed to the module, its limits drawn from the vector's truth model.

The step finds its case from the vector the sentence names and checks the sentence's
window and sample count against the case's constants."""

from __future__ import annotations

from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when
from conformance.suite.test_sop_estimator import SAMPLES, VECTORS, WINDOW_S

MODULE = "test_sop_estimator"


@when("the vector {vector} is replayed to the SoP estimator for {window:g} s around the time "
      "its cells come nearest a voltage limit, and at {samples:d} seeded sample times and "
      "that time each limit it reports is drawn from the vector's truth model for the "
      "declared sop_horizon_s")
def sop_on_the_truth(context: Any, vector: str, window: float, samples: int) -> None:
    if vector not in VECTORS:
        raise SuiteError(f"'{vector}' is no vector with a truth model ({', '.join(VECTORS)})")
    if (window, samples) != (WINDOW_S, SAMPLES):
        raise SuiteError(f"the test case replays {WINDOW_S:g} s and draws at {SAMPLES} seeded "
                         f"sample times; the scenario says {window:g} s, {samples}")
    run_case(context, f"{MODULE}::test_sop_limits_hold_on_the_truth[{vector}]")
