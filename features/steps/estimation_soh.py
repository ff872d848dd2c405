"""Steps of the SoH estimator's scenarios judged against the truth (areas SOH, REG): a cycle
vector replayed to the module.

The step finds its case from the vector the sentence names."""

from __future__ import annotations

from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when
from conformance.suite.test_soh_estimator import CYCLE_VECTORS

MODULE = "test_soh_estimator"


@when("the cycle vector {vector} is replayed to the SoH estimator from its start, right after "
      "reset(), the estimator configured with the characterization and beginning-of-life "
      "values of its nominal cell")
def cycle_vector(context: Any, vector: str) -> None:
    if vector not in CYCLE_VECTORS:
        raise SuiteError(f"'{vector}' is no cycle vector of the suite "
                         f"({', '.join(CYCLE_VECTORS)})")
    run_case(context, f"{MODULE}::test_soh_after_two_full_cycles[{vector}]")
