"""Steps that put the module on the bench: a fresh closed loop from the scenario's harness."""

from __future__ import annotations

from typing import Any

from conformance.suite import steps as S
from features.steps.verdicts import given


@given("the module at rest on the bench with ideal sensors")
def module_at_rest(context: Any) -> None:
    context.loop = S.start(context.obsa, "rest")


@given("the module on the bench with its declared sensor accuracy")
def module_with_declared_sensors(context: Any) -> None:
    context.loop = context.obsa.run()
    S.settle(context.loop, 0.3)
