"""Faulty SoH estimators: the reference SoH estimator with one realistic defect each, and the
requirements judged against the truth on the cycle vectors that each breaks
(``SOH_CATALOGUE``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from reference_impl.functions.soh import SohEstimator

from .modules import Faulty, _f


class SohCapacityNeverUpdated(SohEstimator):
    """Reports the beginning-of-life capacity for good: the capacity fade is never seen."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        rated = np.full(len(out["cell_capacity_Ah"]), self._rated_Ah)
        return {**out, "cell_capacity_Ah": rated, "pack_capacity_Ah": self._rated_Ah,
                "soh_capacity": 1.0}


class SohResistanceNeverUpdated(SohEstimator):
    """Reports the beginning-of-life resistance for good: the resistance rise is never seen."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        n = len(out["cell_resistance_ohm"])
        return {**out, "cell_resistance_ohm": np.full(n, self._r_bol),
                "pack_resistance_ohm": n * self._r_bol, "soh_resistance": 1.0}


class SohCapacityFromSocInput(SohEstimator):
    """Takes the capacity as the charge counted between two rests over the change of the SoC
    input: that SoC is counted on the capacity the SoC estimator was given, so the ratio
    returns that capacity, not the cell's."""

    QUIET_S = 60.0
    MIN_SPAN = 0.4

    def reset(self) -> None:
        super().reset()
        self._counted_Ah = 0.0
        self._quiet = 0.0
        self._last_t: float | None = None
        self._rest: tuple[float, float] | None = None  # (SoC, charge) at the last rest
        self._estimate = math.nan

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        current = float(inputs["pack_current_A"])
        dt = 0.0 if self._last_t is None else t - self._last_t
        self._last_t = t
        self._counted_Ah += current * dt / 3600.0
        soc = float(np.mean(inputs["cell_soc"]))
        if abs(current) < self._rated_Ah / 20.0:
            self._quiet += dt
            if self._quiet >= self.QUIET_S:
                if self._rest is not None and abs(soc - self._rest[0]) >= self.MIN_SPAN:
                    self._estimate = abs(self._counted_Ah - self._rest[1]) / abs(
                        soc - self._rest[0])
                self._rest = (soc, self._counted_Ah)
        else:
            self._quiet = 0.0
        if math.isnan(self._estimate):
            return out
        n = len(out["cell_capacity_Ah"])
        return {**out, "cell_capacity_Ah": np.full(n, self._estimate),
                "pack_capacity_Ah": self._estimate,
                "soh_capacity": self._estimate / self._rated_Ah}


class RoundTripNeverMeasured(SohEstimator):
    """Reports the round-trip efficiency its cell model predicts for a C/3 cycle, never the
    one measured: the losses of the aged cell (and of the real currents) are never seen."""

    def _count(self, current: float, pack_voltage: float, dt: float, soc: np.ndarray) -> None:
        super()._count(current, pack_voltage, dt, soc)
        self._efficiency = math.nan


class SoceFromCapacity(SohEstimator):
    """Reports the capacity state of health as the state of certified energy: the energy lost
    to the resistance and to the voltage at which the charge comes out is ignored."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        return {**out, "soce": out["soh_capacity"]}


SOH_CATALOGUE: tuple[Faulty, ...] = (
    _f("soh_estimator", SohCapacityNeverUpdated, "OBSA-SOH-001", "OBSA-REG-001"),
    _f("soh_estimator", SohResistanceNeverUpdated, "OBSA-SOH-002", "OBSA-REG-005"),
    _f("soh_estimator", SohCapacityFromSocInput, "OBSA-SOH-001", "OBSA-REG-001"),
    _f("soh_estimator", RoundTripNeverMeasured, "OBSA-REG-003"),
    _f("soh_estimator", SoceFromCapacity, "OBSA-REG-006"),
)
"""Each fails exactly the requirements it breaks on the cycle vectors, where the reference
passes (tests/faulty/test_soh_faults.py)."""
