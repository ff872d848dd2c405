"""The series string of cells: OCV + R0 + one RC pair, coulomb counting, lumped thermal.

Every cell of a series string carries the same current, so a step needs no per-cell
arithmetic: with a common RC time constant and a per-cell resistance factor k_i,

* SoC:         soc_i = soc_i(sync) + Q / capacity_i,        Q = ∫ I dt since the sync
* RC pair:     v_rc_i = k_i · R1 · x,                         x = the current low-passed by τ1
* temperature: T_i − T_amb = D · (T_i(sync) − T_amb) + k_i · H

where Q, x, D and H are plain floats updated in O(1) per step (exact zero-order-hold
integration). The per-cell arrays are brought up to date ("synced") only when somebody
needs them: when the cell monitor samples, when the truth is read or a scenario sets a
cell. Between syncs the pack's OCV sum moves with Q along the cells' OCV slopes.
The model has no temperature dependence of R0 or OCV.

Passive balancing: a cell whose balancing switch is on discharges through its balancing
resistor (``balancing_resistance_ohm``) with a current b_i = OCV_i / R_bal fixed when the
switches change (they change at most once per balancing step, 1 s), and the resistor's heat
b_i² · R_bal goes into that cell (the worst case: none into the board). Between two syncs
the bleed is constant, so it integrates lazily like the rest: the cell loses b_i · s of
charge over s seconds, its temperature rises by b_i² · R_bal · (1 − D) / G, its terminal
voltage carries the drop of b_i through its R0, and the string's source voltage moves with
the bleed along the cells' OCV slopes.

Surroundings and thermal actuators: each cell exchanges heat with its own ambient, the
pack's ambient plus its share of ``ambient_gradient_K`` (0 at the first cell, the whole
gradient at the last: cell-to-cell gradients at rest). A cooling request couples every cell
to the coolant at ``coolant_temperature_degC`` through ``coolant_heat_transfer_W_per_K``;
a heating request adds ``heater_power_W`` to every cell. Both are folded into one
surrounding temperature per cell and one conductance, T_env = (G·T_amb + G_c·T_c + P_h) /
(G + G_c), so the lazy integration above holds with T_env for T_amb and G + G_c for G; the
arrays are synced whenever a request changes.
"""

from __future__ import annotations

import math

import numpy as np

from ..frozen import frozen
from . import chemistry as chem
from .config import BenchConfig


class SeriesString:
    """n series cells with spread, integrated lazily (see module docstring)."""

    def __init__(self, cfg: BenchConfig, rng: np.random.Generator) -> None:
        n = cfg.n_cells
        self.chemistry = chem.CHEMISTRIES[cfg.chemistry]
        self._soc_knots = np.asarray(self.chemistry.soc_knots, dtype=float)
        self._ocv_knots = np.asarray(self.chemistry.ocv_knots_V, dtype=float)
        seg_slope = np.diff(self._ocv_knots) / np.diff(self._soc_knots)
        self._slope_soc = 0.5 * (self._soc_knots[1:] + self._soc_knots[:-1])
        self._slope_V = seg_slope
        self.dt_s = cfg.dt_s
        # spread, drawn with the seed, in a fixed order
        soc_dev = rng.standard_normal(n)
        cap_dev = rng.standard_normal(n)
        res_dev = rng.standard_normal(n)
        capacity_As = cfg.capacity_Ah * 3600.0 * (1.0 + cfg.capacity_spread * cap_dev)
        self.capacity_As = np.maximum(capacity_As, 0.1 * cfg.capacity_Ah * 3600.0)
        self._inv_cap = 1.0 / self.capacity_As
        self.resistance_factor = np.maximum(1.0 + cfg.resistance_spread * res_dev, 0.1)
        self.soc = cfg.initial_soc + cfg.soc_spread * soc_dev
        r0, r1 = cfg.cell_r0_ohm, cfg.cell_r1_ohm
        self.r0_ohm = r0 if r0 is not None else chem.R0_OHM_AH / cfg.capacity_Ah
        self.r1_ohm = r1 if r1 is not None else chem.R1_OHM_AH / cfg.capacity_Ah
        self.tau1_s = cfg.cell_tau1_s if cfg.cell_tau1_s is not None else chem.TAU1_S
        c_th = cfg.cell_thermal_capacity_J_per_K
        self.thermal_capacity_J_per_K = (
            c_th if c_th is not None else chem.THERMAL_CAPACITY_J_PER_K_AH * cfg.capacity_Ah
        )
        g_th = cfg.cell_heat_transfer_W_per_K
        self.heat_transfer_W_per_K = (
            g_th if g_th is not None else chem.HEAT_TRANSFER_W_PER_K_AH * cfg.capacity_Ah
        )
        t0 = cfg.initial_temperature_degC
        self.ambient_degC = float(cfg.ambient_degC)
        self.ambient_offset_K = (np.arange(n) / max(n - 1, 1)) * float(cfg.ambient_gradient_K)
        self.coolant_degC = float(cfg.coolant_temperature_degC)
        g_c, p_h = cfg.coolant_heat_transfer_W_per_K, cfg.heater_power_W
        self.coolant_heat_transfer_W_per_K = (
            g_c if g_c is not None else chem.COOLANT_HEAT_TRANSFER_W_PER_K_AH * cfg.capacity_Ah)
        self.heater_power_W = p_h if p_h is not None else chem.HEATER_POWER_W_AH * cfg.capacity_Ah
        self.cooling = False  # the coolant flows
        self.heating = False  # the heaters are on
        self.temperature_degC = (self.ambient_degC + self.ambient_offset_K if t0 is None
                                 else np.full(n, float(t0)))
        # temperature sensors: consecutive groups of cells
        starts = (np.arange(cfg.n_temp_sensors) * n) // cfg.n_temp_sensors
        self.sensor_starts = starts
        counts = np.diff(np.append(starts, n))
        self._inv_counts = 1.0 / counts
        self.sensor_of_cell = np.repeat(np.arange(cfg.n_temp_sensors), counts)
        # scalar state and per-step constants
        self.k_sum = float(self.resistance_factor.sum())
        self.pack_r0_ohm = self.k_sum * self.r0_ohm
        self._a1 = math.exp(-self.dt_s / self.tau1_s)
        self._surroundings()
        self.balancing_resistance_ohm = cfg.balancing_resistance_ohm
        self.balancing = np.zeros(n, dtype=bool)  # the switches as last commanded
        self._switches_seen: np.ndarray | None = None  # the frozen command they came from
        self._bleed_A = np.zeros(n)  # per cell, while the switches stay as they are
        self._bleed_heat_W = np.zeros(n)
        self._bleed_s = 0.0  # bleeding time since the last sync
        self._bleeding = False  # any switch on
        self._bleed_drop_V = 0.0  # Σ k_i · R0 · b_i: the bleeds' drop inside the string
        self._bleed_slope_V_per_s = 0.0  # Σ dOCV_i/dQ · b_i: the string's OCV drift
        self._slope_V_per_As = np.zeros(n)
        self.x_A = 0.0  # current through R1 (v_rc = k_i · R1 · x)
        self._q_As = 0.0  # charge since the last sync
        self._decay = 1.0  # D
        self._heat_K = 0.0  # H
        self._ocv_sum_V = 0.0
        self._ocv_slope_V_per_As = 0.0
        self._ocv = np.empty(n)
        self._refresh_ocv()

    # ---- per step (scalar only) ------------------------------------------------------
    def step(self, current_A: float) -> None:
        """Integrate one dt with ``current_A`` held (positive = charge)."""
        self._q_As += current_A * self.dt_s
        x = current_A + (self.x_A - current_A) * self._a1
        self.x_A = x
        heat_W = self.r0_ohm * current_A * current_A + self.r1_ohm * x * x
        d = self._d
        self._heat_K = d * self._heat_K + self._d_heat * heat_W
        self._decay *= d
        if self._bleeding:
            self._bleed_s += self.dt_s

    def add_charge(self, charge_As: float) -> None:
        """A charge pulse too short to resolve (inrush into the DC link)."""
        self._q_As += charge_As

    def source_voltage_V(self) -> float:
        """Pack voltage behind R0: Σ OCV_i + Σ v_rc_i."""
        return (self._ocv_sum_V + self._ocv_slope_V_per_As * self._q_As
                + self.k_sum * self.r1_ohm * self.x_A
                - self._bleed_drop_V - self._bleed_slope_V_per_s * self._bleed_s)

    def set_balancing(self, switches: np.ndarray) -> None:
        """The balancing switches (one per cell) as commanded from now on."""
        if switches is self._switches_seen:  # the same read-only command as before
            return
        seen = switches if frozen(switches) else None
        switches = np.asarray(switches, dtype=bool)
        if switches.shape != self.balancing.shape:
            raise ValueError(f"balancing_cmd: expected {self.balancing.size} switches (one per "
                             f"cell), found {switches.size}")
        self._switches_seen = seen
        if np.array_equal(switches, self.balancing):
            return
        self.sync()  # what bled so far, at the old currents
        self.balancing = switches.copy()
        self._bleeding = bool(switches.any())
        self._bleed_A = np.where(switches, self._ocv / self.balancing_resistance_ohm, 0.0)
        self._bleed_heat_W = self._bleed_A ** 2 * self.balancing_resistance_ohm
        self._bleed_drop_V = float(self.r0_ohm * (self.resistance_factor @ self._bleed_A))
        self._bleed_slope_V_per_s = float(self._slope_V_per_As @ self._bleed_A)

    # ---- per-cell views ----------------------------------------------------------------
    def sync(self) -> None:
        """Commit the scalar integrals to the per-cell arrays."""
        if self._q_As != 0.0:
            self.soc += self._q_As * self._inv_cap
            self._q_As = 0.0
        if self._bleed_s:
            self.soc -= self._bleed_A * (self._bleed_s * self._inv_cap)
            self._bleed_s = 0.0
        if self._decay != 1.0 or self._heat_K != 0.0:
            t = self.temperature_degC
            amb = self._env_degC
            t -= amb
            t *= self._decay
            t += amb
            t += self._heat_K * self.resistance_factor
            if self._bleeding:
                t += self._bleed_heat_W * ((1.0 - self._decay) / self._g_W_per_K)
            self._decay = 1.0
            self._heat_K = 0.0
        self._refresh_ocv()

    def _refresh_ocv(self) -> None:
        self._ocv = np.interp(self.soc, self._soc_knots, self._ocv_knots)
        self._ocv_sum_V = float(self._ocv.sum())
        slope = np.interp(self.soc, self._slope_soc, self._slope_V)
        self._slope_V_per_As = slope * self._inv_cap
        self._ocv_slope_V_per_As = float(slope @ self._inv_cap)
        self._bleed_slope_V_per_s = float(self._slope_V_per_As @ self._bleed_A)

    def soc_now(self) -> np.ndarray:
        """Per-cell SoC now (a new array; does not sync)."""
        return self.soc + self._q_As * self._inv_cap - self._bleed_A * (self._bleed_s
                                                                        * self._inv_cap)

    def cell_temperatures_now_degC(self) -> np.ndarray:
        """Per-cell temperature now (a new array; does not sync)."""
        amb = self._env_degC
        rise = self._decay * (self.temperature_degC - amb)
        bled = self._bleed_heat_W * ((1.0 - self._decay) / self._g_W_per_K)
        return amb + rise + self._heat_K * self.resistance_factor + bled

    def cell_voltages_V(self, current_A: float, synced: bool) -> np.ndarray:
        """Terminal voltage of every cell (a new array)."""
        ocv = self._ocv if synced else np.interp(self.soc_now(), self._soc_knots, self._ocv_knots)
        drop_V = self.r0_ohm * current_A + self.r1_ohm * self.x_A
        return ocv + (drop_V - self.r0_ohm * self._bleed_A) * self.resistance_factor

    def sensor_temperatures_degC(self, cell_temperatures_degC: np.ndarray) -> np.ndarray:
        """Mean temperature of each sensor's group of cells (a new array)."""
        return np.add.reduceat(cell_temperatures_degC, self.sensor_starts) * self._inv_counts

    # ---- scenario controls ---------------------------------------------------------------
    def set_soc(self, soc: float, index: int | None) -> None:
        self.sync()
        if index is None:
            self.soc[:] = soc
        else:
            self.soc[index] = soc
        self._refresh_ocv()

    def set_sensor_temperature(self, degC: float, index: int | None) -> None:
        self.sync()
        if index is None:
            self.temperature_degC[:] = degC
        else:
            self.temperature_degC[self.sensor_of_cell == index] = degC

    def set_ambient(self, degC: float) -> None:
        self.sync()
        self.ambient_degC = float(degC)
        self._surroundings()

    # ---- thermal actuators -----------------------------------------------------------------
    def set_conditioning(self, cooling: bool, heating: bool) -> None:
        """The coolant flows (``cooling``) and the heaters are on (``heating``) from now on."""
        if (cooling, heating) == (self.cooling, self.heating):
            return
        self.sync()  # what changed so far, in the old surroundings
        self.cooling, self.heating = bool(cooling), bool(heating)
        self._surroundings()

    def _surroundings(self) -> None:
        """Each cell's surrounding temperature and the conductance to it (see the module
        docstring), and the per-step constants of the thermal integration. Call after a
        sync: the arrays hold the temperatures up to now."""
        g = self.heat_transfer_W_per_K
        g_c = self.coolant_heat_transfer_W_per_K if self.cooling else 0.0
        p_h = self.heater_power_W if self.heating else 0.0
        g_all = g + g_c
        self._g_W_per_K = g_all
        self._env_degC = (g * (self.ambient_degC + self.ambient_offset_K)
                          + g_c * self.coolant_degC + p_h) / g_all
        c = self.thermal_capacity_J_per_K
        self._d = math.exp(-self.dt_s * g_all / c)
        self._d_heat = -math.expm1(-self.dt_s * g_all / c) / g_all
