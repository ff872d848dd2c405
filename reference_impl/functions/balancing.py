"""Passive cell balancing (spec: interfaces/balancing.yaml, requirements OBSA-BAL-001..008).

Each step:

1. **Rest.** The pack is at rest once ``|pack_current_A| < balancing_rest_current_A`` has
   held in every step since the first step in which it held, for at least
   ``balancing_rest_time_s`` (:class:`~..services.debounce.Debounce` on the step times the
   component has seen, never from t = 0; any step interval). A NaN current is not below
   the rest current: it ends the rest (OBSA-BAL-003).
2. **Permission.** Balancing is permitted only at rest, while no usable cell voltage is
   below ``balancing_min_cell_voltage_V`` (OBSA-BAL-004), while every temperature sensor is
   valid, reads a number and no reading is above ``balancing_max_temperature_degC``
   (OBSA-BAL-005), and while safety_state is normal, warning or derating (OBSA-BAL-006).
   Without permission no cell is commanded and every cell's balancing ends: once permitted
   again, a cell starts over from the start threshold.
3. **Cells.** A cell is *usable* when cell_voltage_valid vouches for it and its voltage is
   finite. Its difference to the lowest usable voltage decides (OBSA-BAL-007): a usable cell
   starts being balanced when the difference exceeds ``balancing_threshold_V``
   (OBSA-BAL-001) and, once balanced, continues until the difference is no more than
   ``balancing_threshold_V − balancing_hysteresis_V`` (OBSA-BAL-002). An unusable cell is
   never commanded and forgets its balancing; without a usable cell nothing is balanced.

Choices where the spec is silent:

* An invalid temperature sensor (cell_temperature_valid false, or a NaN/inf reading) blocks
  balancing of every cell, like a reading above the limit: the sensor cannot vouch that its
  cells are below balancing_max_temperature_degC, and the resistors heat the cells and the
  cell monitor board it supervises (OBSA-BAL-005 asks for no command while a cell *is* above
  the limit, which an unreadable sensor cannot exclude). A pack without temperature sensors
  has no temperature that could be above the limit and is not blocked.
* An invalid cell voltage blocks nothing: it is left out of the lowest cell (OBSA-BAL-007)
  and of the minimum-voltage check (an open sense wire reads near 0 V and would otherwise
  stop balancing for good), and the cell itself is never discharged by balancing.
* A safety_state value outside the enum blocks balancing (fail safe), like fault and lockout.
* The thresholds are compared with a tolerance of :data:`VOLTAGE_EPS_V` (1 nV, far below the
  0.1 mV resolution of cell_voltage_V), so that a difference exactly at a declared decimal
  threshold is taken as at it (3.9 − 3.7 is 0.2000000000000002 in binary floating point):
  at the threshold a cell does not start; at threshold − hysteresis a balanced cell stops.
* The decision is taken every step, whatever the step interval (the interface's 1 s step
  period is the slowest permitted cycle): a command follows its condition in the same step.
* A change of the number of cells between steps restarts every cell's balancing.
* OBSA-BAL-008 (declared hysteresis not above the declared threshold) is checked in
  ``configure``: a larger hysteresis raises :class:`~..component.ConfigurationError`, as
  the safety supervisor refuses unordered limits (OBSA-SAFE-027). Note the spec defaults are
  equal (200 mV each): declaring a threshold below 200 mV asks for a hysteresis too.

Sources: foxBMS 2 balancing (threshold, hysteresis, voltage and temperature blocking, rest
of 600 s below 200 mA), Libre Solar bms-firmware (rest below 0.1 A for 1800 s), ENNOID-BMS
(5 mV window).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..component import Block, ConfigurationError
from ..interfaces import SafetyState
from ..services.debounce import Debounce

COMPONENT = "balancing"

#: Tolerance of the voltage-difference comparisons (V), far below the 0.1 mV resolution of
#: cell_voltage_V: absorbs the binary rounding of decimal voltages and thresholds.
VOLTAGE_EPS_V = 1e-9

#: The safety states in which balancing is permitted (not fault, not lockout).
PERMITTED_STATES = frozenset({int(SafetyState.NORMAL), int(SafetyState.WARNING),
                              int(SafetyState.DERATING)})

_any, _min = np.logical_or.reduce, np.minimum.reduce


class Balancing(Block):
    """Passive balancing of the cells above the lowest one, at rest, when permitted."""

    COMPONENT = COMPONENT

    # ---- configure / reset ------------------------------------------------------------
    def _setup(self, p: dict[str, Any]) -> None:
        threshold, hysteresis = p["balancing_threshold_V"], p["balancing_hysteresis_V"]
        if hysteresis > threshold:
            raise ConfigurationError(
                f"{COMPONENT}: parameter balancing_hysteresis_V: expected at most "
                f"balancing_threshold_V = {threshold:g} V (OBSA-BAL-008: a balanced cell "
                f"would have to fall below the lowest cell), found {hysteresis:g} V")
        self._start_above_V = threshold + VOLTAGE_EPS_V
        self._stop_at_V = threshold - hysteresis + VOLTAGE_EPS_V
        self._min_cell_V = p["balancing_min_cell_voltage_V"]
        self._max_temperature_degC = p["balancing_max_temperature_degC"]
        self._rest_current_A = p["balancing_rest_current_A"]
        self._rest_time_s = p["balancing_rest_time_s"]

    def reset(self) -> None:
        self._rest = Debounce(self._rest_time_s)
        #: per cell: being balanced (the hysteresis state); sized by the first record
        self._balancing = np.zeros(0, dtype=bool)

    # ---- step -------------------------------------------------------------------------
    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        voltages = np.asarray(inputs["cell_voltage_V"], dtype=float)
        usable = np.asarray(inputs["cell_voltage_valid"], dtype=bool) & np.isfinite(voltages)
        temperatures = np.asarray(inputs["cell_temperature_degC"], dtype=float)
        temperatures_valid = np.asarray(inputs["cell_temperature_valid"], dtype=bool)
        state = int(inputs["safety_state"])
        at_rest = self._at_rest(t, float(inputs["pack_current_A"]))  # timed on every step
        if voltages.shape != self._balancing.shape:
            self._balancing = np.zeros(voltages.shape, dtype=bool)
        if (at_rest and self._safety_permits(state)
                and self._voltages_permit(voltages, usable)
                and self._temperatures_permit(temperatures, temperatures_valid)
                and usable.any()):
            difference = voltages - self._lowest(voltages, usable)
            self._balancing = usable & self._select(difference, self._balancing)
        else:
            self._balancing = np.zeros(voltages.shape, dtype=bool)
        return {"balancing_cmd": self._balancing.copy(),
                "balancing_active": bool(self._balancing.any())}

    # ---- the conditions, one per requirement ------------------------------------------
    def _at_rest(self, t: float, current_A: float) -> bool:
        """OBSA-BAL-003: below the rest current (NaN is not) for the rest time, measured
        from the first step of the current uninterrupted stay below it."""
        return self._rest.update(abs(current_A) < self._rest_current_A, t)

    def _voltages_permit(self, voltages: np.ndarray, usable: np.ndarray) -> bool:
        """OBSA-BAL-004: no usable cell voltage below the minimum."""
        return not _any(usable & (voltages < self._min_cell_V))

    def _temperatures_permit(self, temperatures: np.ndarray, valid: np.ndarray) -> bool:
        """OBSA-BAL-005: every sensor valid, a number and not above the maximum."""
        # NaN fails "<=" too: a NaN reading blocks like an invalid sensor
        return bool(np.all(valid & (temperatures <= self._max_temperature_degC)))

    @staticmethod
    def _safety_permits(state: int) -> bool:
        """OBSA-BAL-006: not fault, not lockout (nor a value outside the enum)."""
        return state in PERMITTED_STATES

    @staticmethod
    def _lowest(voltages: np.ndarray, usable: np.ndarray) -> float:
        """OBSA-BAL-007: the lowest voltage over the usable cells (at least one)."""
        return float(_min(voltages[usable]))

    def _select(self, difference: np.ndarray, balancing: np.ndarray) -> np.ndarray:
        """OBSA-BAL-001/002: start above the threshold; a balanced cell continues while above
        threshold − hysteresis."""
        return (difference > self._start_above_V) | (balancing & (difference > self._stop_at_V))
