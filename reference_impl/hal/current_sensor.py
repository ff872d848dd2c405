"""Simulated current sensor and HV voltage measurements (spec: interfaces/current_sensor.yaml).

Measures in every step, so the age of the current measurement is always zero; the declared
gain and offset errors are configuration for the bench's noise models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..component import resolve_parameters
from .signal_format import measure

COMPONENT = "current_sensor"


class CurrentSensor:
    """Pack current, pack voltage and DC-link voltage."""

    def __init__(self) -> None:
        self.configure({})

    def configure(self, parameters: Mapping[str, Any]) -> None:
        resolve_parameters(COMPONENT, parameters)
        self.reset()

    def reset(self) -> None:
        """Stateless: nothing to reset."""

    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "pack_current_A": measure("pack_current_A", inputs["true_pack_current_A"]),
            "current_sensor_age_s": 0.0,
            "pack_voltage_V": measure("pack_voltage_V", inputs["true_pack_voltage_V"]),
            "link_voltage_V": measure("link_voltage_V", inputs["true_link_voltage_V"]),
        }
