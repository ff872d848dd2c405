"""Time criteria compare on the step (spec: ``resolution: step`` on every criterion in s)."""

from __future__ import annotations

import math

from conformance.harness.context import compare_in_steps
from conformance.spec import load_spec


def test_every_time_criterion_compares_on_the_step() -> None:
    spec = load_spec()
    times = [c for r in spec.requirements.values() for c in r.acceptance if c.unit == "s"]
    assert times and all(c.resolution == "step" for c in times)


def test_an_exact_wait_is_not_short() -> None:
    wait = 410 * 0.01 - 110 * 0.01  # 2.9999999999999996: an exact 300-step wait
    assert wait < 3.0
    assert compare_in_steps(3.0 - wait, "<=", 0.0, 0.01)  # retry_wait_shortfall_s
    assert compare_in_steps(wait, ">=", 3.0, 0.01)


def test_one_step_short_is_short() -> None:
    assert not compare_in_steps(3.0 - 2.99, "<=", 0.0, 0.01)
    assert not compare_in_steps(0.21, "<=", 0.2, 0.01)
    assert compare_in_steps(0.2, "<=", 0.2, 0.01)


def test_non_finite_values() -> None:
    assert not compare_in_steps(math.nan, "<=", 0.2, 0.01)
    assert not compare_in_steps(math.inf, "<=", 0.2, 0.01)
    assert compare_in_steps(-math.inf, "<=", 0.2, 0.01)
