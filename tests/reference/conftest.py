"""Fixtures of the reference implementation's unit tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from reference_helpers import ContactorLoop, HvPlant, Stepper, nominal_safety_inputs

from conformance.spec import load_spec
from reference_impl.functions.contactors import ContactorManager
from reference_impl.functions.safety import SafetySupervisor
from reference_impl.interfaces import PARAMETER_DEFAULTS, PARAMETER_FEATURES


@pytest.fixture(scope="session")
def spec():
    return load_spec()


#: The optional features' parameters at their spec defaults: passing them turns the features
#: on (a module receives them when it claims the feature).
EVERY_FEATURE = {name: PARAMETER_DEFAULTS["safety_supervisor"][name]
                 for name in PARAMETER_FEATURES["safety_supervisor"]}


@pytest.fixture
def supervisor() -> Stepper:
    """A safety supervisor with spec defaults and every optional feature, fed a healthy
    pack at rest."""
    sup = SafetySupervisor()
    sup.configure(EVERY_FEATURE)
    return Stepper(sup, nominal_safety_inputs())


@pytest.fixture
def make_loop() -> Callable[..., ContactorLoop]:
    """Factory: a contactor manager (optional parameters) in loop with an HvPlant (options)."""
    def make(parameters: dict[str, Any] | None = None, **plant: Any) -> ContactorLoop:
        manager = ContactorManager()
        manager.configure(parameters or {})
        return ContactorLoop(manager, HvPlant(**plant))
    return make
