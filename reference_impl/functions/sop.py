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
limit overshot 4.2 V by 10.2 mV at one seed. Under a constant current the voltage of the
circuit moves monotonically between the two ends of the horizon, so the limits are checked
at both.

The string carries one current, so its limit is the least of its cells' own, and each cell's
is found exactly, all cells at once, without iterating. V(0+) is a line in the current: its
crossing of the limit is a division. V(H) is a line too, but for the OCV, which the model
interpolates linearly between the points of a uniform SoC grid (:class:`.cell_model.
OcvLookup`, ``STEPS`` intervals): V(H) is a line between the currents that take the SoC the
horizon ends at to neighbouring grid points. Over the horizon the SoC moves by at most
top·H / 3600 Q, past a grid point or two (2C over 10 s: 0.0056; the grid's step is 0.005),
so each cell's V(H) is known exactly from its values at a few grid points, the table's own
(a gather, no interpolation): from the one at or behind its SoC now (a current the other
way: the line from it to the next is that of the SoC's present interval) to one beyond its
SoC at the top. Where V(H) goes from within the limit to beyond it between two of them, the
line between them gives the crossing. The top is the safety supervisor's limit (the
ceiling, which the limits never exceed, OBSA-SOP-001) or, if less, the current that takes
the fullest (emptiest) cell to its full (empty) state, beyond which it holds nothing.

The string's limit is then the least crossing over the cells and both ends of the horizon,
capped at the top, 0 when a cell is beyond its limit already: what a bisection of [0, top]
on the definition (:meth:`SopEstimator._predict`) converges to, less a quarter of the
resolution of one of :attr:`SopEstimator.BISECTIONS` steps, so that rounding never puts it
beyond. Two dozen array operations per direction, whatever the cell count.

Power: a constant discharge (charge) power P = I_lim · min over the horizon of the predicted
string voltage at I_lim draws a current that never exceeds I_lim (the voltage only moves away
from the limit as less current flows), so it keeps the cells within the same limits. Both
directions' string voltages are predicted in one pass.

All four limits are zero while the safety state is fault or lockout (OBSA-SOP-004), and
while a cell's SoC is not a number (nothing can be promised for that cell; its residual is
held meanwhile).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..interfaces import SafetyState, SopEstimatorParameters
from .cell_model import (
    CHARACTERIZATION_KEY,
    CellModelBlock,
    CellTemperatures,
    OcvLookup,
    PerStepLength,
)

COMPONENT = "sop_estimator"

#: 0, 1, 2, … grid points on from the one behind a SoC (as many as a table has, and 2): a column
_OFFSETS = np.arange(OcvLookup.STEPS + 3, dtype=float)[:, None]
_INT_OFFSETS = _OFFSETS.astype(np.int64)


class SopEstimator(CellModelBlock):
    """Model-predictive current and power limits over the horizon."""

    COMPONENT = COMPONENT
    PARAMETERS = SopEstimatorParameters

    BISECTIONS = 24  # the limits' resolution: a bisection's of [0, top] in as many steps
    POWER_MAX_W = 3.0e6  # the signals' range
    RESIDUAL_TAU_S = 5.0
    DEFAULT_HORIZON_S = 10.0
    REFERENCE_TEMPERATURE_DEGC = 25.0
    RESISTANCE_SOC = 0.5  # where cell_resistance_ohm is defined
    MARGIN_V = 0.02
    # a shorter horizon (the spec's is at least 1 s) moves the SoC as little as this one does,
    # i.e. not at all, but keeps the OCV grid's points a finite current apart
    MIN_HORIZON_S = 1e-6

    def configure(self, parameters: Mapping[str, Any]) -> None:
        self._r0_shape = _r0_shape(parameters.get(CHARACTERIZATION_KEY), self.RESISTANCE_SOC)
        super().configure(parameters)

    def _setup(self, p: dict[str, Any]) -> None:
        self._horizon_s = float(p.get("sop_horizon_s", self.DEFAULT_HORIZON_S))
        self._v_high = float(p["sop_charge_voltage_limit_V"]) - self.MARGIN_V
        self._v_low = float(p["sop_discharge_voltage_limit_V"]) + self.MARGIN_V
        self._taus = np.array([pair.tau_s for pair in self._model.rc])
        self._end_decay = np.exp(-self._horizon_s / self._taus)
        self._temperatures = CellTemperatures(self._model, self.REFERENCE_TEMPERATURE_DEGC)
        self._scaled_for: bytes | None = None  # the resistances _scale() last scaled
        self._estimated_for: bytes | None = None  # and those _estimated is of

    def reset(self) -> None:
        self._n = -1
        self._t_prev: float | None = None

    def _allocate(self, n: int) -> None:
        self._n = n
        self._v_rc = np.zeros((len(self._model.rc), n))
        self._residual = np.zeros(n)
        # per dt: the RC pairs' decay and 1 − it per cell (an array the shape of the RC
        # voltages costs a step less than a broadcast), and the residual filter's weight
        self._decay = PerStepLength(self._decay_over)
        self._scaled_for = self._estimated_for = None
        self._end_rise = 1.0 - self._end_decay  # of each RC pair over the horizon

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        voltage = np.asarray(inputs["cell_voltage_V"], dtype=float)
        current = float(inputs["pack_current_A"])
        soc = np.minimum(np.maximum(np.asarray(inputs["cell_soc"], dtype=float), 0.0), 1.0)
        known = np.isfinite(soc)  # a SoC that is not a number: no limit can be promised
        all_known = bool(np.logical_and.reduce(known))
        if not all_known:
            soc = np.where(known, soc, 0.5)  # a place on the OCV grid, its residual held
        resistance = np.asarray(inputs["cell_resistance_ohm"], dtype=float)
        charge_max = float(inputs["charge_current_limit_A"])
        discharge_max = float(inputs["discharge_current_limit_A"])
        faulted = int(inputs["safety_state"]) >= SafetyState.FAULT
        if voltage.shape[0] != self._n:
            self._allocate(voltage.shape[0])
        m = self._model
        self._scale(inputs["cell_temperature_degC"], resistance)
        rows, r_rc = self._temperatures.rows, self._r_rc
        r0 = self._r0 if self._r0_shape is None else self._r0 * self._r0_shape.at(
            self._shape_rows, soc)  # the cell's ohmic resistance at its SoC
        dt = 0.0 if self._t_prev is None else max(t - self._t_prev, 0.0)
        self._t_prev = t
        grid = soc * OcvLookup.STEPS  # the SoC in OCV grid intervals
        floor = grid.astype(np.int64)
        ocv = m.lookup.ocv_on_grid(grid, floor, rows)
        if math.isfinite(current):
            decay, rise, weight = self._decay(dt)
            self._v_rc = decay * self._v_rc + r_rc * (rise * current)
        # the model's voltage without current, now
        at_rest = ocv + np.add.reduce(self._v_rc, axis=0)
        if math.isfinite(current):
            residual = np.where(np.isfinite(voltage), voltage - (at_rest + r0 * current), 0.0)
            change = weight * (residual - self._residual)
            self._residual += change if all_known else np.where(known, change, 0.0)
        if faulted or not all_known:
            return _limits(0.0, 0.0, 0.0, 0.0)
        ctx = _Now(soc=soc, rows=rows, r0=r0, at_rest=at_rest,
                   rc_end=self._end_decay @ self._v_rc, r_rc_end=self._r_rc_end,
                   adverse_charge=np.maximum(self._residual, 0.0),
                   adverse_discharge=np.minimum(self._residual, 0.0),
                   r_end=r0 + self._r_rc_end, grid=grid, floor=floor,
                   per_amp=max(self._horizon_s, self.MIN_HORIZON_S) / (3600.0 * m.capacity_Ah))
        i_charge = self._largest(ctx, +1.0, max(charge_max, 0.0))
        i_discharge = self._largest(ctx, -1.0, max(discharge_max, 0.0))
        v_charge, v_discharge = self._string_voltages(ctx, i_charge, i_discharge)
        return _limits(i_charge, i_discharge,
                       min(max(i_charge * v_charge, 0.0), self.POWER_MAX_W),
                       min(max(i_discharge * v_discharge, 0.0), self.POWER_MAX_W))

    def _decay_over(self, dt: float) -> tuple[np.ndarray, np.ndarray, float]:
        """Over ``dt``: the RC pairs' decay and 1 − it, per cell, and the residual filter's
        weight of the new residual."""
        decay = np.repeat(np.exp(-dt / self._taus)[:, None], self._n, axis=1)
        weight = 1.0 - math.exp(-dt / self.RESIDUAL_TAU_S) if dt > 0.0 else 1.0
        return decay, 1.0 - decay, weight

    def _scale(self, sensors: Any, resistance: np.ndarray) -> None:
        """What a step takes from the temperatures and the estimated resistances alone,
        recomputed only when either input changed since the last step (the sensors update
        every 0.1 to 1 s, the estimated resistance far less often): per cell, the model's R0
        and RC resistances at its temperature (:class:`.cell_model.CellTemperatures`),
        scaled by the estimated resistance over the characterization's R0 at RESISTANCE_SOC
        (1 where there is no estimate), the row of the R0 shape, and the RC resistance built
        up over the horizon."""
        changed = self._temperatures.update(sensors, self._n)
        given = resistance.tobytes()
        if not changed and given == self._scaled_for:
            return
        if given != self._estimated_for:  # where there is an estimate (None: every cell)
            estimated = np.isfinite(resistance) & (resistance > 0)
            self._estimated = None if estimated.all() else estimated
            self._estimated_for = given
        r0 = self._temperatures.r0
        at_half: float | np.ndarray = 1.0
        if self._r0_shape is not None:
            at_half, self._shape_rows = self._r0_shape.rows(self._temperatures.temps)
        scale = resistance / (r0 * at_half)
        if self._estimated is not None:
            scale = np.where(self._estimated, scale, 1.0)
        self._r0 = scale * r0  # × the R0 shape at the SoC: the ohmic resistance
        self._r_rc = self._temperatures.r_rc * scale
        self._r_rc_end = self._end_rise @ self._r_rc
        self._scaled_for = given

    # -- prediction -----------------------------------------------------------------------
    def _predict(self, ctx: _Now, current: float) -> tuple[np.ndarray, np.ndarray]:
        """Cell voltages at the start and the end of the horizon under ``current`` (the
        definition the limits are found for)."""
        adverse = ctx.adverse_charge if current > 0 else ctx.adverse_discharge
        ohmic = ctx.r0 * current + adverse
        start = ctx.at_rest + ohmic
        soc_end = ctx.soc + current * ctx.per_amp
        end = (self._model.lookup.ocv_at(soc_end, ctx.rows) + ohmic + ctx.rc_end
               + ctx.r_rc_end * current)
        # beyond the table's ends the cell is past its full or empty state
        end = np.where(soc_end > 1.0, np.inf, np.where(soc_end < 0.0, -np.inf, end))
        return start, end

    def _largest(self, ctx: _Now, sign: float, ceiling: float) -> float:
        """Largest current magnitude in [0, ceiling] that keeps every cell within its limit
        at both ends of the horizon (:meth:`_predict`): the least crossing of the limit over
        the cells, capped at the top (module docstring), less a quarter of the resolution
        of a bisection of [0, top] in BISECTIONS steps."""
        if ceiling <= 0.0:
            return 0.0
        charge = sign > 0
        # the top: the ceiling, or the current that takes the fullest (emptiest) cell to its
        # full (empty) state by the end of the horizon
        top = min(ceiling, (1.0 - float(np.maximum.reduce(ctx.soc)) if charge
                            else float(np.minimum.reduce(ctx.soc))) / ctx.per_amp)
        # the room each cell has before the limit, ≥ 0 where it holds: limit − V charging,
        # V − limit discharging. At the start, a line in the current (its magnitude here)
        # that falls by R0 per A
        if charge:
            rest = self._v_high - ctx.adverse_charge
            start = float(np.minimum.reduce((rest - ctx.at_rest) / ctx.r0))
        else:
            rest = ctx.adverse_discharge - self._v_low
            start = float(np.minimum.reduce((rest + ctx.at_rest) / ctx.r0))
        if not (start > 0.0 and top > 0.0):
            return 0.0  # a cell beyond its limit already, full (empty), or not a number
        # at the end: at the OCV grid's points from the one behind the SoC now (at it or
        # before it) to one beyond its SoC at the top, d grid intervals from the SoC now in
        # the current's direction (d ≤ 0 for the one behind), `width` A each; a line between
        # neighbours (from the one behind, that of the SoC's present interval). Beyond the
        # table's ends (past the top) its end values stand in
        steps = OcvLookup.STEPS
        width = 1.0 / (ctx.per_amp * steps)
        count = int(top / width) + 3
        offsets = _OFFSETS[:count]
        table = self._model.lookup.value
        if charge:
            index = np.minimum(ctx.floor + _INT_OFFSETS[:count], steps)
            room = (rest - ctx.rc_end) - table[index + ctx.rows]
            d = offsets - (ctx.grid - ctx.floor)  # points − grid, exactly
        else:
            ceil = np.ceil(ctx.grid)
            points = ceil - offsets
            index = np.maximum(ceil.astype(np.int64) - _INT_OFFSETS[:count], 0)
            room = (rest + ctx.rc_end) + table[index + ctx.rows]
            d = ctx.grid - points
        room -= (width * ctx.r_end) * d
        # per interval, room h0 at its start d0 and h1 at its end: where it goes from within
        # (h0 ≥ 0) to beyond (h1 < 0), the crossing of its line, d0 + h0 / (h0 − h1); d0
        # where it is beyond throughout (the crossing is before it); none where it is within
        # at its end (the room falls with the current: within throughout). Not a number
        # counts as beyond
        h0, h1 = room[:-1], room[1:]
        crossing = d[:-1] + np.maximum(h0 / (h0 - h1), 0.0)
        crossing[h1 >= 0.0] = np.inf
        end = width * float(np.minimum.reduce(crossing, axis=None, initial=np.inf))
        if not end > 0.0:
            return 0.0  # a cell beyond its limit at the end of the horizon already
        found = min(start, end, top)
        if found >= ceiling:
            return ceiling
        return max(found - top * 2.0 ** -(self.BISECTIONS + 2), 0.0)

    def _string_voltages(self, ctx: _Now, i_charge: float, i_discharge: float
                         ) -> tuple[float, float]:
        """Lowest predicted string voltage over the horizon at the charge and at the
        discharge current limit: the lower of the sums of :meth:`_predict`'s start and end
        voltages (0 if not a number), both limits in one pass. (At a limit no cell goes
        beyond the table's ends: the limits stop at their full and empty states.)"""
        ocv = self._model.lookup.ocv_at(
            ctx.soc + np.array((i_charge * ctx.per_amp, -i_discharge * ctx.per_amp))[:, None],
            ctx.rows)
        ocv_charge, ocv_discharge = ocv.sum(axis=1).tolist()
        rest, charge, discharge, r0, rc_end, r_end = np.array(
            [ctx.at_rest, ctx.adverse_charge, ctx.adverse_discharge, ctx.r0, ctx.rc_end,
             ctx.r_end]).sum(axis=1).tolist()
        low_charge = min(rest + charge + i_charge * r0,
                         ocv_charge + charge + rc_end + i_charge * r_end)
        low_discharge = min(rest + discharge - i_discharge * r0,
                            ocv_discharge + discharge + rc_end - i_discharge * r_end)
        return (low_charge if math.isfinite(low_charge) else 0.0,
                low_discharge if math.isfinite(low_discharge) else 0.0)


@dataclass(slots=True)
class _Now:
    """What a step's predictions share (read only): per cell, the SoC, the OCV rows
    (temperature), the ohmic resistance, the voltage at rest now (OCV and RC voltages), the
    RC voltages left at the end of the horizon and the RC resistance built up over it, the
    adverse residual when charging and when discharging, the whole resistance at the end of
    the horizon (ohmic and RC), the SoC in OCV grid intervals and the grid point at or behind
    it (int64); and the SoC a current moves over the horizon, per A."""

    soc: np.ndarray
    rows: np.ndarray
    r0: np.ndarray
    at_rest: np.ndarray
    rc_end: np.ndarray
    r_rc_end: np.ndarray
    adverse_charge: np.ndarray
    adverse_discharge: np.ndarray
    r_end: np.ndarray
    grid: np.ndarray
    floor: np.ndarray
    per_amp: float


class _R0Shape:
    """The characterization's R0 per temperature (ascending) and SoC (ascending, the same at
    every temperature), each over its mean at that temperature (the model's R0), read per
    cell on the row of the nearest temperature: at a fixed SoC (precomputed per row) and at
    the cell's SoC (np.interp's: linear between the SoCs, the nearest one's beyond them),
    with one gather per cell of the line of its interval instead of a pass per
    temperature."""

    def __init__(self, temperatures: np.ndarray, socs: np.ndarray, table: np.ndarray,
                 fixed_soc: float) -> None:
        self._between = 0.5 * (temperatures[1:] + temperatures[:-1])
        self._fixed = np.array([np.interp(fixed_soc, socs, row) for row in table])
        self._socs = socs
        # per row, S + 1 intervals: before the first SoC (flat), between the SoCs, after
        # the last (flat); each a line a + b·soc
        slope = np.zeros((table.shape[0], socs.size + 1))
        slope[:, 1:-1] = np.diff(table, axis=1) / np.diff(socs)
        intercept = np.concatenate((table[:, :1], table - slope[:, 1:] * socs), axis=1)
        self._slope, self._intercept = slope.ravel(), intercept.ravel()

    def rows(self, temps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per cell: the value at the fixed SoC, and the row of the nearest temperature (for
        :meth:`at`)."""
        row = self._between.searchsorted(temps)  # the nearest (the lower on a tie)
        return self._fixed[row], row * (self._socs.size + 1)

    def at(self, rows: np.ndarray, soc: np.ndarray) -> np.ndarray:
        """Per cell: the value at ``soc`` on the cell's row (:meth:`rows`)."""
        k = rows + self._socs.searchsorted(soc, side="right")
        return np.asarray(self._intercept[k] + self._slope[k] * soc)


def _r0_shape(doc: Any, fixed_soc: float) -> _R0Shape | None:
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
    return _R0Shape(temperatures, socs, table / table.mean(axis=1, keepdims=True), fixed_soc)


def _limits(i_charge: float, i_discharge: float, p_charge: float,
            p_discharge: float) -> dict[str, Any]:
    return {"sop_charge_current_limit_A": i_charge,
            "sop_discharge_current_limit_A": i_discharge,
            "sop_charge_power_limit_W": p_charge,
            "sop_discharge_power_limit_W": p_discharge}
