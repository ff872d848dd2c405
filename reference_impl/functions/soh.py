"""Capacity and ohmic resistance of every series element, and the EU 2023/1542 Annex VII
part A data derived from them (spec: interfaces/soh_estimator.yaml, OBSA-SOH-*, OBSA-REG-001
to 006). Vectorised over the cells; the step period is 1 s.

Resistance — recursive least squares of scale factors per cell. The characterization's
overpotential φ = R0(T)·I + Σ v_i (RC voltages propagated with the measured current) is what a
beginning-of-life cell would show; an aged cell shows g·φ. Differencing two steps removes the
OCV (and any slowly varying error of the SoC input): Δ(V − OCV(soc)) = g·Δφ. The RLS (with
forgetting) updates only on steps with enough excitation (|Δφ| of at least a few millivolts,
i.e. a current step); g corrects the whole overpotential (the capacity anchors, the power
capability). The ohmic resistance has a scale g0 of its own: ageing raises R0 more than the RC
pairs (a contact or film resistance), so on a current step the ohmic part alone is fitted,
Δ(V − OCV) − Δ(Σ v_i) = g0·R0(T)·ΔI, twice: over the steps where the characterization's R0
holds (SoC OHMIC_SOC_RANGE, where it was fitted: a cell's resistance rises at the ends of its
SoC range, and not always in proportion) and over every step. The first is reported once it
has MIN_RESISTANCE_UPDATES steps, else the second once it has: cell_resistance_ohm is
g0·initial_resistance_ohm scaled by the characterization's R0(T)/R0(T_ref) — the declared
beginning-of-life value until then (OBSA-SOH-004).

Capacity — charge counted between two *anchors* far apart in SoC. An anchor is a state in
which the voltage tells the SoC: the current has stayed below C/20 for ANCHOR_HOLD_S (a rest,
the end of a CV charge), so that OCV⁻¹(V − g·φ) is within millivolts of the truth, on a part
of the OCV curve steep enough (MIN_ANCHOR_SLOPE) that millivolts are a fraction of a percent
of SoC — on LFP only the ends qualify. The SoC input is not used: it is itself counted on the
nominal capacity, and the ratio would return that capacity. Two anchors at least
MIN_ANCHOR_SPAN apart give a capacity sample |ΔQ| / |ΔSoC|; samples are averaged with weights
|ΔSoC| and a forgetting factor, so that the estimate follows ageing.

Annex VII data: power_capability_W from the estimated resistance at the declared reference
SoC, duration and the SoC reference temperature (down to the characterization's empty
voltage); round_trip_efficiency from the energy discharged over the energy charged over a
whole loop of the mean SoC (it went at least EFFICIENCY_MIN_SWING above and below where the
loop started, and crossed that SoC again; until measured: the characterization's value for a
C/3 cycle); self_discharge_current_A from the SoC drift of the voltage over long rests;
soce as the energy of the last discharge from the full state (a charge that brought every
cell to the characterization's full voltage) to the empty voltage at C/5 to C/2, the rates of
a C/3 capacity test, over certified_energy_Wh; until such a discharge is seen, the energy
deliverable at C/3 by the capacity and resistance estimated now.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..interfaces import SohEstimatorParameters
from .cell_model import CellModelBlock, CellTemperatures, OcvLookup, PerStepLength

COMPONENT = "soh_estimator"

#: a step's cell voltages, resistance scale g, overpotential φ, OCV rows and valid readings
_Readings = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


class SohEstimator(CellModelBlock):
    """Vectorised capacity and resistance estimation with the Annex VII data."""

    COMPONENT = COMPONENT
    PARAMETERS = SohEstimatorParameters

    RLS_FORGETTING = 0.995
    #: Plausible resistance scale against the characterization (noise cannot leave it)
    GAIN_RANGE = (0.2, 10.0)
    MIN_RESISTANCE_UPDATES = 5
    MIN_EXCITATION_V = 0.003
    OHMIC_SOC_RANGE = (0.2, 0.8)
    OHMIC_PRIOR_VARIANCE = 1.0e4
    ANCHOR_CURRENT_C = 1.0 / 20.0
    ANCHOR_HOLD_S = 60.0
    MIN_ANCHOR_SLOPE = 0.4  # V per unit SoC
    MIN_ANCHOR_SPAN = 0.4
    CAPACITY_FORGETTING = 0.7
    SELF_DISCHARGE_MIN_REST_S = 3600.0
    EFFICIENCY_MIN_SWING = 0.2
    #: a charge reached the full voltage, a discharge the empty voltage, this close (V)
    END_VOLTAGE_SLACK_V = 0.02
    #: mean C-rates of a discharge whose energy stands for the C/3 energy (soce)
    ENERGY_RATE_RANGE_C = (0.2, 0.5)
    DEFAULT_REFERENCE_TEMPERATURE_DEGC = 25.0

    def _setup(self, p: dict[str, Any]) -> None:
        m = self._model
        self._t_ref = self.DEFAULT_REFERENCE_TEMPERATURE_DEGC
        self._rated_Ah = float(p.get("rated_capacity_Ah", m.capacity_Ah))
        self._r_bol = float(p.get("initial_resistance_ohm", float(m.r0(self._t_ref))))
        self._certified_Wh = float(p.get("certified_energy_Wh", 0.0))
        self._power_soc = float(p.get("power_reference_soc", 0.5))
        self._power_s = float(p.get("power_reference_duration_s", 10.0))
        self._taus = np.array([pair.tau_s for pair in m.rc])
        self._v_empty = float(m.ocv(0.0, self._t_ref))
        self._mean_ocv = float(np.mean(m.ocv(np.linspace(0, 1, 101), self._t_ref)))
        self._v_full = float(m.ocv(1.0, self._t_ref))
        # the power capability's circuit at the reference conditions (fixed by the PIXIT)
        self._r0_ref = float(m.r0(self._t_ref))
        self._r_duration = self._r0_ref + sum(
            float(m.rc_r(i, self._t_ref)) * (1.0 - math.exp(-self._power_s / pair.tau_s))
            for i, pair in enumerate(m.rc))
        self._power_slope = float(m.ocv_slope(self._power_soc, self._t_ref))
        self._power_ocv = float(m.ocv(self._power_soc, self._t_ref))
        # no cell's R0 exceeds this: a current change smaller than MIN_EXCITATION_V over it
        # is no ohmic step for any cell (checked before any array is touched)
        self._r0_max = float(np.max(m.r0_ohm))
        self._anchor_A = self.ANCHOR_CURRENT_C * self._rated_Ah
        self._temperatures = CellTemperatures(m, self._t_ref)

    def reset(self) -> None:
        self._n = -1
        self._t_prev: float | None = None

    def _allocate(self, n: int) -> None:
        self._n = n
        self.gain = np.ones(n)  # resistance scale g
        self._g_var = np.full(n, 1.0)
        self._g_updates = np.zeros(n, dtype=np.int64)
        # the overpotential's terms: the ohmic drop R0·I, then the RC voltages v_i
        self._terms = np.zeros((1 + len(self._model.rc), n))
        self._decay = PerStepLength(self._decay_over)
        # the last step's readings (voltage, validity, SoC, OCV rows) and overpotential:
        # y = V − OCV(SoC) is needed only on a step with excitation, then for both steps
        # (the last step's kept if it was computed then)
        self._prev: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._prev_y: np.ndarray | None = None
        self._prev_phi = np.full(n, math.nan)
        self._prev_r0 = np.full(n, math.nan)
        # R0 scale g0: row 0 from the steps inside OHMIC_SOC_RANGE, row 1 from every step
        self.ohmic_gain = np.ones((2, n))
        # a weak prior (1/V²): the first step's ratio is taken almost whole
        self._g0_var = np.full((2, n), self.OHMIC_PRIOR_VARIANCE)
        self._g0_updates = np.zeros((2, n), dtype=np.int64)
        self._prev_current = math.nan
        self.capacity_Ah = np.full(n, self._rated_Ah)
        self._cap_weight = np.zeros(n)
        self._charge_Ah = 0.0  # counted charge since reset (positive: charged)
        self._anchor_soc = np.full(n, math.nan)
        self._anchor_Ah = np.zeros(n)
        # the readings of the last step of a quiet period (held ANCHOR_HOLD_S) since the last
        # commit: the anchor candidate, its SoC looked up when the period ends
        self._candidate: _Readings | None = None
        self._quiet_s = 0.0
        self._rest_start_soc = np.full(n, math.nan)
        self._rest_start_t = math.nan
        self._self_discharge_A = 0.0
        self._e_in_Wh = self._e_out_Wh = 0.0
        self._eff_start_soc = math.nan
        self._eff_up = self._eff_down = 0.0
        self._eff_side = 0.0
        self._efficiency = math.nan
        self._from_full = False
        self._discharge_Wh = self._discharge_Ah = self._discharge_s = 0.0
        self._measured_Wh = math.nan
        self._estimates_changed()

    # -- step -----------------------------------------------------------------------------
    # The state arrays are replaced, never written into, at an update: what a step returned
    # stays as it was. Most steps of a cycle change no estimate (no current step, no quiet
    # period ending): what follows from the estimates alone is kept between changes
    # (_estimates_changed), and the OCV is looked up only on steps that use it.
    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        voltage = np.asarray(inputs["cell_voltage_V"], dtype=float)
        current = float(inputs["pack_current_A"])
        pack_voltage = float(inputs["pack_voltage_V"])
        if voltage.shape[0] != self._n:
            self._allocate(voltage.shape[0])
        valid = np.asarray(inputs["cell_voltage_valid"], dtype=bool) & np.isfinite(voltage)
        soc = np.minimum(np.maximum(np.asarray(inputs["cell_soc"], dtype=float), 0.0), 1.0)
        # per cell, the OCV rows and R0 and the RC resistances at its temperature (kept
        # while the sensors read the same)
        self._temperatures.update(inputs["cell_temperature_degC"], self._n)
        rows, r0 = self._temperatures.rows, self._temperatures.r0
        dt = 0.0 if self._t_prev is None else max(t - self._t_prev, 0.0)
        self._t_prev = t
        if math.isfinite(current):
            phi = self._overpotential(current, dt, self._temperatures.resistances)
            now = (voltage, valid, soc, rows)
            ohmic = self._ohmic_step(current)
            dphi = phi - self._prev_phi
            excitation = np.abs(dphi)
            # any cell excited: the largest excitation (not a number, no last step, ignored)
            excited = float(np.fmax.reduce(excitation)) >= self.MIN_EXCITATION_V
            y = None
            if ohmic or excited:
                y = self._y(now)
                if self._prev is None:
                    dy = np.full(self._n, math.nan)
                else:
                    dy = y - (self._y(self._prev) if self._prev_y is None else self._prev_y)
                if ohmic:
                    self._update_ohmic(dy, phi, current, r0, soc, valid)
                if excited:
                    self._update_resistance(dy, excitation >= self.MIN_EXCITATION_V, dphi,
                                            valid)
            self._prev, self._prev_y, self._prev_phi, self._prev_r0 = now, y, phi, r0
            self._prev_current = current
            if dt > 0.0:
                self._count(current, pack_voltage, dt, soc)
                self._track_discharge(voltage, valid, current, pack_voltage, dt)
                self._update_capacity(voltage, phi, current, dt, rows, valid, t)
        return self._outputs(r0)

    def _y(self, readings: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
           ) -> np.ndarray:
        """V − OCV(SoC) of a step's readings: what the overpotential must explain."""
        voltage, _, soc, rows = readings
        grid = soc * OcvLookup.STEPS  # the SoC (within 0 … 1 already) on the OCV grid
        return np.asarray(voltage - self._model.lookup.ocv_on_grid(
            grid, grid.astype(np.int64), rows))

    def _overpotential(self, current: float, dt: float, resistances: np.ndarray
                       ) -> np.ndarray:
        """φ = R0(T)·I + Σ v_i of the characterization, the RC pairs advanced by dt
        (``resistances``: R0 and the pairs' at the cells' temperatures, one row each).

        One recursion for all the terms, w ← a·w + R·(1 − a)·I, with a = exp(−dt/τ_i) for
        the pairs and 0 for the ohmic drop (R0·I at once); φ is the sum of the rows."""
        decay, rise = self._decay(dt)
        self._terms = decay * self._terms + resistances * rise * current
        return np.asarray(np.add.reduce(self._terms))  # (R0·I + v_1) + v_2 + …

    def _decay_over(self, dt: float) -> tuple[np.ndarray, np.ndarray]:
        """Per term of the overpotential and per cell (an array the shape of the terms costs
        a step less than a broadcast), its decay a over dt and 1 − a."""
        a = np.array([0.0, *(math.exp(-dt / float(tau)) if dt > 0.0 else 1.0
                             for tau in self._taus)])
        a = np.repeat(a[:, None], self._n, axis=1)
        return a, 1.0 - a

    def _ohmic_step(self, current: float) -> bool:
        """Whether the current moved enough since the last step for any cell's ohmic drop to
        change by MIN_EXCITATION_V (False after a current that was not a number)."""
        return abs(current - self._prev_current) * self._r0_max >= self.MIN_EXCITATION_V

    def _update_ohmic(self, dy: np.ndarray, phi: np.ndarray, current: float, r0: np.ndarray,
                      soc: np.ndarray, valid: np.ndarray) -> None:
        """RLS of g0 on current steps: Δy − Δ(Σ v_i) = g0·R0(T)·ΔI."""
        drc = (phi - r0 * current) - (self._prev_phi - self._prev_r0 * self._prev_current)
        x = r0 * (current - self._prev_current)
        lo, hi = self.OHMIC_SOC_RANGE
        stepped = (valid & np.isfinite(dy) & np.isfinite(x)
                   & (np.abs(x) >= self.MIN_EXCITATION_V))
        if not stepped.any():
            return
        excited = np.stack([stepped & (soc >= lo) & (soc <= hi), stepped])
        lam = self.RLS_FORGETTING
        x = np.where(excited, x, 0.0)
        target = np.where(excited, dy - drc, 0.0)
        k = self._g0_var * x / (lam + x * x * self._g0_var)
        gain = np.where(excited, self.ohmic_gain + k * (target - self.ohmic_gain * x),
                        self.ohmic_gain)
        self.ohmic_gain = np.minimum(np.maximum(gain, self.GAIN_RANGE[0]), self.GAIN_RANGE[1])
        self._g0_var = np.where(excited, (self._g0_var - k * x * self._g0_var) / lam,
                                self._g0_var)
        self._g0_updates = self._g0_updates + excited
        self._resistance_changed()

    def _update_resistance(self, dy: np.ndarray, stepped: np.ndarray, dphi: np.ndarray,
                           valid: np.ndarray) -> None:
        """RLS of g on the steps with excitation (``stepped``: |Δφ| ≥ MIN_EXCITATION_V):
        Δy = g·Δφ."""
        excited = valid & np.isfinite(dy) & stepped
        if not excited.any():
            return
        lam = self.RLS_FORGETTING
        x = np.where(excited, dphi, 0.0)
        k = self._g_var * x / (lam + x * x * self._g_var)
        # x = 0, k = 0: the gain of a cell not excited stays as it was, to the bit
        gain = self.gain + k * (np.where(excited, dy, 0.0) - self.gain * x)
        self.gain = np.minimum(np.maximum(gain, self.GAIN_RANGE[0]), self.GAIN_RANGE[1])
        self._g_var = np.where(excited, (self._g_var - k * x * self._g_var) / lam,
                               self._g_var)
        self._g_updates = self._g_updates + excited
        self._power_changed()

    def _count(self, current: float, pack_voltage: float, dt: float, soc: np.ndarray) -> None:
        self._charge_Ah += current * dt / 3600.0
        energy = pack_voltage * current * dt / 3600.0
        if energy > 0:
            self._e_in_Wh += energy
        else:
            self._e_out_Wh -= energy
        mean_soc = float(np.add.reduce(soc)) / soc.size
        if math.isnan(self._eff_start_soc):
            self._eff_start_soc, self._e_in_Wh, self._e_out_Wh = mean_soc, 0.0, 0.0
            return
        offset = mean_soc - self._eff_start_soc
        self._eff_up = max(self._eff_up, offset)
        self._eff_down = max(self._eff_down, -offset)
        side = math.copysign(1.0, offset) if offset else 0.0
        crossed = side == 0.0 or (self._eff_side != 0.0 and side != self._eff_side)
        if side:
            self._eff_side = side
        if (crossed and min(self._eff_up, self._eff_down) >= self.EFFICIENCY_MIN_SWING
                and self._e_in_Wh > 0.0 and self._e_out_Wh > 0.0):
            self._efficiency = min(self._e_out_Wh / self._e_in_Wh, 1.0)
            self._eff_start_soc, self._eff_up, self._eff_down = mean_soc, 0.0, 0.0
            self._eff_side = 0.0
            self._e_in_Wh = self._e_out_Wh = 0.0

    def _track_discharge(self, voltage: np.ndarray, valid: np.ndarray, current: float,
                         pack_voltage: float, dt: float) -> None:
        """The energy of a discharge from the full state to the empty voltage (soce)."""
        charging = current > self._anchor_A
        if not charging and not self._from_full:
            return
        lowest = float(np.minimum.reduce(voltage, where=valid, initial=math.inf))
        if lowest == math.inf:  # no valid reading
            return
        if charging:
            self._from_full = lowest >= self._v_full - self.END_VOLTAGE_SLACK_V
            self._discharge_Wh = self._discharge_Ah = self._discharge_s = 0.0
            return
        self._discharge_Wh -= pack_voltage * current * dt / 3600.0
        if current < 0.0:
            self._discharge_Ah -= current * dt / 3600.0
            self._discharge_s += dt
        if current < 0.0 and lowest <= self._v_empty + self.END_VOLTAGE_SLACK_V:
            rate_C = self._discharge_Ah / max(self._discharge_s / 3600.0, 1e-9) / self._rated_Ah
            lo, hi = self.ENERGY_RATE_RANGE_C
            if lo <= rate_C <= hi:
                self._measured_Wh = self._discharge_Wh
            self._from_full = False

    def _update_capacity(self, voltage: np.ndarray, phi: np.ndarray, current: float,
                         dt: float, rows: np.ndarray, valid: np.ndarray, t: float) -> None:
        if abs(current) > self._anchor_A:
            if self._candidate is not None:
                self._commit_anchor(self._candidate)
            self._quiet_s = 0.0
            self._rest_start_t = math.nan
            return
        self._quiet_s += dt
        if self._quiet_s < self.ANCHOR_HOLD_S:
            return
        # the voltage tells the SoC: looked up on the steps that use it, the first of the
        # rest and those past SELF_DISCHARGE_MIN_REST_S (_self_discharge), and the last of
        # the period (the candidate, when the period ends)
        self._candidate = (voltage, self.gain, phi, rows, valid)
        if (math.isnan(self._rest_start_t)
                or t - self._rest_start_t >= self.SELF_DISCHARGE_MIN_REST_S):
            self._self_discharge(*self._voltage_soc(self._candidate), t)

    def _voltage_soc(self, readings: _Readings) -> tuple[np.ndarray, np.ndarray]:
        """Per cell, the SoC the voltage tells after a quiet period, OCV⁻¹(V − g·φ), and
        where it tells it (a valid reading, on a part of the OCV curve at least
        MIN_ANCHOR_SLOPE steep)."""
        voltage, gain, phi, rows, valid = readings
        lookup = self._model.lookup
        soc_v = lookup.soc_at(voltage - gain * phi, rows)
        return soc_v, valid & (lookup.slope_at(soc_v, rows) >= self.MIN_ANCHOR_SLOPE)

    def _commit_anchor(self, readings: _Readings) -> None:
        """A quiet period ended: its last voltage-SoC (``readings``: its last step's) is an
        anchor; with the previous anchor far enough it gives a capacity sample."""
        self._candidate = None
        soc_v, ok = self._voltage_soc(readings)
        cand = np.where(ok, soc_v, math.nan)
        if np.all(np.isnan(cand)):
            return
        span = np.abs(cand - self._anchor_soc)
        use = np.isfinite(span) & (span >= self.MIN_ANCHOR_SPAN)
        sample = np.abs(self._charge_Ah - self._anchor_Ah) / np.where(use, span, 1.0)
        w_old = self._cap_weight * self.CAPACITY_FORGETTING
        new = (w_old * self.capacity_Ah + span * sample) / np.where(use, w_old + span, 1.0)
        # within the signal's plausible range: half to 1.5 times the rated capacity
        self.capacity_Ah = np.minimum(np.maximum(np.where(use, new, self.capacity_Ah),
                                                 0.5 * self._rated_Ah), 1.5 * self._rated_Ah)
        self._cap_weight = np.where(use, w_old + span, self._cap_weight)
        have = np.isfinite(cand)
        self._anchor_soc = np.where(have, cand, self._anchor_soc)
        self._anchor_Ah = np.where(have, self._charge_Ah, self._anchor_Ah)
        self._capacity_changed()
        self._power_changed()

    def _self_discharge(self, soc_v: np.ndarray, ok: np.ndarray, t: float) -> None:
        if math.isnan(self._rest_start_t):
            self._rest_start_t, self._rest_start_soc = t, np.where(ok, soc_v, math.nan)
            return
        rested_s = t - self._rest_start_t
        if rested_s >= self.SELF_DISCHARGE_MIN_REST_S:
            lost = (self._rest_start_soc - soc_v) * self.capacity_Ah / (rested_s / 3600.0)
            lost = lost[np.isfinite(lost)]
            if lost.size:
                self._self_discharge_A = float(max(np.max(lost), 0.0))

    # -- outputs --------------------------------------------------------------------------
    def _estimates_changed(self) -> None:
        """Recompute what the outputs take from the estimates alone (after an update):
        :meth:`_resistance_changed`, :meth:`_capacity_changed` and :meth:`_power_changed`."""
        if self._n < 0:
            return
        self._resistance_changed()
        self._capacity_changed()
        self._power_changed()

    def _resistance_changed(self) -> None:
        """After an update of the ohmic scale g0: what cell_resistance_ohm takes from it."""
        estimated = self._g0_updates >= self.MIN_RESISTANCE_UPDATES
        self._r_estimated = estimated.any(axis=0)
        self._r_gain = np.where(estimated[0], self.ohmic_gain[0], self.ohmic_gain[1])
        self._r_all_estimated = bool(self._r_estimated.all())  # the usual case, soon
        self._r_fixed = not self._r_estimated.any()  # the declared value, at any temperature
        self._resistance_for: np.ndarray | None = None  # the R0 of _resistance (none yet)
        if self._r_fixed:
            self._resistance = np.full(self._n, self._r_bol)
            self._pack_resistance = float(np.add.reduce(self._resistance))

    def _capacity_changed(self) -> None:
        """After an update of the capacity: the pack's capacity, and the OCV's fall per A
        over the power capability's reference duration (followed by :meth:`_power_changed`)."""
        cap = self.capacity_Ah
        self._pack_cap = float(np.minimum.reduce(cap))
        self._power_ocv_fall = self._power_slope * self._power_s / (3600.0 * cap)

    def _power_changed(self) -> None:
        """After an update of the scale g or of the capacity: the power capability."""
        # discharge current over the reference duration at the reference SoC and temperature,
        # down to the characterization's empty voltage, with the estimated resistance scale
        scale = np.where(self._g_updates >= self.MIN_RESISTANCE_UPDATES, self.gain, 1.0)
        r_eff = scale * self._r_duration * (self._r_bol / self._r0_ref)
        i_max = (self._power_ocv - self._v_empty) / (r_eff + self._power_ocv_fall)
        self._power_W = (max(0.0, float(np.minimum.reduce(i_max))) * self._v_empty
                         * self._n)

    def cell_resistance(self, r0: np.ndarray) -> tuple[np.ndarray, float]:
        """Per cell and summed over the string: the declared beginning-of-life value, scaled
        where g0 is estimated by g0 and the characterization's R0 at the cell's temperature
        (``r0``) over R0(T_ref) (the last step's while neither the temperatures nor the
        estimates changed)."""
        if not self._r_fixed and r0 is not self._resistance_for:
            scale = self._r_gain * r0 / self._r0_ref
            if not self._r_all_estimated:
                scale = np.where(self._r_estimated, scale, 1.0)
            self._resistance = np.asarray(self._r_bol * scale)
            self._pack_resistance = float(np.add.reduce(self._resistance))
            self._resistance_for = r0
        return self._resistance, self._pack_resistance

    def _outputs(self, r0: np.ndarray) -> dict[str, Any]:
        n = self._n
        cap = self.capacity_Ah
        res, pack_res = self.cell_resistance(r0)
        pack_cap = self._pack_cap
        i3 = pack_cap / 3.0
        r_now = pack_res / n
        efficiency = self._efficiency
        if math.isnan(efficiency):
            efficiency = (self._mean_ocv - i3 * r_now) / (self._mean_ocv + i3 * r_now)
        energy_Wh = (self._measured_Wh if math.isfinite(self._measured_Wh)
                     else n * pack_cap * max(self._mean_ocv - i3 * r_now, 0.0))
        soce = (energy_Wh / self._certified_Wh if self._certified_Wh > 0.0
                else pack_cap / self._rated_Ah)
        return {
            "cell_capacity_Ah": cap,
            "pack_capacity_Ah": pack_cap,
            "soh_capacity": pack_cap / self._rated_Ah,
            "cell_resistance_ohm": res,
            "pack_resistance_ohm": pack_res,
            "soh_resistance": min(pack_res / (n * self._r_bol), 10.0),
            "power_capability_W": min(self._power_W, 1.0e7),
            "round_trip_efficiency": float(min(max(efficiency, 0.0), 1.0)),
            "self_discharge_current_A": min(self._self_discharge_A, 10.0),
            "soce": float(min(max(soce, 0.0), 1.5)),
        }
