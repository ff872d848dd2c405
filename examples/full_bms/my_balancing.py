"""A vendor's passive balancing, written from ``spec/interfaces/balancing.yaml``, the BAL
requirements (``spec/requirements/balancing.yaml``) and the vendor guide alone.

At rest (the current below ``balancing_rest_current_A`` for ``balancing_rest_time_s``), a
cell more than ``balancing_threshold_V`` above the lowest valid cell is bled until it is no
more than ``balancing_threshold_V - balancing_hysteresis_V`` above it. Nothing is bled while
the pack is faulted or a temperature sensor reads hot or invalid; a cell whose voltage is
invalid is neither bled nor taken as the lowest.

:class:`MyBalancing` is the first version and carries the mistake section 10 of the vendor
guide walks through: it reads ``balancing_min_cell_voltage_V`` as a floor for the cell it
bleeds, and keeps bleeding the high cells while another cell is below it (OBSA-BAL-004 says
no cell is balanced then: the pack is nearly empty). :class:`MyBalancingFixed` blocks the
whole pack, as the spec asks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

FAULT = 3
"""safety_state fault (spec/dictionary.yaml, enum safety_state)."""
LOCKOUT = 4
"""safety_state lockout."""


class MyBalancing:
    """configure / reset / step, as the vendor guide's section 1 asks."""

    def configure(self, parameters: dict[str, Any]) -> None:
        self.threshold_V = float(parameters["balancing_threshold_V"])
        self.hysteresis_V = float(parameters["balancing_hysteresis_V"])
        self.min_cell_V = float(parameters["balancing_min_cell_voltage_V"])
        self.max_temperature_degC = float(parameters["balancing_max_temperature_degC"])
        self.rest_current_A = float(parameters["balancing_rest_current_A"])
        self.rest_time_s = float(parameters["balancing_rest_time_s"])
        self.reset()

    def reset(self) -> None:
        self.bleeding: np.ndarray | None = None
        self.below_rest_since_s: float | None = None

    def _at_rest(self, t: float, current_A: float) -> bool:
        """True once the current magnitude has stayed below the rest current for the rest
        time, counted from the first step of the present stay below it (NaN: not at rest)."""
        if not abs(current_A) < self.rest_current_A:
            self.below_rest_since_s = None
            return False
        if self.below_rest_since_s is None:
            self.below_rest_since_s = t
        return t - self.below_rest_since_s >= self.rest_time_s

    def _may_bleed(self, voltage_V: np.ndarray, valid: np.ndarray) -> np.ndarray:
        """The cells the voltage floor lets us bleed: here every cell at or above it."""
        return voltage_V >= self.min_cell_V

    def step(self, t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        voltage_V = np.asarray(inputs["cell_voltage_V"], dtype=float)
        valid = np.asarray(inputs["cell_voltage_valid"], dtype=bool) & np.isfinite(voltage_V)
        temperature_degC = np.asarray(inputs["cell_temperature_degC"], dtype=float)
        temperature_ok = (np.asarray(inputs["cell_temperature_valid"], dtype=bool)
                          & (temperature_degC <= self.max_temperature_degC))
        if self.bleeding is None or self.bleeding.shape != voltage_V.shape:
            self.bleeding = np.zeros(voltage_V.shape, dtype=bool)
        at_rest = self._at_rest(t, float(inputs["pack_current_A"]))
        permitted = (at_rest and bool(np.all(temperature_ok)) and valid.any()
                     and int(inputs["safety_state"]) not in (FAULT, LOCKOUT))
        if not permitted:
            self.bleeding[:] = False
        else:
            above_lowest_V = voltage_V - float(np.min(voltage_V[valid]))
            start = above_lowest_V > self.threshold_V
            keep = self.bleeding & (above_lowest_V > self.threshold_V - self.hysteresis_V)
            self.bleeding = valid & (start | keep) & self._may_bleed(voltage_V, valid)
        return {"balancing_cmd": self.bleeding.tolist(),
                "balancing_active": bool(self.bleeding.any())}


class MyBalancingFixed(MyBalancing):
    """The fix: no cell is bled while any valid cell is below the floor (OBSA-BAL-004)."""

    def _may_bleed(self, voltage_V: np.ndarray, valid: np.ndarray) -> np.ndarray:
        low = bool(np.any(valid & (voltage_V < self.min_cell_V)))
        return np.full(voltage_V.shape, not low)
