"""A controller node: the reference blocks of one profile, stepped in the profile's order.

Components connect by signal name, the spec's wiring. A step starts from the node's inputs
(what the hardware and the vehicle give the controller: the plant's true quantities for the
hardware abstraction, the vehicle's close_request, the operator's fault_reset_request, the
charger's presence) and every component, in the order the profile lists them (the generated
:data:`~reference_impl.interfaces.PROFILE_COMPONENTS`), adds its outputs to the same record:
a component sees the outputs of the components before it from the same step.

A component that reads an output of a component later in the order sees that output from
the step before — one step late, as on a controller that runs its tasks in this order
every cycle — and, in the first step after ``reset()``, the signal's start value (zero,
False, the first enum value: :data:`~reference_impl.interfaces.SIGNAL_START`). On the full
BMS this is the contactor driver, which runs before the contactor manager and drives the
contactors with the manager's commands of the step before.

Each component runs at its own period (the generated
:data:`~reference_impl.interfaces.COMPONENT_PERIOD_S`), as the tasks of a controller do:
called every 10 ms, the node steps the safety supervisor every time, the estimators every
tenth time and the balancing every hundredth; between its steps a component's outputs hold.

Example::

    bms = Node("full_bms", {"cell": 96, "temperature_sensor": 24})
    bms.configure({"soc_estimator": {...}, ...})   # per component, as a manifest declares
    signals = bms.step(0.0, plant_side | {"close_request": True, "fault_reset_request": False,
                                          "charger_connected": False, "can_fault_flags": 0})
    signals["contactor_state"], signals["cell_soc"], signals["balancing_cmd"]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..component import TIME_EPS_S, Block, ConfigurationError
from ..connectivity.data_logger import DataLogger
from ..connectivity.hmi_api import HmiApi
from ..connectivity.telemetry import Telemetry
from ..functions.balancing import Balancing
from ..functions.charging import ChargeControl
from ..functions.contactors import ContactorManager
from ..functions.protection import Protection
from ..functions.safety import SafetySupervisor
from ..functions.soc import SocEstimator
from ..functions.soh import SohEstimator
from ..functions.sop import SopEstimator
from ..functions.thermal import ThermalManager
from ..hal.cell_monitor import CellMonitor
from ..hal.contactor_driver import ContactorDriver
from ..hal.current_sensor import CurrentSensor
from ..hal.isolation_monitor import IsolationMonitor
from ..hal.network_link import NetworkLink
from ..interfaces import (
    COMPONENT_INPUTS,
    COMPONENT_OUTPUTS,
    COMPONENT_PERIOD_S,
    PROFILE_COMPONENTS,
    SIGNAL_DIMENSION,
    SIGNAL_START,
)
from ..services.diagnostics import Diagnostics

REFERENCE_BLOCKS: dict[str, Callable[[], Block]] = {
    "cell_monitor": CellMonitor,
    "current_sensor": CurrentSensor,
    "isolation_monitor": IsolationMonitor,
    "contactor_driver": ContactorDriver,
    "safety_supervisor": SafetySupervisor,
    "contactor_manager": ContactorManager,
    "protection": Protection,
    "soc_estimator": SocEstimator,
    "soh_estimator": SohEstimator,
    "sop_estimator": SopEstimator,
    "balancing": Balancing,
    "thermal_manager": ThermalManager,
    "charge_control": ChargeControl,
    "data_logger": DataLogger,
    "diagnostics": Diagnostics,
    "hmi_api": HmiApi,
    "network_link": NetworkLink,
    "telemetry": Telemetry,
}
"""The reference block of every component the reference implementation has."""


class Node:
    """The reference blocks of ``profile`` stepped in its order (module docstring).

    ``dimensions`` (cell, temperature_sensor, …) sizes the start value of an array signal
    that a component reads before the component producing it has run; a profile that needs
    one and does not get its dimension is refused here, naming the signal.
    """

    def __init__(self, profile: str, dimensions: Mapping[str, int] | None = None) -> None:
        if profile not in PROFILE_COMPONENTS:
            raise ConfigurationError(f"node: unknown profile '{profile}'; expected one of "
                                     f"{', '.join(PROFILE_COMPONENTS)}")
        order = PROFILE_COMPONENTS[profile]
        missing = [c for c in order if c not in REFERENCE_BLOCKS]
        if missing:
            raise ConfigurationError(f"node: profile {profile}: the reference implementation "
                                     f"has no block for {', '.join(missing)}")
        self.profile = profile
        self.components: dict[str, Block] = {c: REFERENCE_BLOCKS[c]() for c in order}
        # the signals read before the component producing them runs: carried over a step
        produced_at: dict[str, int] = {}
        for i, c in enumerate(order):
            for signal in COMPONENT_OUTPUTS[c]:
                produced_at.setdefault(signal, i)
        self.carried = sorted({signal for i, c in enumerate(order)
                               for signal in COMPONENT_INPUTS[c]
                               if produced_at.get(signal, -1) >= i})
        dims = dict(dimensions or {})
        self._start: dict[str, Any] = {}
        for signal in self.carried:
            dimension = SIGNAL_DIMENSION.get(signal)
            if dimension is not None and dimension not in dims:
                raise ConfigurationError(
                    f"node: profile {profile}: {signal} is read before it is produced and "
                    f"starts as an array over '{dimension}'; expected that dimension in "
                    f"dimensions, found {sorted(dims) or 'none'}")
            self._start[signal] = (SIGNAL_START[signal] if dimension is None
                                   else np.full(dims[dimension], SIGNAL_START[signal]))
        self._last: dict[str, Any] = {}
        self.reset()

    def configure(self, parameters: Mapping[str, Mapping[str, Any]]) -> None:
        """Parameters per component id; a component not named takes the spec defaults."""
        unknown = sorted(set(parameters) - set(self.components))
        if unknown:
            raise ConfigurationError(f"node: unknown component(s) {', '.join(unknown)}; "
                                     f"expected one of: {', '.join(self.components)}")
        for name, component in self.components.items():
            component.configure(parameters.get(name, {}))

    def reset(self) -> None:
        """Every component back to its power-on state; the carried signals at their start."""
        for component in self.components.values():
            component.reset()
        self._last = {k: v.copy() if isinstance(v, np.ndarray) else v
                      for k, v in self._start.items()}
        self._due: dict[str, float | None] = dict.fromkeys(self.components)  # next step time
        self._held: dict[str, dict[str, Any]] = {}  # every component's latest outputs

    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Every signal of the step: the inputs and the outputs of every component (of
        those not due at ``t``, their outputs of their last step)."""
        signals = {**self._last, **inputs}
        due, held = self._due, self._held
        for name, component in self.components.items():
            next_s = due[name]
            if next_s is None or t >= next_s - TIME_EPS_S:
                period = COMPONENT_PERIOD_S[name]
                # its steps keep to its period from its first; a late call starts anew
                base = next_s if next_s is not None and t < next_s + period else t
                due[name] = base + period
                held[name] = component.step(t, signals)
            signals.update(held[name])
        self._last = {signal: signals[signal] for signal in self.carried}
        return signals
