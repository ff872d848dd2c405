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

from .node import Node


class BmuSafetyCore(Node):
    """Safety supervisor, contactor manager and diagnostics, stepped in the profile's order
    (the spec's, from the generated :data:`~reference_impl.interfaces.PROFILE_COMPONENTS`):
    the :class:`~.node.Node` of ``bmu_safety_core``."""

    def __init__(self) -> None:
        super().__init__("bmu_safety_core")
