"""Simulated current sensor and HV voltage measurements (spec: interfaces/current_sensor.yaml).

Measures in every step, so the age of the current measurement stays zero while the plant
delivers a current. A missing true value (NaN: the bench's dropout) is not passed on as a
number: the last measurement is held and, for the current, its age grows — which is how a
lost sensor looks to the functions. The declared gain and offset errors are configuration
for the bench's noise models; this ideal driver only quantises and clamps.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..component import Block
from .signal_format import measure

COMPONENT = "current_sensor"


class CurrentSensor(Block):
    """Pack current, pack voltage and DC-link voltage."""

    COMPONENT = COMPONENT

    def reset(self) -> None:
        self._held = {"pack_current_A": 0.0, "pack_voltage_V": 0.0, "link_voltage_V": 0.0}
        self._fresh_s: float | None = None  # time of the last current measurement

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        held = self._held
        for signal in held:
            value = measure(signal, inputs[f"true_{signal}"])
            if not math.isnan(value):
                held[signal] = value
                if signal == "pack_current_A":
                    self._fresh_s = t
        if self._fresh_s is None:
            self._fresh_s = t  # never measured: the age counts from power-on
        return {**held, "current_sensor_age_s": measure("current_sensor_age_s", t - self._fresh_s)}
