"""State of power: the largest constant charge and discharge current and power that keep
every cell within the declared voltage limits over the declared horizon (spec:
interfaces/sop_estimator.yaml, OBSA-SOP-*). Vectorised over the cells.

Each cell is predicted with the characterization's equivalent circuit, its resistances
scaled by the estimated resistance (cell_resistance_ohm, the ohmic resistance at SoC 0.5,
over the characterization's R0 there, so that ageing lowers the limits); R0 follows the
characterization's dependence on SoC (its points per temperature, relative to SoC 0.5,
the nearest point's beyond them). For a constant current I from now,

    V(0+) = OCV(soc) + g·R0·I + Σ v_i                                     + r
    V(H)  = OCV(soc + I·H / 3600 Q) + g·R0·I + Σ (a_i·v_i + g·R_i·(1 − a_i)·I) + r,
    a_i = exp(−H/τ_i),

where v_i are the RC voltages, propagated here with the measured current, and r is the
measured voltage's residual against the model now (low-pass filtered), counted only when it
is adverse (positive for charging, negative for discharging). The limits are found for
voltage limits narrowed by :attr:`SopEstimator.MARGIN_V`, the model's error this estimator
allows for: with 10 mV, drawn from the truth model of the other NMC cell at 10 °C
(``nmc-other-wltc-10c``, whose OCV is up to 17 mV from the characterization's) a charge
limit overshot 4.2 V by 10.2 mV at one seed. Under a constant current the
voltage of the circuit moves monotonically between the two ends of the horizon, so the
limits are checked at both. The string carries one current, so the limit is the largest
current for which every cell holds: a search on that scalar (regula falsi on the worst
cell's margin, safeguarded by bisection), each probe evaluating all cells at once, between
0 and the safety supervisor's limit (which it never exceeds, OBSA-SOP-001).

Power: a constant discharge (charge) power P = I_lim · min over the horizon of the predicted
string voltage at I_lim draws a current that never exceeds I_lim (the voltage only moves away
from the limit as less current flows), so it keeps the cells within the same limits.

All four limits are zero while the safety state is fault or lockout (OBSA-SOP-004).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..interfaces import SafetyState, SopEstimatorParameters
from .cell_model import CHARACTERIZATION_KEY, CellModelBlock, cell_temperatures

COMPONENT = "sop_estimator"


class SopEstimator(CellModelBlock):
    """Model-predictive current and power limits over the horizon."""

    COMPONENT = COMPONENT
    PARAMETERS = SopEstimatorParameters

    BISECTIONS = 24
    POWER_MAX_W = 3.0e6  # the signals' range
    RESIDUAL_TAU_S = 5.0
    DEFAULT_HORIZON_S = 10.0
    REFERENCE_TEMPERATURE_DEGC = 25.0
    RESISTANCE_SOC = 0.5  # where cell_resistance_ohm is defined
    MARGIN_V = 0.02

    def configure(self, parameters: Mapping[str, Any]) -> None:
        self._r0_shape = _r0_shape(parameters.get(CHARACTERIZATION_KEY))
        super().configure(parameters)

    def _setup(self, p: dict[str, Any]) -> None:
        self._horizon_s = float(p.get("sop_horizon_s", self.DEFAULT_HORIZON_S))
        self._v_high = float(p["sop_charge_voltage_limit_V"]) - self.MARGIN_V
        self._v_low = float(p["sop_discharge_voltage_limit_V"]) + self.MARGIN_V
        self._taus = np.array([pair.tau_s for pair in self._model.rc])
        self._end_decay = np.exp(-self._horizon_s / self._taus)

    def reset(self) -> None:
        self._n = -1
        self._t_prev: float | None = None

    def _allocate(self, n: int) -> None:
        self._n = n
        self._v_rc = np.zeros((len(self._model.rc), n))
        self._residual = np.zeros(n)

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        voltage = np.asarray(inputs["cell_voltage_V"], dtype=float)
        current = float(inputs["pack_current_A"])
        soc = np.clip(np.asarray(inputs["cell_soc"], dtype=float), 0.0, 1.0)
        resistance = np.asarray(inputs["cell_resistance_ohm"], dtype=float)
        charge_max = float(inputs["charge_current_limit_A"])
        discharge_max = float(inputs["discharge_current_limit_A"])
        faulted = int(inputs["safety_state"]) >= SafetyState.FAULT
        if voltage.shape[0] != self._n:
            self._allocate(voltage.shape[0])
        m = self._model
        temps = cell_temperatures(inputs["cell_temperature_degC"], self._n,
                                  self.REFERENCE_TEMPERATURE_DEGC)
        rows = m.lookup.row_base(temps)
        r0 = m.r0(temps)
        at_half, shape = self._shape(temps, soc)
        scale = np.where(np.isfinite(resistance) & (resistance > 0),
                         resistance / (r0 * at_half), 1.0)
        r_rc = np.array([m.rc_r(i, temps) * scale for i in range(len(m.rc))]).reshape(
            len(m.rc), self._n)
        dt = 0.0 if self._t_prev is None else max(t - self._t_prev, 0.0)
        self._t_prev = t
        ocv_now = m.lookup.ocv_at(soc, rows)
        if math.isfinite(current):
            decay = np.exp(-dt / self._taus)[:, None]
            self._v_rc = decay * self._v_rc + r_rc * (1.0 - decay) * current
            model_now = ocv_now + scale * r0 * shape * current + self._v_rc.sum(axis=0)
            residual = np.where(np.isfinite(voltage), voltage - model_now, 0.0)
            w = 1.0 - math.exp(-dt / self.RESIDUAL_TAU_S) if dt > 0.0 else 1.0
            self._residual += w * (residual - self._residual)
        if faulted:
            return _limits(0.0, 0.0, 0.0, 0.0)
        end_decay = self._end_decay[:, None]
        ctx = _Now(soc=soc, rows=rows, r0=scale * r0 * shape,
                   at_rest=ocv_now + self._v_rc.sum(axis=0),
                   rc_end=(end_decay * self._v_rc).sum(axis=0),
                   r_rc_end=(r_rc * (1.0 - end_decay)).sum(axis=0),
                   adverse_charge=np.maximum(self._residual, 0.0),
                   adverse_discharge=np.minimum(self._residual, 0.0))
        i_charge = self._largest(ctx, +1.0, max(charge_max, 0.0))
        i_discharge = self._largest(ctx, -1.0, max(discharge_max, 0.0))
        p_charge = i_charge * self._string_voltage(ctx, i_charge, +1.0)
        p_discharge = i_discharge * self._string_voltage(ctx, i_discharge, -1.0)
        return _limits(i_charge, i_discharge, min(max(p_charge, 0.0), self.POWER_MAX_W),
                       min(max(p_discharge, 0.0), self.POWER_MAX_W))

    def _shape(self, temps: np.ndarray, soc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per cell: the characterization's R0 at RESISTANCE_SOC and at the cell's SoC, each
        over the model's R0 at the cell's temperature (1 without points)."""
        if self._r0_shape is None:
            return np.ones_like(soc), np.ones_like(soc)
        temperatures, socs, table = self._r0_shape
        row = np.abs(temps[:, None] - temperatures[None, :]).argmin(axis=1)
        half = np.array([np.interp(self.RESISTANCE_SOC, socs, table[k]) for k in range(
            temperatures.size)])[row]
        at = np.empty_like(soc)
        for k in range(temperatures.size):
            here = row == k
            at[here] = np.interp(soc[here], socs, table[k])
        return half, at

    # -- prediction -----------------------------------------------------------------------
    def _predict(self, ctx: _Now, current: float) -> tuple[np.ndarray, np.ndarray]:
        """Cell voltages at the start and the end of the horizon under ``current``."""
        adverse = ctx.adverse_charge if current > 0 else ctx.adverse_discharge
        ohmic = ctx.r0 * current + adverse
        start = ctx.at_rest + ohmic
        soc_end = ctx.soc + current * self._horizon_s / (3600.0 * self._model.capacity_Ah)
        end = (self._model.lookup.ocv_at(soc_end, ctx.rows) + ohmic + ctx.rc_end
               + ctx.r_rc_end * current)
        # beyond the table's ends the cell is past its full or empty state
        end = np.where(soc_end > 1.0, np.inf, np.where(soc_end < 0.0, -np.inf, end))
        return start, end

    def _margin(self, ctx: _Now, magnitude: float, sign: float) -> float:
        """How far inside its limit the worst cell stays over the horizon under the current
        ``sign × magnitude`` (V): ≥ 0 when every cell holds (NaN: it does not)."""
        start, end = self._predict(ctx, sign * magnitude)
        if sign > 0:
            return self._v_high - max(float(np.max(start)), float(np.max(end)))
        return min(float(np.min(start)), float(np.min(end))) - self._v_low

    def _largest(self, ctx: _Now, sign: float, ceiling: float) -> float:
        """Largest current magnitude in [0, ceiling] that keeps every cell within its limit,
        to ceiling × 2^-BISECTIONS: the bracket [holds, fails] narrowed by regula falsi on
        the worst cell's margin, which is nearly linear in the current (the Illinois
        variant: an end kept twice has its margin halved, so both ends close in), and by a
        bisection whenever a probe did not halve it — a few probes, never many more than a
        bisection's."""
        if ceiling <= 0.0:
            return 0.0
        lo, m_lo = 0.0, self._margin(ctx, 0.0, sign)
        if not m_lo >= 0.0:
            return 0.0
        hi, m_hi = ceiling, self._margin(ctx, ceiling, sign)
        if m_hi >= 0.0:
            return ceiling
        tolerance = ceiling * 2.0 ** -self.BISECTIONS
        halved, kept = True, 0
        while hi - lo > tolerance:
            width = hi - lo
            if halved and math.isfinite(m_hi):
                mid = lo + width * m_lo / (m_lo - m_hi)
                mid = min(max(mid, lo + 0.25 * tolerance), hi - 0.25 * tolerance)
            else:
                mid = 0.5 * (lo + hi)
            m_mid = self._margin(ctx, mid, sign)
            if m_mid >= 0.0:
                lo, m_lo = mid, m_mid
                m_hi = 0.5 * m_hi if kept > 0 else m_hi
                kept = 1
            else:
                hi, m_hi = mid, m_mid
                m_lo = 0.5 * m_lo if kept < 0 else m_lo
                kept = -1
            halved = hi - lo <= 0.5 * width
        return lo

    def _string_voltage(self, ctx: _Now, magnitude: float, sign: float) -> float:
        """Lowest predicted string voltage over the horizon at the current limit."""
        start, end = self._predict(ctx, sign * magnitude)
        value = min(float(np.sum(start)), float(np.sum(end)))
        return value if math.isfinite(value) else 0.0


@dataclass(frozen=True)
class _Now:
    """What a step's predictions share: per cell, the SoC, the OCV rows (temperature), the
    ohmic resistance, the voltage at rest now (OCV and RC voltages), the RC voltages left
    at the end of the horizon and the RC resistance built up over it, the adverse residual
    when charging and when discharging."""

    soc: np.ndarray
    rows: np.ndarray
    r0: np.ndarray
    at_rest: np.ndarray
    rc_end: np.ndarray
    r_rc_end: np.ndarray
    adverse_charge: np.ndarray
    adverse_discharge: np.ndarray


def _r0_shape(doc: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """From an obsa-ecm/1 document's points: the temperatures, the SoCs and R0 per
    temperature and SoC over its mean at that temperature (the model's R0); None when the
    points are not on one SoC grid at every temperature."""
    if not isinstance(doc, Mapping):
        return None
    try:
        points = [(float(p["temperature_degC"]), float(p["soc"]), float(p["r0_ohm"]))
                  for p in doc["ecm"]["points"]]
    except (KeyError, TypeError, ValueError):
        return None
    temperatures = np.array(sorted({p[0] for p in points}))
    socs = np.array(sorted({p[1] for p in points}))
    table = np.full((temperatures.size, socs.size), np.nan)
    for t, x, r in points:
        table[np.searchsorted(temperatures, t), np.searchsorted(socs, x)] = r
    if not np.all(np.isfinite(table)) or socs.size < 1:
        return None
    return temperatures, socs, table / table.mean(axis=1, keepdims=True)


def _limits(i_charge: float, i_discharge: float, p_charge: float,
            p_discharge: float) -> dict[str, Any]:
    return {"sop_charge_current_limit_A": i_charge,
            "sop_discharge_current_limit_A": i_discharge,
            "sop_charge_power_limit_W": p_charge,
            "sop_discharge_power_limit_W": p_discharge}
