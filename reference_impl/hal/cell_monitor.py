"""Simulated cell monitor (spec: interfaces/cell_monitor.yaml).

Samples every cell voltage and temperature once per measurement_cycle_s and holds the values
in between, like an analog front end polled by the master; cell_monitor_age_s is the time
since the last complete cycle. The declared accuracies are configuration for the bench's
noise models; this ideal driver only quantises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..component import TIME_EPS_S, Block
from .signal_format import measure, measure_array

COMPONENT = "cell_monitor"


class CellMonitor(Block):
    """Cell voltages and temperatures with validity and age."""

    COMPONENT = COMPONENT

    def _setup(self, p: dict[str, Any]) -> None:
        self._cycle_s = p["measurement_cycle_s"] - TIME_EPS_S

    def reset(self) -> None:
        self._sampled_s: float | None = None
        self._record: dict[str, Any] = {}

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if self._sampled_s is None or t - self._sampled_s >= self._cycle_s:
            voltages, voltages_valid = measure_array(
                "cell_voltage_V", np.asarray(inputs["true_cell_voltage_V"], dtype=float))
            temperatures, temperatures_valid = measure_array(
                "cell_temperature_degC",
                np.asarray(inputs["true_cell_temperature_degC"], dtype=float))
            self._record = {
                "cell_voltage_V": voltages,
                "cell_voltage_valid": voltages_valid,
                "cell_temperature_degC": temperatures,
                "cell_temperature_valid": temperatures_valid,
            }
            self._sampled_s = t
        return {**self._record,
                "cell_monitor_age_s": measure("cell_monitor_age_s", t - self._sampled_s)}
