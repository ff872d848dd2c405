"""Simulated isolation monitor (spec: interfaces/isolation_monitor.yaml).

Reports the true insulation resistance clamped to the signal's range; the declared relative
accuracy is configuration for the bench's noise models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..component import resolve_parameters
from .signal_format import measure

COMPONENT = "isolation_monitor"


class IsolationMonitor:
    """Insulation resistance between the HV system and the chassis."""

    def __init__(self) -> None:
        self.configure({})

    def configure(self, parameters: Mapping[str, Any]) -> None:
        resolve_parameters(COMPONENT, parameters)
        self.reset()

    def reset(self) -> None:
        """Stateless: nothing to reset."""

    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"insulation_resistance_ohm": measure(
            "insulation_resistance_ohm", inputs["true_insulation_resistance_ohm"])}
