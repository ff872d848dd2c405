"""Steps of the safety supervisor's scenarios (area SAFE)."""

from __future__ import annotations

from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when
from conformance.suite.test_safety_supervisor import LIMIT_KINDS, SUP

MODULE = "test_safety_supervisor"


@when("{what} is swept {direction} across the declared {msl} at {rate:g} {unit} per second, "
      "the first, the last and sampled channels one by one")
def msl_sweep(context: Any, what: str, direction: str, msl: str, rate: float,
              unit: str) -> None:
    """The MSL family: the limit is the one whose MSL parameter the sentence names."""
    h = context.obsa
    kinds = [k for k in LIMIT_KINDS if k.limits(h).levels.msl == msl]
    if not kinds:
        raise SuiteError(f"'{msl}' is no MSL parameter of the {SUP}")
    kind = kinds[0]
    expected = "up" if kind.direction > 0 else "down"
    if direction != expected or rate != kind.rate:
        raise SuiteError(f"the test case sweeps {msl} {expected} at {kind.rate:g} {unit}/s; "
                         f"the scenario says {direction} at {rate:g}")
    run_case(context, f"{MODULE}::test_msl_fault[{kind.fault}]")
