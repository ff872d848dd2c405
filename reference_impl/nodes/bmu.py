"""The BMU safety core: how the three components of the profile connect.

The profile ``bmu_safety_core`` runs, in this order each step, the safety supervisor, the
contactor manager and the diagnostics. Components connect by signal name: a step starts
from the node's inputs (measurement records from the hardware abstraction, the vehicle's
close_request, the operator's fault_reset_request) and every component adds its outputs to
the same record, so the contactor manager sees this step's contactor_open_request and the
diagnostics see this step's fault flags — no step of delay inside the node.

Example::

    core = BmuSafetyCore()
    core.configure({"safety_supervisor": {"cell_voltage_max_msl_V": 3.65}})
    signals = core.step(0.0, measurements | {"close_request": True,
                                             "fault_reset_request": False})
    signals["main_positive_close_cmd"], signals["dtc_status"]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..component import Block, ConfigurationError
from ..functions.contactors import ContactorManager
from ..functions.safety import SafetySupervisor
from ..interfaces import PROFILE_COMPONENTS
from ..services.diagnostics import Diagnostics

PROFILE = "bmu_safety_core"
BLOCKS: dict[str, type[Block]] = {
    "safety_supervisor": SafetySupervisor,
    "contactor_manager": ContactorManager,
    "diagnostics": Diagnostics,
}
"""The reference block of each component of the profile."""


class BmuSafetyCore:
    """Safety supervisor, contactor manager and diagnostics, stepped in the profile's order
    (the spec's, from the generated :data:`~reference_impl.interfaces.PROFILE_COMPONENTS`)."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {c: BLOCKS[c]() for c in PROFILE_COMPONENTS[PROFILE]}

    def configure(self, parameters: Mapping[str, Mapping[str, Any]]) -> None:
        """Parameters per component id; a component not named takes the spec defaults."""
        unknown = sorted(set(parameters) - set(self.components))
        if unknown:
            raise ConfigurationError(
                f"bmu: unknown component(s) {', '.join(unknown)}; "
                f"expected one of: {', '.join(self.components)}"
            )
        for name, component in self.components.items():
            component.configure(parameters.get(name, {}))

    def reset(self) -> None:
        for component in self.components.values():
            component.reset()

    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Every signal of the step: the inputs and the outputs of the three components."""
        signals = dict(inputs)
        for component in self.components.values():
            signals.update(component.step(t, signals))
        return signals
