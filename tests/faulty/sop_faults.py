"""Faulty state-of-power estimators judged in closed loop on the truth (OBSA-SOP-002, -003):
the reference with one realistic defect each, the requirements each breaks
(``SOP_CATALOGUE``), and a correct estimator written otherwise that must pass
(``SopResistanceOnly``)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from reference_impl.functions.cell_model import cell_temperatures
from reference_impl.functions.sop import SopEstimator, _limits
from reference_impl.interfaces import SafetyState

from .modules import Faulty, _f


class SopIgnoresResistanceGrowth(SopEstimator):
    """Predicts with the characterization's resistances, whatever cell_resistance_ohm says:
    an aged cell's limits stay those of a new one."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        n = len(inputs["cell_voltage_V"])
        return super()._step(t, {**inputs, "cell_resistance_ohm": [math.nan] * n})


class SopPowerAtFullVoltage(SopEstimator):
    """Reports each power limit as its current limit times the string at its charge voltage
    limit (cells × sop_charge_voltage_limit_V, the string's rating): below full voltage a
    constant power then draws more than the current limit."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._full_V = float(p["sop_charge_voltage_limit_V"])

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        volts = len(inputs["cell_voltage_V"]) * self._full_V
        return {**out,
                "sop_charge_power_limit_W": out["sop_charge_current_limit_A"] * volts,
                "sop_discharge_power_limit_W": out["sop_discharge_current_limit_A"] * volts}


class SopIgnoresHorizon(SopEstimator):
    """Predicts the voltage right after the current starts (the instantaneous resistance
    alone) instead of over the declared horizon: the RC pairs' rise and the SoC's drift over
    the horizon are missed."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._horizon_s = 1e-6
        self._end_decay = np.ones_like(self._end_decay)


class SopResistanceOnly(SopEstimator):
    """A correct estimator written otherwise: no RC pairs and no filter. Each cell is a
    source behind one resistance, the estimated cell_resistance_ohm times
    :data:`RESISTANCE_FACTOR` (R0 and the diffusion the horizon adds, conservatively), plus
    what the measured voltage shows beyond that now (the polarization already there, when
    adverse); the OCV is the characterization's at the SoC the horizon ends at. The current
    limit solved per cell by bisection, the power from the predicted string voltage at it."""

    RESISTANCE_FACTOR = 1.6
    BISECTIONS = 30

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if int(inputs["safety_state"]) >= SafetyState.FAULT:
            return _limits(0.0, 0.0, 0.0, 0.0)
        m = self._model
        volts = np.asarray(inputs["cell_voltage_V"], dtype=float)
        n = volts.size
        soc = np.clip(np.asarray(inputs["cell_soc"], dtype=float), 0.0, 1.0)
        r_in = np.asarray(inputs["cell_resistance_ohm"], dtype=float)
        temps = cell_temperatures(inputs["cell_temperature_degC"], n,
                                  self.REFERENCE_TEMPERATURE_DEGC)
        r = np.where(np.isfinite(r_in) & (r_in > 0), r_in, m.r0(temps))
        current = float(inputs["pack_current_A"])
        now = volts - m.ocv(soc, temps) - r * (current if math.isfinite(current) else 0.0)
        now = np.where(np.isfinite(now), now, 0.0)

        def cells_at(amps: float) -> np.ndarray:
            soc_end = np.clip(soc + amps * self._horizon_s / (3600.0 * m.capacity_Ah),
                              0.0, 1.0)
            polar = np.maximum(now, 0.0) if amps > 0 else np.minimum(now, 0.0)
            return m.ocv(soc_end, temps) + self.RESISTANCE_FACTOR * r * amps + polar

        def largest(sign: float, ceiling: float) -> float:
            def holds(mag: float) -> bool:
                v = cells_at(sign * mag)
                return bool(np.all(v <= self._v_high) if sign > 0 else np.all(v >= self._v_low))

            if ceiling <= 0.0 or not holds(0.0):
                return 0.0
            if holds(ceiling):
                return ceiling
            lo, hi = 0.0, ceiling
            for _ in range(self.BISECTIONS):
                mid = 0.5 * (lo + hi)
                lo, hi = (mid, hi) if holds(mid) else (lo, mid)
            return lo

        i_c = largest(1.0, max(float(inputs["charge_current_limit_A"]), 0.0))
        i_d = largest(-1.0, max(float(inputs["discharge_current_limit_A"]), 0.0))
        # the string voltage at the limit, the lower of now and the horizon's end
        p_c = i_c * float(min(np.sum(cells_at(i_c)), np.sum(volts)))
        p_d = i_d * float(np.sum(cells_at(-i_d)))
        return _limits(i_c, i_d, max(p_c, 0.0), max(p_d, 0.0))


SOP_CATALOGUE: tuple[Faulty, ...] = (
    _f("sop_estimator", SopIgnoresResistanceGrowth, "OBSA-SOP-002", "OBSA-SOP-003"),
    _f("sop_estimator", SopPowerAtFullVoltage, "OBSA-SOP-003"),
    _f("sop_estimator", SopIgnoresHorizon, "OBSA-SOP-002", "OBSA-SOP-003"),
)
"""Each fails exactly the requirements it breaks on the vectors of ``SOP_SELECT``
(tests/faulty/test_sop_faults.py); ``SopResistanceOnly`` and the reference pass them."""
