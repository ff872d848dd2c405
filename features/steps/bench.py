"""Steps every feature shares: the module on the bench, and the one Then step
(:func:`conformance.gherkin.steps.judged_against`)."""

from __future__ import annotations

from typing import Any

from conformance.gherkin.steps import JUDGED_AGAINST, given, judged_against, then

then(JUDGED_AGAINST)(judged_against)


@given("the module on the bench, configured as its manifest declares")
def module_on_the_bench(context: Any) -> None:
    """The scenario's harness: the claimed components, configured with the declared
    parameters (spec defaults where nothing is declared), on a bench built for the
    declared pack and sensor accuracies. Each test case starts its own closed loop."""
    if context.obsa is None:
        raise AssertionError("no harness: the scenario's requirements do not apply")
