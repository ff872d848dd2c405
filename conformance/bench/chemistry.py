"""Cell chemistries of the bench: open-circuit voltage curves and default cell parameters.

The OCV tables are representative curves with the published shape of each chemistry
(NMC: a steep knee below ~10 % SoC, a sloped middle and a rise to the charge limit; LFP: a
flat plateau with two small steps and steep ends; LTO: a gently sloped curve around 2.3 V).
They are not measurements of a particular cell. Over the rated window 0 ≤ SoC ≤ 1 each
curve stays between the chemistry's discharge and charge voltage limits of the Libre Solar
bms-firmware defaults (bms_common.c). Outside that window the table
continues steeply, so that over-charging a cell drives it past its over-voltage fault and
over-discharging it below its under-voltage fault, as the safety tests need.

Resistance, RC pair and thermal defaults are round representative numbers for a large
automotive cell, scaled with capacity; every one of them can be overridden in BenchConfig.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class VoltageLimits:
    """Per-cell voltage limits, V (Libre Solar bms-firmware, bms_common.c)."""

    over_voltage_fault_V: float
    charge_limit_V: float
    discharge_limit_V: float
    under_voltage_fault_V: float


@dataclass(frozen=True)
class Chemistry:
    """A cell chemistry: its OCV table and its voltage limits."""

    name: str
    soc_knots: tuple[float, ...]
    ocv_knots_V: tuple[float, ...]
    limits: VoltageLimits

    def ocv_V(self, soc: np.ndarray | float) -> np.ndarray:
        """Open-circuit voltage at ``soc`` (piecewise linear, clamped at the table ends)."""
        return np.asarray(np.interp(soc, self.soc_knots, self.ocv_knots_V))


# Rated window: SoC 0 … 1. Beyond it the curves run away, see the module docstring.
_SOC_RATED = (0.00, 0.05, 0.10, 0.15, 0.20, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90, 0.95, 1.00)
_RATED_OCV_V = {
    "nmc": (3.30, 3.48, 3.56, 3.60, 3.63, 3.68, 3.72, 3.77, 3.84, 3.92, 4.00, 4.08, 4.13, 4.19),
    "lfp": (2.90, 3.12, 3.20, 3.23, 3.25, 3.27, 3.285, 3.29, 3.30, 3.31, 3.32, 3.33, 3.34, 3.42),
    "lto": (2.05, 2.15, 2.20, 2.23, 2.25, 2.28, 2.30, 2.32, 2.35, 2.38, 2.42, 2.48, 2.53, 2.65),
}
_LIMITS = {
    "nmc": VoltageLimits(4.25, 4.20, 3.20, 3.00),
    "lfp": VoltageLimits(3.80, 3.55, 2.80, 2.50),
    "lto": VoltageLimits(2.85, 2.80, 2.00, 1.90),
}
# Beyond the rated window: at SoC 1.1 the OCV is 0.25 V above the over-voltage fault, at
# SoC -0.1 it is 0.5 V below the under-voltage fault; the same slopes continue to ±0.3.
_OVERCHARGE_MARGIN_V = 0.25
_OVERDISCHARGE_MARGIN_V = 0.5
_MAX_OCV_V = 6.0


def _extended(name: str) -> Chemistry:
    rated = _RATED_OCV_V[name]
    lim = _LIMITS[name]
    hi_slope = (lim.over_voltage_fault_V + _OVERCHARGE_MARGIN_V - rated[-1]) / 0.1
    lo_slope = (rated[0] - (lim.under_voltage_fault_V - _OVERDISCHARGE_MARGIN_V)) / 0.1
    socs = (-0.3, -0.1, *_SOC_RATED, 1.1, 1.3)
    ocvs = (
        max(0.0, rated[0] - 0.3 * lo_slope),
        rated[0] - 0.1 * lo_slope,
        *rated,
        rated[-1] + 0.1 * hi_slope,
        min(_MAX_OCV_V, rated[-1] + 0.3 * hi_slope),
    )
    return Chemistry(name, socs, ocvs, lim)


CHEMISTRIES: dict[str, Chemistry] = {name: _extended(name) for name in _RATED_OCV_V}


# Representative cell parameters per ampere-hour of capacity (large automotive cell:
# 50 Ah → R0 1 mΩ, R1 0.5 mΩ with a 20 s time constant, 900 J/K, 0.25 W/K to ambient,
# i.e. a one-hour thermal time constant).
R0_OHM_AH = 0.05
R1_OHM_AH = 0.025
TAU1_S = 20.0
THERMAL_CAPACITY_J_PER_K_AH = 18.0
HEAT_TRANSFER_W_PER_K_AH = 0.005
#: a liquid cold plate under the cells while the coolant flows (20 × the natural heat
#: transfer: a 50 Ah cell at 15 K above the coolant sheds 75 W)
COOLANT_HEAT_TRANSFER_W_PER_K_AH = 0.1
#: a heater film on every cell while heating (30 W on a 50 Ah cell: ~3 kW for 96 cells)
HEATER_POWER_W_AH = 0.6


def bench_model(declared: str) -> str:
    """The bench's cell model for a declared chemistry: its own curve where it has one (NMC,
    LFP, LTO), else the layered-oxide NMC curve (NCA, LMO, LCO and any other). The manifest
    check and the bench both use it, so a pack refused for its voltage is the one simulated."""
    return declared if declared in CHEMISTRIES else "nmc"


#: the highest C-rate the bench's default cells (R0_OHM_AH, R1_OHM_AH) are built for: their
#: drop at 6 C is about 0.45 V, inside every declared window of a sane declaration
DEFAULT_CELL_C_RATE = 6.0


def cell_resistances(capacity_Ah: float, max_current_A: float) -> tuple[float, float]:
    """R0 and R1 (Ω) of the cells a designer would choose for a pack whose highest declared
    current is ``max_current_A``: power cells, whose resistance times capacity is lower in
    proportion, once that current exceeds DEFAULT_CELL_C_RATE. A module is judged on
    cells that can carry what it declares."""
    c_rate = max_current_A / capacity_Ah if capacity_Ah > 0 else 0.0
    scale = min(1.0, DEFAULT_CELL_C_RATE / c_rate) if c_rate > 0 else 1.0
    return R0_OHM_AH / capacity_Ah * scale, R1_OHM_AH / capacity_Ah * scale
