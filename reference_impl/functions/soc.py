"""State of charge of every series element: an extended Kalman filter per cell on the
equivalent-circuit model, vectorised over the cells (spec: interfaces/soc_estimator.yaml,
requirements OBSA-SOC-*).

Model, per cell (current positive when charging, as the data dictionary's pack_current_A)::

    soc[k]  = soc[k-1] + I·dt / (3600·Q_ref)                       (coulomb counting)
    v_i[k]  = a_i·v_i[k-1] + R_i(T)·(1 − a_i)·I,   a_i = exp(−dt/τ_i)  (RC pairs)
    V       = OCV(soc, T) + R0(T)·I + Σ v_i                          (terminal voltage)

The filter's state is the SoC of each cell with its variance P; the RC voltages are driven by
the measured current, which the filter knows exactly, so they are propagated, not estimated
(the cost of a step stays a few dozen array operations; a 1 + p state filter would multiply
it by its covariance). Each step:

1. **stale current** (age > soc_input_timeout_s, or not a number): hold everything, raise
   soc_inputs_stale (OBSA-SOC-006), do not even correct from the voltages;
2. **predict**: integrate the current on the declared reference capacity (OBSA-SOC-001), add
   process noise for what counting cannot know (the true capacity of an aged cell, the
   current sensor's gain and offset);
3. **correct** each cell with its voltage: innovation e = V − V̂, H = dOCV/dSoC, gain
   K = P·H / (H²·P + R); a cell whose voltage the cell monitor does not vouch for
   (cell_voltage_valid false, or not a number) gets K = 0.

Flat OCV (LFP). R is the sensor noise plus the model's error, which grows with the current
(the resistance of an aged cell is not the characterization's). Seen as a measurement of SoC,
a voltage then has the variance R / H²: on an LFP plateau (H ≈ 0.05 V per unit SoC) that is
a SoC error of several tens of percent, and the filter trusts coulomb counting; on the steep
ends (H of volts per unit SoC) the voltage anchors the estimate within a percent. No mode
switch, no chemistry flag: the OCV slope of the characterization decides.

Temperature-dependent quantities (the cell's row of the OCV table, R0, the RC pairs) are
refreshed once per simulated second: cell temperatures move by far less than a kelvin per
second and their sensors are ±1–2 K.

pack_soc is min / (min + 1 − max) of the reported cell_soc (OBSA-SOC-005).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..interfaces import SocEstimatorFault as F
from ..interfaces import SocEstimatorParameters
from .cell_model import CellModel, CellModelBlock, OcvLookup, cell_temperatures

COMPONENT = "soc_estimator"


def pack_soc_of(cell_soc: np.ndarray) -> float:
    """min / (min + 1 − max): 0 when the emptiest cell is empty, 1 when the fullest is full
    (both at once, an empty string and a full cell: 0)."""
    lo, hi = float(np.min(cell_soc)), float(np.max(cell_soc))
    denominator = lo + 1.0 - hi
    return lo / denominator if denominator > 0.0 else 0.0


class SocEstimator(CellModelBlock):
    """Vectorised SoC EKF on an equivalent-circuit model; one step updates every cell."""

    COMPONENT = COMPONENT
    PARAMETERS = SocEstimatorParameters

    #: Initial standard deviation of the SoC after reset() (the suite starts 0.1 to 0.2 away).
    INITIAL_SOC_STD = 0.2
    #: Relative uncertainty of the charge counted per step: the true capacity of an aged cell
    #: (−15 % and more) and the current sensor's gain error.
    COUNT_REL_STD = 0.15
    #: Current sensor offset uncertainty, as a fraction of the one-hour current.
    OFFSET_C_RATE_STD = 0.01
    #: Voltage noise plus the model's error at rest (V): cell monitor, OCV of another cell.
    VOLTAGE_STD_V = 0.01
    #: Relative error of the modelled overpotential under current (R0 and RC of an aged or
    #: other cell): adds (REL × |I| × (R0 + ΣR_i))² to the measurement variance.
    OVERPOTENTIAL_REL_STD = 0.5
    #: Uncertainty of the RC voltages after reset() (V): the cell may not be at rest. It
    #: decays with the slowest RC time constant, as the unknown initial RC voltages do.
    INITIAL_RC_STD_V = 0.03
    #: Seconds between two refreshes of the temperature-dependent parameters.
    TEMPERATURE_REFRESH_S = 1.0

    def __init__(self, cell_model: CellModel | None = None,
                 dtype: type[np.floating[Any]] = np.float64) -> None:
        self._dtype = np.dtype(dtype)
        super().__init__(cell_model)

    def _setup(self, p: dict[str, Any]) -> None:
        self._p = p
        # a parameter without a spec default that the module was not given: the
        # characterization's value
        self._capacity_As = 3600.0 * float(p.get("reference_capacity_Ah",
                                                 self._model.capacity_Ah))
        self._timeout_s = float(p["soc_input_timeout_s"])
        self._t_ref = float(p["soc_reference_temperature_degC"])
        m = self._model
        self._taus = np.array([pair.tau_s for pair in m.rc])
        self._tau_max = float(self._taus.max()) if self._taus.size else 1.0
        grid_t = m.lookup.t_min + np.arange(m.lookup.rows, dtype=float)
        self._r0_rows = m.r0(grid_t).astype(self._dtype)
        self._rc_rows = [m.rc_r(i, grid_t).astype(self._dtype) for i in range(len(m.rc))]
        self._r_total_ref = float(m.r0(self._t_ref)) + sum(
            float(m.rc_r(i, self._t_ref)) for i in range(len(m.rc)))

    def reset(self) -> None:
        self._n = -1
        self._t_prev: float | None = None
        self._t_start: float | None = None
        self._t_refresh = -math.inf
        self._dt_cached = math.nan

    # -- state ----------------------------------------------------------------------------
    def _allocate(self, n: int) -> None:
        dt = self._dtype
        self._n = n
        self.soc = np.full(n, self._p["initial_soc"], dtype=dt)
        self.variance = np.full(n, self.INITIAL_SOC_STD ** 2, dtype=dt)
        self.v_rc = np.zeros((len(self._model.rc), n), dtype=dt)
        self._r0 = np.empty(n, dtype=dt)
        self._r_rc = np.empty((len(self._model.rc), n), dtype=dt)
        self._row = np.zeros(n, dtype=np.int64)
        self._j = np.empty(n, dtype=np.int64)
        self._value = self._model.lookup.value.astype(dt)
        self._delta = self._model.lookup.delta.astype(dt)
        self._b1, self._b2, self._b3, self._b4, self._b5 = (np.empty(n, dtype=dt) for _ in range(5))
        self._t_refresh = -math.inf
        self._temps: np.ndarray | None = None

    def _refresh(self, t: float, temperatures: Any) -> None:
        """Per-cell parameters at the cells' present temperatures: gathers from per-kelvin
        tables (the rows of the OCV lookup), skipped while the temperatures are unchanged."""
        self._t_refresh = t
        temps = cell_temperatures(temperatures, self._n, self._t_ref)
        if self._temps is not None and np.array_equal(temps, self._temps):
            return
        self._temps = temps
        lookup = self._model.lookup
        row = np.clip(np.rint(temps - lookup.t_min), 0, lookup.rows - 1).astype(np.int64)
        np.multiply(row, lookup.width, out=self._row)
        np.take(self._r0_rows, row, out=self._r0)
        for i in range(self._r_rc.shape[0]):
            np.take(self._rc_rows[i], row, out=self._r_rc[i])

    # -- step -----------------------------------------------------------------------------
    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        voltage = np.asarray(inputs["cell_voltage_V"], dtype=self._dtype)
        valid = np.asarray(inputs["cell_voltage_valid"], dtype=bool)
        current = float(inputs["pack_current_A"])
        age = float(inputs["current_sensor_age_s"])
        if voltage.shape[0] != self._n:
            self._allocate(voltage.shape[0])
        dt = 0.0 if self._t_prev is None else max(t - self._t_prev, 0.0)
        self._t_prev = t
        if not (age <= self._timeout_s and math.isfinite(current)):
            return self._outputs(int(F.SOC_INPUTS_STALE))
        if t - self._t_refresh >= self.TEMPERATURE_REFRESH_S - 1e-9:
            self._refresh(t, inputs["cell_temperature_degC"])
        if self._t_start is None:
            self._t_start = t
        self._initial_rc_var = (self.INITIAL_RC_STD_V * math.exp(
            -(t - self._t_start) / self._tau_max)) ** 2
        if dt > 0.0:
            self._predict(current, dt)
        self._correct(voltage, valid, current)
        return self._outputs(0)

    def _predict(self, current: float, dt: float) -> None:
        counted = current * dt / self._capacity_As
        self.soc += counted
        if dt != self._dt_cached:
            self._decay = np.exp(-dt / self._taus)
            self._dt_cached = dt
        for i in range(self.v_rc.shape[0]):
            v_i = self.v_rc[i]
            v_i *= self._decay[i]
            np.multiply(self._r_rc[i], (1.0 - self._decay[i]) * current, out=self._b1)
            v_i += self._b1
        offset = self.OFFSET_C_RATE_STD * self._capacity_As / 3600.0 * dt / self._capacity_As
        self.variance += (self.COUNT_REL_STD * counted) ** 2 + offset ** 2

    def _correct(self, voltage: np.ndarray, valid: np.ndarray, current: float) -> None:
        soc, x, e, hp = self.soc, self._b1, self._b2, self._b3
        np.clip(soc, 0.0, 1.0, out=soc)
        # OCV and slope: two gathers from the cell's 1 K row (see OcvLookup)
        np.multiply(soc, OcvLookup.STEPS, out=x)
        np.copyto(self._j, x, casting="unsafe")  # floor, as x >= 0
        x -= self._j  # fraction within the interval
        self._j += self._row
        ocv = np.take(self._value, self._j, out=self._b4, mode="clip")
        slope = np.take(self._delta, self._j, out=self._b5, mode="clip")
        x *= slope
        x += ocv  # OCV(soc)
        np.multiply(self._r0, current, out=e)
        x += e  # + R0·I
        for v_i in self.v_rc:
            x += v_i  # + RC voltages: the predicted terminal voltage
        np.subtract(voltage, x, out=e)  # innovation
        h = slope
        h *= OcvLookup.STEPS  # dOCV/dSoC
        r = (self.VOLTAGE_STD_V ** 2
             + (self.OVERPOTENTIAL_REL_STD * abs(current) * self._r_total_ref) ** 2
             + self._initial_rc_var)
        np.multiply(h, self.variance, out=hp)  # H·P
        s = self._b4
        np.multiply(hp, h, out=s)
        s += r  # H²P + R
        gain = s
        np.divide(hp, s, out=gain)
        if not valid.all() or not np.isfinite(e).all():
            ok = valid & np.isfinite(e)
            gain *= ok
            e[~ok] = 0.0
        hp *= gain  # K·H·P
        self.variance -= hp
        e *= gain
        soc += e

    def _outputs(self, flags: int) -> dict[str, Any]:
        cell_soc = np.clip(self.soc, 0.0, 1.0).astype(float, copy=False)
        return {"cell_soc": cell_soc, "pack_soc": pack_soc_of(cell_soc),
                "soc_fault_flags": flags}
