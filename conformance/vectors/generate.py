"""Generate OBSA's state-estimation test vectors (``obsa-vector/1``, :mod:`.format`) and the
cell characterizations they name, from PyBaMM simulations.

Run ``python -m conformance.vectors.generate [--out vectors/] [--only ID]`` with the
``vectors`` extra installed (``pip install -e .[vectors]``). Generation only: certification
reads the files written here and never imports PyBaMM.

What is simulated
-----------------
Every vector of :data:`CATALOGUE` is one :class:`VectorDef`: a nominal cell (:data:`CELLS`: a
PyBaMM parameter set and the SoC reference of its chemistry), the changes that make the truth
cell deviate from it (another parameter set, ageing), a current profile (:data:`PROFILES`),
a temperature, a number of series cells and their seeded spread of capacity, resistance and
initial SoC. Each cell is PyBaMM's DFN (Doyle–Fuller–Newman) with a contact resistance,
*isothermal* at the vector's temperature (ambient = initial = cell temperature: the
temperature channel is constant; a lumped thermal model costs ~15× the time and the
estimators under test take the measured temperature as an input anyway). Every cell of a pack
carries the same series current, sampled every 0.1 s (the soc_estimator step period; the
11–15-hour cycle vectors every 1 s, the soh_estimator's, :data:`CYCLES`, and the 90 min
partial-cycling vector every 1 s, whose 1 s current levels need no finer grid).

Ageing and spread are parameter changes, recorded in the vector's ``changes``:

* capacity: both electrodes' active material volume fractions × f (loss of active material;
  the cyclable lithium scales with it, so the stoichiometry window is kept and the capacity
  scales by f);
* resistance: ``Contact resistance [Ohm]`` (an ohmic series resistance, the part of the
  resistance rise an ohmic-resistance estimator is judged on);
* another cell: OKane2022 (a later parameterisation of the same LG M50 cell as Chen2020:
  Arrhenius electrolyte transport, other kinetics and stoichiometries) with the electrode
  balance changed (negative active material +4 %), because OKane2022 shares Chen2020's OCP
  functions: alone, its OCV-vs-SoC curve is within 5 mV RMS of the characterization's. With
  the change: reference capacity +3.2 %, OCV vs SoC 10.8 mV RMS and 17 mV at most away from
  the characterization's (SoC 0.05…0.95; printed by the generator), a deviation of the order
  of a cell from another production lot or another datasheet measurement.

Spread in a pack: per cell three seeded normal draws z, standardized over the pack (zero
mean, unit deviation, so that 4 cells show the stated σ): capacity × (1 + σ_c z₁) through the
active material fractions, contact resistance + |σ_r z₂|·R0 (R0 of the nominal cell at
25 °C), initial stoichiometric SoC + σ_s z₃. Per-cell changes of a pack are recorded as
``"cell[i]: <parameter>"`` keys, the σ as ``"spread: …"``.

The truth (OBSA-SOC-001, ``spec/interfaces/soc_estimator.yaml``)
----------------------------------------------------------------
For every truth cell:

* **reference capacity** — a DFN at the reference temperature (25 °C) starting at rest at
  90 % (PyBaMM's stoichiometric SoC) is charged at the reference current (C/20 of the nominal
  capacity) until the full voltage, which is the *full state*, then discharged at the same
  current until the empty voltage, the *empty state*; the charge of that discharge is
  ``cell_capacity_Ah``;
* **initial SoC** — PyBaMM places the cell at rest at a stoichiometric SoC x (linear in the
  lithium of the electrodes: the charge between x and x' is (x − x')·Q_x with Q_x the
  negative electrode's capacity times its stoichiometry window). The full state is at
  x_F = 0.9 + q_charge / Q_x, so the charge still dischargeable to the empty state from rest
  at x is Q_ref − (x_F − x)·Q_x and SoC = 1 − (x_F − x)·Q_x / Q_ref (exact up to the
  concentration gradients of a C/20 current, < 0.1 %);
* **SoC trace** — SoC(t) = SoC(0) − (discharge capacity passed by t) / Q_ref, the solver's
  own integral of the current (linear in charge, as the reference defines);
* **ohmic resistance** (as :mod:`.format` defines it) — the cell at rest at SoC 0.5 of the
  reference and the vector's temperature takes a 1C discharge step (1 ms ramp); the voltage
  drop 10 ms after the step divided by the current. In the DFN (no double-layer capacitance)
  this holds the contact, electrode and electrolyte ohmic drops and the charge-transfer
  overpotential.

Characterizations (:func:`write_characterization`)
--------------------------------------------------
For each nominal cell, ``<cell>.bpx.json`` (BPX 1.1, the Battery Parameter eXchange: the DFN
parameters, PyBaMM reads it with ``ParameterValues.create_from_bpx``) and ``<cell>.ecm.json``
(what BPX does not give an estimator directly: the SoC reference and its capacity, OCV vs SoC
per temperature, R0 and two RC pairs per temperature and SoC, fitted to DFN pulses). A
vector's ``characterization`` names the BPX file; the ECM file is beside it with the same stem.

Vehicle model of the WLTC profile (:func:`wltc_cell_current`)
-------------------------------------------------------------
WLTC class 3b speed (1 Hz, 1800 s, 23.266 km; UN GTR No. 15, shipped in ``data/``). A
compact battery-electric car: test mass 1800 kg (kerb mass plus the 75 kg driver of GTR 15 and
a load), rotating-mass factor 1.03 (GTR 15 uses 3 % of the test mass for the rotating
inertia), drag coefficient 0.28 and frontal area 2.3 m² (typical of compact BEVs), rolling
resistance 0.010 (low-rolling-resistance tyre), air density 1.2 kg/m³, drivetrain (inverter,
motor, gear) efficiency 0.90 each way, 60 % of the braking power recovered (the rest goes to
the friction brakes), 300 W auxiliary load. Battery power P(t) per second of the cycle; the
cell current is P(t)/P_peak × peak C-rate × nominal capacity — a pack sized so that the peak
of the cycle draws 2.5C from each cell (equivalently: the cell power is the pack power over
the cell count, converted at the nominal cell voltage).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from conformance.vectors.format import write_vector

os.environ.setdefault("PYBAMM_DISABLE_TELEMETRY", "true")

GENERATOR = "conformance.vectors.generate/1"
DT_S = 0.1
REFERENCE_T_DEGC = 25.0
REST_START_S = 60.0


# ---------------------------------------------------------------------------------------------
# Cells


@dataclass(frozen=True)
class CellDef:
    """A nominal cell: what its characterization describes."""

    key: str
    chemistry: str
    parameter_set: str
    nominal_Ah: float
    nominal_V: float
    full_V: float
    empty_V: float

    @property
    def reference_current_A(self) -> float:
        return round(self.nominal_Ah / 20.0, 9)

    @property
    def characterization(self) -> str:
        return f"{self.key}.bpx.json"


CELLS: dict[str, CellDef] = {
    # LG M50 (21700, NMC811 / graphite-SiOx), Chen et al. 2020, J. Electrochem. Soc. 167 080534
    "nmc-chen2020": CellDef("nmc-chen2020", "nmc", "Chen2020", 5.0, 3.63, 4.2, 2.5),
    # A123 ANR26650 (LFP / graphite), Prada et al. 2013, J. Electrochem. Soc. 160 A616
    "lfp-prada2013": CellDef("lfp-prada2013", "lfp", "Prada2013", 2.3, 3.3, 3.6, 2.0),
}

AM_N = "Negative electrode active material volume fraction"
AM_P = "Positive electrode active material volume fraction"
R_CONTACT = "Contact resistance [Ohm]"
CMAX_P = "Maximum concentration in positive electrode [mol.m-3]"


# ---------------------------------------------------------------------------------------------
# Profiles: each returns the cell current on the vector's grid (``dt_s``, 0.1 s unless the
# catalogue says otherwise; positive = charge, as current_A)


def _grid(duration_s: float) -> np.ndarray:
    return np.arange(round(duration_s / DT_S) + 1) * DT_S


def _from_segments(segments: list[tuple[float, float]], nominal_Ah: float,
                   dt_s: float = DT_S) -> np.ndarray:
    """Piecewise-constant C-rate segments (duration s, C-rate, + charge) → current on the
    ``dt_s`` grid. Each level holds from its first sample; linear interpolation between the
    knots makes every step a ramp of one sample period."""
    current: list[np.ndarray] = []
    for duration, c_rate in segments:
        current.append(np.full(round(duration / dt_s), c_rate * nominal_Ah))
    out = np.concatenate(current + [np.zeros(1)])
    out[0] = 0.0
    return out


WLTC_FILE = Path(__file__).resolve().parent / "data" / "wltc_class3b_kmh.txt"
"""The WLTC class 3b speed trace (km/h, 1 Hz), from UN GTR No. 15."""

VEHICLE = {
    "test_mass_kg": 1800.0, "rotating_mass_factor": 1.03, "drag_coefficient": 0.28,
    "frontal_area_m2": 2.3, "rolling_resistance": 0.010, "air_density_kg_m3": 1.2,
    "drivetrain_efficiency": 0.90, "regen_fraction": 0.60, "auxiliary_W": 300.0,
    "peak_discharge_c_rate": 2.5,
}


def wltc_battery_power_W() -> np.ndarray:
    """Battery power (W, positive = discharge) for each second of WLTC class 3b."""
    v = np.loadtxt(WLTC_FILE, dtype=float) / 3.6  # m/s, 1801 samples
    veh = VEHICLE
    v_mid = 0.5 * (v[1:] + v[:-1])
    accel = np.diff(v)  # m/s², constant over each second
    g = 9.81
    force = (veh["test_mass_kg"] * veh["rotating_mass_factor"] * accel
             + veh["test_mass_kg"] * g * veh["rolling_resistance"] * (v_mid > 0)
             + 0.5 * veh["air_density_kg_m3"] * veh["drag_coefficient"]
             * veh["frontal_area_m2"] * v_mid**2)
    wheel = force * v_mid
    eta = veh["drivetrain_efficiency"]
    battery = np.where(wheel > 0, wheel / eta, wheel * eta * veh["regen_fraction"])
    return np.asarray(battery + veh["auxiliary_W"])


def wltc_cell_current(nominal_Ah: float) -> np.ndarray:
    """WLTC class 3b as cell current (A, + charge) per second (1800 values)."""
    power = wltc_battery_power_W()
    return -power / power.max() * VEHICLE["peak_discharge_c_rate"] * nominal_Ah


def profile_wltc(cell: CellDef, rng: np.random.Generator,
                 dt_s: float = DT_S) -> np.ndarray:
    """60 s rest, WLTC class 3b (1800 s), 120 s rest: 1980 s."""
    per_second = wltc_cell_current(cell.nominal_Ah)
    cycle = np.repeat(per_second, round(1 / dt_s))
    rest0 = np.zeros(round(REST_START_S / dt_s))
    return np.concatenate([rest0, cycle, np.zeros(round(120 / dt_s) + 1)])


def profile_pulses(cell: CellDef, rng: np.random.Generator,
                   dt_s: float = DT_S) -> np.ndarray:
    """A pulse train (HPPC-like): 60 s rest, then 4 × [10 s 2C discharge, 40 s rest, 10 s 1C
    charge, 40 s rest, 240 s 1C discharge, 60 s rest]: 1660 s, about 27 % of SoC down."""
    block: list[tuple[float, float]] = [(10, -2.0), (40, 0.0), (10, 1.0), (40, 0.0),
                                        (240, -1.0), (60, 0.0)]
    return _from_segments([(REST_START_S, 0.0)] + block * 4, cell.nominal_Ah, dt_s)


def profile_storage(cell: CellDef, rng: np.random.Generator,
                    dt_s: float = DT_S) -> np.ndarray:
    """A stationary-storage day compressed to 40 min: 60 s rest, 0.5C charge for 600 s (PV
    surplus), 180 s rest, 900 s discharge following a load (0.3C base plus seeded, 1 Hz
    band-limited fluctuation of ±0.15C, as frequency-containment or household load), 120 s
    rest, 300 s 0.25C charge, 240 s rest: 2400 s."""
    n_load = 900
    noise = rng.standard_normal(n_load + 60)
    kernel = np.ones(30) / 30.0  # 30 s moving average: band-limited
    wander = np.convolve(noise, kernel, mode="same")[30:30 + n_load]
    wander = 0.15 * wander / np.max(np.abs(wander))
    load = -(0.3 + wander)
    segments = [(REST_START_S, 0.0), (600, 0.5), (180, 0.0)]
    segments += [(1.0, float(c)) for c in load]
    segments += [(120, 0.0), (300, 0.25), (240, 0.0)]
    return _from_segments(segments, cell.nominal_Ah, dt_s)


def profile_low_pulses(cell: CellDef, rng: np.random.Generator,
                       dt_s: float = DT_S) -> np.ndarray:
    """The pulse train's block with a shorter 1C discharge, for a cell started low in its
    SoC range: 60 s rest, then 4 × [10 s 2C discharge, 40 s rest, 10 s 1C charge, 40 s
    rest, 120 s 1C discharge, 60 s rest]: 1180 s, 14 % of the nominal capacity out. Low in
    the SoC range (the OCV a few hundred millivolts above a discharge voltage limit) and
    cold, the largest discharge current a cell sustains is bounded by that voltage limit,
    not by the safety supervisor's current limit, and the string's voltage at that current
    is far below its full voltage: a discharge power limit is then only kept if it is
    computed at the voltage the string will be at."""
    block: list[tuple[float, float]] = [(10, -2.0), (40, 0.0), (10, 1.0), (40, 0.0),
                                        (120, -1.0), (60, 0.0)]
    return _from_segments([(REST_START_S, 0.0)] + block * 4, cell.nominal_Ah, dt_s)


PARTIAL_CYCLE_S = 1800.0
PARTIAL_CYCLES = 3
PARTIAL_C, PARTIAL_FLUCTUATION_C = 0.5, 0.15


def profile_partial_cycling(cell: CellDef, rng: np.random.Generator,
                            dt_s: float = DT_S) -> np.ndarray:
    """Stationary storage in partial cycling, as a battery serving a grid (peak shaving,
    frequency response) runs for days without a full charge: 60 s rest, then
    :data:`PARTIAL_CYCLES` × the same 30 min: 600 s charge at 0.5C, 300 s rest, 600 s
    discharge at 0.5C, 300 s rest, each current with a seeded fluctuation (1 s levels, a
    30 s moving average of normal draws, scaled to ±0.15C at most) of zero mean over its
    600 s. The charge put in is taken out in every period, so the SoC swings by 0.08
    about where it started and comes back to it: the cell never nears the full or the
    empty state, where a counter would be re-anchored; 5460 s."""
    n = round(600 / dt_s)
    per_second = round(1 / dt_s)

    def wander() -> np.ndarray:
        noise = rng.standard_normal(n // per_second + 60)
        smooth = np.convolve(noise, np.ones(30) / 30.0, mode="same")[30:30 + n // per_second]
        smooth -= smooth.mean()
        return np.repeat(PARTIAL_FLUCTUATION_C * smooth / np.max(np.abs(smooth)), per_second)

    rest = np.zeros(round(300 / dt_s))
    period = np.concatenate([PARTIAL_C + wander(), rest, -PARTIAL_C + wander(), rest])
    c_rate = np.concatenate([np.zeros(round(REST_START_S / dt_s))]
                            + [period] * PARTIAL_CYCLES + [np.zeros(1)])
    return np.asarray(c_rate * cell.nominal_Ah)


PROFILES: dict[str, Callable[[CellDef, np.random.Generator, float], np.ndarray]] = {
    "wltc3b": profile_wltc,
    "pulses": profile_pulses,
    "low-pulses": profile_low_pulses,
    "storage": profile_storage,
    "partial-cycling": profile_partial_cycling,
}
CCCV = "cccv"
"""CC-CV charge (single cell: the CV phase needs a voltage-controlled cell): 120 s rest, 1C
charge to the full voltage, 600 s at the full voltage, 300 s rest."""
CYCLES = "cycles"
"""Two full cycles between the SoC reference voltages (single cell, :func:`simulate_cycles`):
60 s rest, a C/3 discharge to the empty voltage and :data:`CYCLE_REST_S` of rest (the start:
empty and relaxed), then :data:`CYCLE_COUNT` times: CC charge at C/2 to the full voltage, CV
at the full voltage until the current falls to C/20, rest, CC discharge at C/3 to the empty
voltage, rest. Half-way through each cycle's discharge (half the nominal capacity out) the
discharge pauses for a pulse as in a reference performance test: :data:`CYCLE_PULSE`
(rest, a 10 s 1C discharge pulse, rest), so that the resistance can be seen near SoC 0.5,
where the truth's is defined, and not only at the ends of the SoC range. C-rates of the
nominal capacity, as a cycler runs a datasheet's cell. The discharge rate is the capacity
test's of IEC 62660-1 for cells of battery-electric vehicles (1/3 C); the charge is the
cells' standard charge (C/2 CC-CV, C/20 end). Sampled every :data:`CYCLE_DT_S`: a
state-of-health estimator's step, and an 11–15-hour vector stays within 255–365 kB."""
CYCLE_DT_S = 1.0
CYCLE_REST_S = 1800.0
CYCLE_COUNT = 2
CYCLE_CHARGE_C, CYCLE_CV_END_C, CYCLE_DISCHARGE_C = 0.5, 0.05, 1.0 / 3.0
#: the mid-discharge pause: rest s, pulse s, pulse C-rate (discharge), rest s
CYCLE_PULSE = (600.0, 10.0, 1.0, 40.0)


# ---------------------------------------------------------------------------------------------
# The catalogue


@dataclass(frozen=True)
class VectorDef:
    id: str
    description: str
    cell: str  # key of CELLS: the nominal cell of the characterization
    profile: str
    temperature_degC: float
    initial_soc: float  # PyBaMM stoichiometric SoC of the (mean) cell at rest
    parameter_set: str | None = None  # None: the nominal cell's
    changes: dict[str, float] = field(default_factory=dict)
    n_cells: int = 1
    capacity_spread: float = 0.0  # standard deviation, relative
    resistance_spread: float = 0.0  # standard deviation of the contact resistance, × R0
    soc_spread: float = 0.0  # standard deviation of the initial SoC
    seed: int = 0
    duration_s: float | None = None  # cut the profile (the regeneration test's short case)
    dt_s: float = DT_S  # the sample period (CYCLE_DT_S for the cycles profile)
    # a truth model (OBSA-SOP-002/003) follows the vector: not for one whose cells stay far
    # from every voltage limit, where no state-of-power limit is judged
    truth_model: bool = True


# Ageing: loss of active material (capacity × f) and a contact resistance chosen so that the
# ohmic resistance at 25 °C and SoC 0.5 rises by the stated amount (measured with this
# generator: nominal Chen2020 23.3 mΩ, with f = 0.85 25.3 mΩ, f = 0.80 26.1 mΩ; nominal
# Prada2013 29.7 mΩ, with f = 0.85 32.9 mΩ).
AGED_NMC = {AM_N: 0.75 * 0.85, AM_P: 0.665 * 0.85, R_CONTACT: 0.0074}  # −15 %, +40 %
AGED_NMC_HARD = {AM_N: 0.75 * 0.80, AM_P: 0.665 * 0.80, R_CONTACT: 0.0101}  # −20 %, +55 %
# −15 %, +61 % (R0 at 25 °C: 47.9 against 29.7 mΩ, format.py's 10 ms after a 1C step)
AGED_LFP = {AM_N: 0.58 * 0.85, AM_P: 0.374 * 0.85, R_CONTACT: 0.015}
OTHER_NMC = {AM_N: 0.75 * 1.04}

CATALOGUE: list[VectorDef] = [
    VectorDef("nmc-wltc-25c", "NMC (Chen2020 as characterized), WLTC class 3b, 25 °C: the "
              "baseline, truth = characterization", "nmc-chen2020", "wltc3b", 25.0, 0.9),
    VectorDef("nmc-pack4-wltc-25c", "4 NMC cells in series (Chen2020) with spread of capacity "
              "(σ 2 %), resistance (σ 8 % of R0) and initial SoC (σ 2 %), WLTC class 3b, 25 °C",
              "nmc-chen2020", "wltc3b", 25.0, 0.85, n_cells=4, capacity_spread=0.02,
              resistance_spread=0.08, soc_spread=0.02, seed=1),
    VectorDef("nmc-other-wltc-10c", "another NMC cell than characterized (OKane2022 with "
              "another electrode balance: OCV vs SoC, capacity, resistance differ), WLTC "
              "class 3b, cold 10 °C", "nmc-chen2020", "wltc3b", 10.0, 0.85,
              parameter_set="OKane2022", changes=OTHER_NMC),
    VectorDef("nmc-aged-wltc-40c", "aged NMC (Chen2020, capacity −15 %, resistance +40 %), "
              "WLTC class 3b, warm 40 °C", "nmc-chen2020", "wltc3b", 40.0, 0.9,
              changes=AGED_NMC),
    VectorDef("nmc-aged-pulses-25c", "aged NMC (Chen2020, capacity −20 %, resistance +55 %), "
              "pulse train, 25 °C", "nmc-chen2020", "pulses", 25.0, 0.7,
              changes=AGED_NMC_HARD),
    VectorDef("nmc-aged-low-pulses-10c", "aged NMC (as nmc-aged-wltc-40c: Chen2020, capacity "
              "−15 %, resistance +40 %), pulse train low in the SoC range (SoC 0.33 down to "
              "0.17), cold 10 °C: the discharge voltage limit, not the current limit, "
              "bounds the power",
              "nmc-chen2020", "low-pulses", 10.0, 0.33, changes=AGED_NMC),
    VectorDef("nmc-other-cccv-25c", "another NMC cell than characterized (as "
              "nmc-other-wltc-10c), CC-CV charge at 1C from SoC ≈ 0.55, 25 °C",
              "nmc-chen2020", CCCV, 25.0, 0.55, parameter_set="OKane2022", changes=OTHER_NMC),
    VectorDef("lfp-wltc-25c", "LFP (Prada2013 as characterized), WLTC class 3b, 25 °C: flat OCV",
              "lfp-prada2013", "wltc3b", 25.0, 0.9),
    VectorDef("lfp-pack4-storage-25c", "4 LFP cells in series (Prada2013) with spread of "
              "capacity (σ 2 %), resistance (σ 8 % of R0) and initial SoC (σ 3 %), "
              "stationary-storage profile, 25 °C", "lfp-prada2013", "storage", 25.0, 0.5,
              n_cells=4, capacity_spread=0.02, resistance_spread=0.08, soc_spread=0.03,
              seed=2),
    VectorDef("lfp-aged-pulses-10c", "aged LFP (Prada2013, capacity −15 %, resistance +61 %), "
              "pulse train, cold 10 °C", "lfp-prada2013", "pulses", 10.0, 0.9,
              changes=AGED_LFP),
    VectorDef("lfp-aged-cccv-40c", "aged LFP (as lfp-aged-pulses-10c), CC-CV charge at 1C from "
              "SoC ≈ 0.6, warm 40 °C", "lfp-prada2013", CCCV, 40.0, 0.6, changes=AGED_LFP),
    VectorDef("nmc-aged-cycles-25c", "aged NMC (as nmc-aged-wltc-40c: Chen2020, capacity −15 %, "
              "resistance +40 %), two full cycles (CC-CV C/2 charge, C/3 discharge), 25 °C",
              "nmc-chen2020", CYCLES, 25.0, 0.3, changes=AGED_NMC, dt_s=CYCLE_DT_S),
    VectorDef("lfp-aged-cycles-25c", "aged LFP (as lfp-aged-pulses-10c), two full cycles "
              "(CC-CV C/2 charge, C/3 discharge), 25 °C", "lfp-prada2013", CYCLES, 25.0, 0.3,
              changes=AGED_LFP, dt_s=CYCLE_DT_S),
    VectorDef("nmc-other-cycles-40c", "another NMC cell than characterized (as "
              "nmc-other-wltc-10c: more capacity than rated), two full cycles (CC-CV C/2 "
              "charge, C/3 discharge), warm 40 °C", "nmc-chen2020", CYCLES, 40.0, 0.3,
              parameter_set="OKane2022", changes=OTHER_NMC, dt_s=CYCLE_DT_S),
    VectorDef("nmc-partial-cycling-25c", "NMC (Chen2020 as characterized), 90 min of "
              "stationary-storage partial cycling (3 × 30 min: 0.5C charge and discharge "
              "with a fluctuation, rests) between SoC 0.61 and 0.69, never near full or "
              "empty, 25 °C, sampled every 1 s: the long run with a current-sensor offset",
              "nmc-chen2020", "partial-cycling", 25.0, 0.6, seed=3, dt_s=1.0,
              truth_model=False),
]

SHORT_CASE = VectorDef(
    "test-nmc-pack2-wltc-short", "regeneration test: 2 NMC cells (Chen2020, spread), the "
    "first 120 s of the WLTC profile, 25 °C", "nmc-chen2020", "wltc3b", 25.0, 0.8, n_cells=2,
    capacity_spread=0.02, resistance_spread=0.08, soc_spread=0.02, seed=7, duration_s=120.0)
"""Not shipped with the catalogue: the test regenerates it and compares it with the copy in
``tests/vectors/data``."""


# ---------------------------------------------------------------------------------------------
# PyBaMM


def _pybamm() -> Any:
    import pybamm

    return pybamm


def _model() -> Any:
    return _pybamm().lithium_ion.DFN(options={"contact resistance": "true"})


def _solver(dt_max: float = 0.0) -> Any:
    """IDAKLU; ``dt_max`` bounds the step: the solver does not know where an interpolated
    current changes, and a step grown over a long rest would step over part of a 10 s pulse
    (measured: 0.7 % of SoC lost over a pulse train without the bound)."""
    pybamm = _pybamm()
    return pybamm.IDAKLUSolver(rtol=1e-6, atol=1e-8, options={"dt_max": dt_max})


def parameter_values(parameter_set: str, changes: dict[str, float],
                     temperature_degC: float) -> Any:
    pybamm = _pybamm()
    p = pybamm.ParameterValues(parameter_set)
    p.update({R_CONTACT: 0.0}, check_already_exists=False)
    p.update(dict(changes), check_already_exists=False)
    kelvin = temperature_degC + 273.15
    p.update({"Ambient temperature [K]": kelvin, "Initial temperature [K]": kelvin})
    return p


def lithium_capacity_Ah(p: Any) -> float:
    """Q_x: the charge between PyBaMM's stoichiometric SoC 0 and 1 of these parameters."""
    pybamm = _pybamm()
    x0, x100, _, _ = pybamm.lithium_ion.get_min_max_stoichiometries(p)
    area = p["Electrode height [m]"] * p["Electrode width [m]"]
    n_pairs = p["Number of electrodes connected in parallel to make a cell"]
    q_n = (96485.33212 * p[AM_N] * p["Negative electrode thickness [m]"]
           * p["Maximum concentration in negative electrode [mol.m-3]"] * area * n_pairs / 3600)
    return float(q_n * (x100 - x0))


@dataclass(frozen=True)
class Truth:
    capacity_Ah: float
    x_full: float  # PyBaMM stoichiometric SoC of the reference's full state
    q_x_Ah: float

    def soc_of_x(self, x: float) -> float:
        return 1.0 - (self.x_full - x) * self.q_x_Ah / self.capacity_Ah

    def x_of_soc(self, soc: float) -> float:
        return self.x_full - (1.0 - soc) * self.capacity_Ah / self.q_x_Ah


def reference_truth(parameter_set: str, changes: dict[str, float], cell: CellDef) -> Truth:
    """The reference capacity and the full state (module docstring)."""
    pybamm = _pybamm()
    p = parameter_values(parameter_set, changes, REFERENCE_T_DEGC)
    i_ref = cell.reference_current_A
    experiment = pybamm.Experiment([(
        f"Charge at {i_ref} A until {cell.full_V} V",
        f"Discharge at {i_ref} A until {cell.empty_V} V",
    )], period="10 minutes")
    p.update({"Lower voltage cut-off [V]": cell.empty_V - 0.2,
              "Upper voltage cut-off [V]": cell.full_V + 0.2})
    sim = pybamm.Simulation(_model(), parameter_values=p, experiment=experiment,
                            solver=_solver())
    x_start = 0.9
    sol = sim.solve(initial_soc=x_start)
    charge, discharge = sol.cycles[0].steps[0], sol.cycles[0].steps[1]
    q_charge = -float(charge["Discharge capacity [A.h]"].entries[-1])
    q_ref = float(discharge["Discharge capacity [A.h]"].entries[-1]) - (-q_charge)
    v_end = float(discharge["Voltage [V]"].entries[-1])
    if abs(v_end - cell.empty_V) > 0.01 or q_charge <= 0:
        raise RuntimeError(f"reference cycle of {parameter_set} {changes}: ended at {v_end} V")
    q_x = lithium_capacity_Ah(p)
    return Truth(q_ref, x_start + q_charge / q_x, q_x)


def ohmic_resistance(parameter_set: str, changes: dict[str, float], truth: Truth,
                     cell: CellDef, temperature_degC: float, soc: float = 0.5) -> float:
    """format.py's ohmic resistance: 10 ms after a 1C discharge step, at SoC 0.5."""
    pybamm = _pybamm()
    p = parameter_values(parameter_set, changes, temperature_degC)
    step = cell.nominal_Ah
    p["Current function [A]"] = pybamm.Interpolant(
        np.array([0.0, 1.0, 1.001, 2.0]), np.array([0.0, 0.0, step, step]), pybamm.t,
        interpolator="linear")
    sim = pybamm.Simulation(_model(), parameter_values=p, solver=_solver())
    t = np.array([0.0, 0.5, 1.0, 1.011])
    sol = sim.solve([0.0, 1.011], t_interp=t, initial_soc=truth.x_of_soc(soc))
    v = sol["Voltage [V]"](t)
    return float((v[2] - v[3]) / step)


def simulate_current(parameter_set: str, changes: dict[str, float], temperature_degC: float,
                     x0: float, t: np.ndarray, current_A: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """One cell under the given current (+ charge): its voltage and discharge capacity on t."""
    pybamm = _pybamm()
    p = parameter_values(parameter_set, changes, temperature_degC)
    p["Current function [A]"] = pybamm.Interpolant(t, -current_A, pybamm.t,
                                                   interpolator="linear")
    sim = pybamm.Simulation(_model(), parameter_values=p, solver=_solver(dt_max=0.5))
    sol = sim.solve([0.0, float(t[-1])], t_interp=t, initial_soc=x0)
    if sol.t[-1] < t[-1] - 1e-9:
        raise RuntimeError(f"{parameter_set}: simulation stopped at {sol.t[-1]} s "
                           f"({sol.termination})")
    return (np.asarray(sol["Voltage [V]"](t), dtype=float),
            np.asarray(sol["Discharge capacity [A.h]"](t), dtype=float))


def simulate_cccv(parameter_set: str, changes: dict[str, float], temperature_degC: float,
                  x0: float, cell: CellDef) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
    """CC-CV charge of one cell; resampled on the 0.1 s grid: t, current (+ charge),
    voltage, discharge capacity."""
    pybamm = _pybamm()
    p = parameter_values(parameter_set, changes, temperature_degC)
    i_cc = cell.nominal_Ah
    experiment = pybamm.Experiment([(
        "Rest for 120 seconds",
        f"Charge at {i_cc} A until {cell.full_V} V",
        f"Hold at {cell.full_V} V for 600 seconds",
        "Rest for 300 seconds",
    )], period=f"{DT_S} seconds")
    sim = pybamm.Simulation(_model(), parameter_values=p, experiment=experiment,
                            solver=_solver())
    sol = sim.solve(initial_soc=x0)
    ts = np.asarray(sol["Time [s]"].entries, dtype=float)
    keep = np.concatenate([[True], np.diff(ts) > 1e-9])
    ts = ts[keep]
    t = _grid(math.floor(ts[-1] / DT_S) * DT_S)

    def on_grid(name: str) -> np.ndarray:
        return np.interp(t, ts, np.asarray(sol[name].entries, dtype=float)[keep])

    return t, -on_grid("Current [A]"), on_grid("Voltage [V]"), on_grid(
        "Discharge capacity [A.h]")


def simulate_cycles(parameter_set: str, changes: dict[str, float], temperature_degC: float,
                    x0: float, cell: CellDef, dt_s: float = CYCLE_DT_S
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The :data:`CYCLES` profile of one cell on a ``dt_s`` grid: t, current (+ charge),
    voltage, discharge capacity.

    Two passes, so that the recorded current is the one simulated: the first runs the
    cycler's steps (CC until a voltage, CV until a current) and finds how long each lasts;
    the second drives the cell with that current on the grid — every step shortened to whole
    samples (a CC phase ends less than one sample before its cut-off), the CV current of the
    first pass sampled at the grid, linear between samples — so that the trapezoidal charge
    of ``current_A`` is the solver's own charge (the truth SoC's) to solver tolerance."""
    pybamm = _pybamm()
    nominal = cell.nominal_Ah
    cv_end = round(CYCLE_CV_END_C * nominal, 9)
    charge, discharge = CYCLE_CHARGE_C * nominal, CYCLE_DISCHARGE_C * nominal
    rest = f"Rest for {CYCLE_REST_S:g} seconds"
    half_s = 0.5 / CYCLE_DISCHARGE_C * 3600.0
    pause_s, pulse_s, pulse_c, after_s = CYCLE_PULSE
    cycle = [f"Charge at {charge:.6g} A until {cell.full_V} V",
             f"Hold at {cell.full_V} V until {cv_end} A", rest,
             f"Discharge at {discharge:.6g} A for {half_s:g} seconds or until {cell.empty_V} V",
             f"Rest for {pause_s:g} seconds",
             f"Discharge at {pulse_c * nominal:.6g} A for {pulse_s:g} seconds",
             f"Rest for {after_s:g} seconds",
             f"Discharge at {discharge:.6g} A until {cell.empty_V} V", rest]
    steps = [f"Rest for {REST_START_S:g} seconds",
             f"Discharge at {discharge:.6g} A until {cell.empty_V} V", rest]
    steps += cycle * CYCLE_COUNT

    def cell_params() -> Any:
        p = parameter_values(parameter_set, changes, temperature_degC)
        # the cycler's limits, not the model's cut-offs, end each step
        p.update({"Lower voltage cut-off [V]": cell.empty_V - 0.3,
                  "Upper voltage cut-off [V]": cell.full_V + 0.2})
        return p

    sim = pybamm.Simulation(_model(), parameter_values=cell_params(),
                            experiment=pybamm.Experiment(steps, period="10 seconds"),
                            solver=_solver())
    sol = sim.solve(initial_soc=x0)
    if len(sol.cycles) != len(steps):
        raise RuntimeError(f"{parameter_set} {changes}: the cycles stopped after "
                           f"{len(sol.cycles)} of {len(steps)} steps ({sol.termination})")
    levels: list[np.ndarray] = []
    for step_solution in sol.cycles:
        ts = np.asarray(step_solution["Time [s]"].entries, dtype=float)
        amps = -np.asarray(step_solution["Current [A]"].entries, dtype=float)
        samples = math.floor((ts[-1] - ts[0]) / dt_s + 1e-6)
        levels.append(np.interp(ts[0] + np.arange(samples) * dt_s, ts, amps))
    current = np.concatenate(levels + [np.zeros(1)])
    current[0] = 0.0
    t = np.arange(current.size) * dt_s
    p = cell_params()
    p["Current function [A]"] = pybamm.Interpolant(t, -current, pybamm.t,
                                                   interpolator="linear")
    sim = pybamm.Simulation(_model(), parameter_values=p, solver=_solver(dt_max=0.5))
    replayed = sim.solve([0.0, float(t[-1])], t_interp=t, initial_soc=x0)
    if replayed.t[-1] < t[-1] - 1e-9:
        raise RuntimeError(f"{parameter_set}: simulation stopped at {replayed.t[-1]} s "
                           f"({replayed.termination})")
    return (t, current, np.asarray(replayed["Voltage [V]"](t), dtype=float),
            np.asarray(replayed["Discharge capacity [A.h]"](t), dtype=float))


# ---------------------------------------------------------------------------------------------
# One vector


def cell_changes(vdef: VectorDef, rng: np.random.Generator, r0_nominal: float
                 ) -> tuple[list[dict[str, float]], list[float]]:
    """Per cell: the parameter changes and the initial stoichiometric SoC. The spread is
    seeded normal draws, standardized over the pack (zero mean, the stated σ) so that a small
    pack shows the spread it is described with."""
    base_set = vdef.parameter_set or CELLS[vdef.cell].parameter_set
    base = _pybamm().ParameterValues(base_set)
    draws = rng.standard_normal((vdef.n_cells, 3))
    if vdef.n_cells > 1:
        draws = (draws - draws.mean(axis=0)) / draws.std(axis=0)
    per_cell: list[dict[str, float]] = []
    x0s: list[float] = []
    for i in range(vdef.n_cells):
        ch = dict(vdef.changes)
        if vdef.n_cells > 1:
            f = 1.0 + vdef.capacity_spread * float(draws[i, 0])
            ch[AM_N] = float(ch.get(AM_N, base[AM_N])) * f
            ch[AM_P] = float(ch.get(AM_P, base[AM_P])) * f
            extra = abs(vdef.resistance_spread * float(draws[i, 1])) * r0_nominal
            ch[R_CONTACT] = float(ch.get(R_CONTACT, 0.0)) + extra
            x0 = vdef.initial_soc + vdef.soc_spread * float(draws[i, 2])
        else:
            x0 = vdef.initial_soc
        per_cell.append({k: round(v, 6) for k, v in ch.items()})
        x0s.append(float(min(max(x0, 0.05), 0.97)))
    return per_cell, x0s


_R0_NOMINAL: dict[str, float] = {}


def nominal_r0(cell: CellDef) -> float:
    if cell.key not in _R0_NOMINAL:
        truth = reference_truth(cell.parameter_set, {}, cell)
        _R0_NOMINAL[cell.key] = ohmic_resistance(cell.parameter_set, {}, truth, cell,
                                                 REFERENCE_T_DEGC)
    return _R0_NOMINAL[cell.key]


def build_vector(vdef: VectorDef, out: Path, log: Callable[[str], None] = print) -> Path:
    """Simulate one vector and write it into ``out``."""
    pybamm = _pybamm()
    cell = CELLS[vdef.cell]
    base_set = vdef.parameter_set or cell.parameter_set
    rng = np.random.default_rng(vdef.seed)
    per_cell, x0s = cell_changes(vdef, rng, nominal_r0(cell))
    voltages, dcaps, caps, res, soc0 = [], [], [], [], []
    t: np.ndarray
    current: np.ndarray
    if vdef.profile == CCCV:
        if vdef.n_cells != 1:
            raise ValueError(f"{vdef.id}: a CC-CV charge is a single-cell profile")
        t, current, v, dcap = simulate_cccv(base_set, per_cell[0], vdef.temperature_degC,
                                            x0s[0], cell)
        voltages.append(v)
        dcaps.append(dcap)
    elif vdef.profile == CYCLES:
        if vdef.n_cells != 1:
            raise ValueError(f"{vdef.id}: the cycles hold a CV phase: a single-cell profile")
        t, current, v, dcap = simulate_cycles(base_set, per_cell[0], vdef.temperature_degC,
                                              x0s[0], cell, vdef.dt_s)
        voltages.append(v)
        dcaps.append(dcap)
    else:
        current = PROFILES[vdef.profile](cell, rng, vdef.dt_s)
        t = np.arange(current.size) * vdef.dt_s
        if vdef.duration_s is not None:
            n = round(vdef.duration_s / vdef.dt_s) + 1
            t, current = t[:n], current[:n]
        for ch, x0 in zip(per_cell, x0s, strict=True):
            v, dcap = simulate_current(base_set, ch, vdef.temperature_degC, x0, t, current)
            voltages.append(v)
            dcaps.append(dcap)
    for ch, x0 in zip(per_cell, x0s, strict=True):
        truth = reference_truth(base_set, ch, cell)
        caps.append(truth.capacity_Ah)
        res.append(ohmic_resistance(base_set, ch, truth, cell, vdef.temperature_degC))
        soc0.append(truth.soc_of_x(x0))
    soc = np.stack([s0 - (d - d[0]) / q for s0, d, q in zip(soc0, dcaps, caps, strict=True)],
                   axis=1)
    n = t.size
    changes: dict[str, float | str] = {}
    if vdef.n_cells == 1:
        changes.update(per_cell[0])
    else:
        changes.update(vdef.changes)
        changes["spread: capacity σ"] = vdef.capacity_spread
        changes["spread: contact resistance σ / R0"] = vdef.resistance_spread
        changes["spread: initial SoC σ"] = vdef.soc_spread
        for i, ch in enumerate(per_cell):
            for k, val in ch.items():
                if val != vdef.changes.get(k):
                    changes[f"cell[{i}]: {k}"] = val
    for i, x0 in enumerate(x0s):
        changes[f"cell[{i}]: initial stoichiometric SoC (PyBaMM)"] = round(x0, 6)
    info = {
        "id": vdef.id,
        "description": vdef.description,
        "chemistry": cell.chemistry,
        "parameter_set": base_set,
        "changes": changes,
        "characterization": cell.characterization,
        "profile": vdef.profile,
        "temperature_degC": vdef.temperature_degC,
        "n_cells": vdef.n_cells,
        "dt_s": vdef.dt_s,
        "duration_s": float(round(t[-1], 6)),
        "seed": vdef.seed,
        "generator": f"{GENERATOR}; DFN, isothermal, contact resistance",
        "pybamm_version": pybamm.__version__,
        "soc_reference": {"full_voltage_V": cell.full_V, "empty_voltage_V": cell.empty_V,
                          "current_A": cell.reference_current_A,
                          "temperature_degC": REFERENCE_T_DEGC},
    }
    arrays = {
        "t_s": t,
        "current_A": current,
        "cell_voltage_V": np.stack(voltages, axis=1),
        "cell_temperature_degC": np.full((n, vdef.n_cells), vdef.temperature_degC),
        "cell_soc": soc,
        "cell_capacity_Ah": np.array(caps),
        "cell_resistance_ohm": np.array(res),
    }
    path = write_vector(out, info, arrays)
    log(f"{vdef.id}: {n} samples × {vdef.n_cells} cells, capacity "
        f"{', '.join(f'{c:.4f}' for c in caps)} Ah, R0 "
        f"{', '.join(f'{r * 1000:.2f}' for r in res)} mΩ, SoC {soc.min():.3f}…{soc.max():.3f}, "
        f"V {min(v.min() for v in voltages):.3f}…{max(v.max() for v in voltages):.3f}")
    return path


# ---------------------------------------------------------------------------------------------
# Characterizations


def _tabulate(fun: Any, x: np.ndarray, *extra: float) -> list[float]:
    pybamm = _pybamm()
    if not callable(fun):
        return [float(fun)] * x.size
    out = fun(pybamm.Vector(x), *[pybamm.Scalar(e) for e in extra])
    return [float(v) for v in np.asarray(out.evaluate()).reshape(-1)]


def _ocp(p: Any, electrode: str, sto: np.ndarray) -> np.ndarray:
    pybamm = _pybamm()
    fun = p[f"{electrode} electrode OCP [V]"]
    if not callable(fun):
        return np.full(sto.size, float(fun))
    return np.asarray(fun(pybamm.Vector(sto)).evaluate(), dtype=float).reshape(-1)


def bpx_document(cell: CellDef) -> dict[str, Any]:
    """The nominal cell's DFN parameters in BPX 1.1 (functions of one variable as tables)."""
    p = parameter_values(cell.parameter_set, {}, REFERENCE_T_DEGC)
    pybamm = _pybamm()
    x0, x100, y100, y0 = pybamm.lithium_ion.get_min_max_stoichiometries(p)
    t_ref = REFERENCE_T_DEGC + 273.15
    c_e0 = float(p["Initial concentration in electrolyte [mol.m-3]"])
    area = float(p["Electrode height [m]"] * p["Electrode width [m]"])
    sto = np.linspace(0.0, 1.0, 201)
    sto_in = np.clip(sto, 1e-4, 1 - 1e-4)
    ce = np.linspace(0.0, 4000.0, 81)
    ce_in = np.clip(ce, 1.0, None)
    F = 96485.33212

    def activation_energy(fun: Any, *args: float) -> float:
        """Arrhenius activation energy of fun(*args, T) between 25 and 35 °C (0 if constant)."""
        if not callable(fun):
            return 0.0
        f0, f1 = (float(np.asarray(fun(*[pybamm.Scalar(a) for a in (*args, temp)])
                                   .evaluate())) for temp in (t_ref, t_ref + 10.0))
        return round(8.314462618 * math.log(f1 / f0) / (1 / t_ref - 1 / (t_ref + 10.0)), 1)

    def scalar_or_table(fun: Any, x: np.ndarray, x_out: np.ndarray, *extra: float) -> Any:
        if not callable(fun):
            return float(fun)
        return {"x": [float(v) for v in x_out], "y": _tabulate(fun, x, *extra)}

    def electrode(name: str, smin: float, smax: float) -> dict[str, Any]:
        pre = f"{name} electrode "
        part = f"{name} particle "
        c_max = float(p[f"Maximum concentration in {name.lower()} electrode [mol.m-3]"])
        radius = float(p[f"{part}radius [m]"])
        eps_am = float(p[f"{pre}active material volume fraction"])
        j0 = p[f"{pre}exchange-current density [A.m-2]"]
        # BPX: j0 = F k_norm sqrt(ce/ce0 · c/cmax · (1 − c/cmax)); at c = cmax/2, ce = ce0:
        half = float(np.asarray(j0(pybamm.Scalar(c_e0), pybamm.Scalar(c_max / 2),
                                   pybamm.Scalar(c_max), pybamm.Scalar(t_ref)).evaluate()))
        k_norm = half / (F * 0.5)
        diff = p.get(f"{part}diffusivity [m2.s-1]",
                     p.get(f"{pre}diffusivity [m2.s-1]"))
        porosity = float(p[f"{pre}porosity"])
        brug = float(p[f"{pre}Bruggeman coefficient (electrolyte)"])
        return {
            "Thickness [m]": float(p[f"{pre}thickness [m]"]),
            "Porosity": porosity,
            "Transport efficiency": porosity ** brug,
            "Conductivity [S.m-1]": float(p[f"{pre}conductivity [S.m-1]"]),
            "Minimum stoichiometry": float(smin),
            "Maximum stoichiometry": float(smax),
            "Maximum concentration [mol.m-3]": c_max,
            "Particle radius [m]": radius,
            "Surface area per unit volume [m-1]": 3 * eps_am / radius,
            "Diffusivity [m2.s-1]": (float(diff) if not callable(diff) else {
                "x": [float(v) for v in sto], "y": _tabulate(diff, sto_in, t_ref)}),
            "OCP [V]": {"x": [float(v) for v in sto],
                        "y": [float(v) for v in _ocp(p, name, sto_in)]},
            "Entropic change coefficient [V.K-1]": 0.0,
            "Reaction rate constant [mol.m-2.s-1]": k_norm,
            "Reaction rate constant activation energy [J.mol-1]": activation_energy(
                j0, c_e0, c_max / 2, c_max),
            "Diffusivity activation energy [J.mol-1]": activation_energy(diff, 0.5),
        }

    sep_por = float(p["Separator porosity"])
    cond = p["Electrolyte conductivity [S.m-1]"]
    diff_e = p["Electrolyte diffusivity [m2.s-1]"]
    doc = {
        "Header": {
            "BPX": "1.1.0",
            "Title": f"{cell.key}: nominal cell of OBSA's state-estimation vectors",
            "Description": (f"PyBaMM parameter set {cell.parameter_set} "
                            f"(PyBaMM {pybamm.__version__}) written as BPX by "
                            f"{GENERATOR}; functions of concentration or stoichiometry "
                            "tabulated at 25 °C, their temperature dependence as Arrhenius "
                            "activation energies fitted between 25 and 35 °C. The SoC reference, "
                            "OCV vs SoC per temperature and the fitted ECM are in the "
                            ".ecm.json beside this file."),
            "References": {"Chen2020": "C.-H. Chen et al., J. Electrochem. Soc. 167 "
                                       "080534 (2020)",
                           "Prada2013": "E. Prada et al., J. Electrochem. Soc. 160 A616 "
                                        "(2013)"}[cell.parameter_set],
            "Model": "DFN",
        },
        "Parameterisation": {
            "Cell": {
                "Electrode area [m2]": area,
                "External surface area [m2]": float(p.get("Cell cooling surface area [m2]",
                                                          0.0053)),
                "Volume [m3]": float(p.get("Cell volume [m3]", 2.42e-5)),
                "Number of electrode pairs connected in parallel to make a cell": float(
                    p["Number of electrodes connected in parallel to make a cell"]),
                "Lower voltage cut-off [V]": cell.empty_V,
                "Upper voltage cut-off [V]": cell.full_V,
                "Nominal cell capacity [A.h]": cell.nominal_Ah,
                "Reference temperature [K]": t_ref,
            },
            "Electrolyte": {
                "Cation transference number": float(p["Cation transference number"]),
                "Diffusivity [m2.s-1]": scalar_or_table(diff_e, ce_in, ce, t_ref),
                "Conductivity [S.m-1]": scalar_or_table(cond, ce_in, ce, t_ref),
                "Diffusivity activation energy [J.mol-1]": activation_energy(diff_e, c_e0),
                "Conductivity activation energy [J.mol-1]": activation_energy(cond, c_e0),
            },
            "Negative electrode": electrode("Negative", x0, x100),
            "Positive electrode": electrode("Positive", y100, y0),
            "Separator": {"Thickness [m]": float(p["Separator thickness [m]"]),
                          "Porosity": sep_por,
                          "Transport efficiency": sep_por ** float(
                              p["Separator Bruggeman coefficient (electrolyte)"])},
        },
        "State": {"Initial conditions": {"Initial electrolyte concentration [mol.m-3]": c_e0}},
    }
    return doc


def fit_two_rc(current: np.ndarray, drop: np.ndarray, r0: float
               ) -> tuple[float, float, float, float, float]:
    """Two RC pairs behind a known R0 fitted to a voltage drop (OCV − V) under ``current``
    (discharge positive), bounded: τ1 0.5…20 s, τ2 20…600 s, each R ≤ 5 R0 — without bounds
    the slow pair of a flat-OCV cell runs off to an integrator (τ of days). Returns R1, τ1,
    R2, τ2 and the RMS residual (V)."""
    from scipy.optimize import least_squares

    def model(theta: np.ndarray) -> np.ndarray:
        r1, tau1, r2, tau2 = np.exp(theta)
        out = np.zeros_like(current)
        u1 = u2 = 0.0
        a1, a2 = math.exp(-DT_S / tau1), math.exp(-DT_S / tau2)
        for k in range(1, current.size):
            u1 = a1 * u1 + r1 * (1 - a1) * current[k - 1]
            u2 = a2 * u2 + r2 * (1 - a2) * current[k - 1]
            out[k] = u1 + u2
        return out + r0 * current

    fit = least_squares(lambda th: model(th) - drop, np.log([r0 * 0.3, 5.0, r0 * 0.3, 60.0]),
                        bounds=(np.log([1e-6, 0.5, 1e-6, 20.0]),
                                np.log([5 * r0, 20.0, 5 * r0, 600.0])))
    r1, tau1, r2, tau2 = (float(v) for v in np.exp(fit.x))
    return r1, tau1, r2, tau2, float(np.sqrt(np.mean(fit.fun**2)))


def fit_pulse(cell: CellDef) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The current the RC pairs are fitted to: 1 s of rest, a 1C discharge pulse of 30 s,
    60 s of rest — (sample times, knots, levels of the piecewise-linear current, discharge
    positive)."""
    pulse_s, relax_s = 30.0, 60.0
    t = np.round(np.arange(0, 1.0 + pulse_s + relax_s + 1e-9, DT_S), 6)
    i_step = cell.nominal_Ah
    knots = np.array([0.0, 1.0, 1.001, 1.0 + pulse_s, 1.001 + pulse_s, t[-1]])
    level = np.array([0.0, 0.0, i_step, i_step, 0.0, 0.0])
    return t, knots, level


def fit_pulse_soc(soc: float, t: np.ndarray, knots: np.ndarray, level: np.ndarray,
                  capacity_Ah: float) -> tuple[np.ndarray, np.ndarray]:
    """The fit pulse's current at ``t`` (discharge positive) and the SoC it leaves from
    ``soc``, counted on ``capacity_Ah``."""
    i = np.interp(t, knots, level)
    counted = np.concatenate([[0.0], np.cumsum(0.5 * (i[1:] + i[:-1]) * DT_S)])
    return i, soc - counted / 3600 / capacity_Ah


def ecm_document(cell: CellDef, truth: Truth, temperatures: tuple[float, ...] = (10, 25, 40),
                 socs: tuple[float, ...] = (0.2, 0.5, 0.8)) -> dict[str, Any]:
    """OCV vs SoC per temperature and R0 / two RC pairs per temperature and SoC, from the DFN
    of the nominal cell."""
    pybamm = _pybamm()
    p = parameter_values(cell.parameter_set, {}, REFERENCE_T_DEGC)
    soc_grid = np.round(np.linspace(0.0, 1.0, 101), 4)
    x_sto = np.array([truth.x_of_soc(s) for s in soc_grid])
    x0, x100, y100, y0 = pybamm.lithium_ion.get_min_max_stoichiometries(p)
    sto_n = x0 + x_sto * (x100 - x0)
    sto_p = y0 - x_sto * (y0 - y100)
    ocv = _ocp(p, "Positive", sto_p) - _ocp(p, "Negative", sto_n)
    # the entropic coefficients of both sets are 0: the OCV is the same at every temperature
    ocv_table = {f"{t:g}": [round(float(v), 5) for v in ocv] for t in temperatures}

    t, knots, level = fit_pulse(cell)
    fits: list[dict[str, float]] = []
    for temp in temperatures:
        for soc in socs:
            q = parameter_values(cell.parameter_set, {}, temp)
            q["Current function [A]"] = pybamm.Interpolant(knots, level, pybamm.t,
                                                           interpolator="linear")
            sim = pybamm.Simulation(_model(), parameter_values=q, solver=_solver())
            sol = sim.solve([0.0, float(t[-1])], t_interp=t, initial_soc=truth.x_of_soc(soc))
            v = np.asarray(sol["Voltage [V]"](t), dtype=float)
            i, soc_t = fit_pulse_soc(soc, t, knots, level, truth.capacity_Ah)
            ocv_t = np.interp(soc_t, soc_grid, ocv)
            r0 = ohmic_resistance(cell.parameter_set, {}, truth, cell, temp, soc)
            drop = ocv_t - v  # positive under discharge

            r1, tau1, r2, tau2, rms = fit_two_rc(i, drop, r0)
            fits.append({"temperature_degC": float(temp), "soc": soc, "r0_ohm": r0,
                         "r1_ohm": r1, "tau1_s": tau1, "r2_ohm": r2, "tau2_s": tau2,
                         "fit_rms_V": rms})
    return {
        "format": "obsa-ecm/1",
        "cell": cell.key,
        "chemistry": cell.chemistry,
        "parameter_set": cell.parameter_set,
        "pybamm_version": pybamm.__version__,
        "generator": GENERATOR,
        "nominal_capacity_Ah": cell.nominal_Ah,
        "soc_reference": {"full_voltage_V": cell.full_V, "empty_voltage_V": cell.empty_V,
                          "current_A": cell.reference_current_A,
                          "temperature_degC": REFERENCE_T_DEGC},
        "reference_capacity_Ah": round(truth.capacity_Ah, 5),
        "ocv": {"description": "open-circuit voltage vs SoC on the reference, per cell "
                               "temperature (°C), from the OCPs at the stoichiometries of "
                               "each SoC", "soc": [float(s) for s in soc_grid],
                "ocv_V": ocv_table},
        "ecm": {"description": "R0 (format.py's ohmic resistance: 10 ms after a 1C step) and "
                               "two RC pairs fitted (bounded least squares: τ1 0.5…20 s, "
                               "τ2 20…600 s) to the DFN's response to a 30 s 1C "
                               "discharge pulse and 60 s of rest from SoC soc at "
                               "temperature_degC; V = OCV(SoC) − I·R0 − u1 − u2, "
                               "du/dt = (I·R − u)/τ, I positive on discharge",
                "points": fits},
    }


def write_characterization(cell: CellDef, out: Path, log: Callable[[str], None] = print
                           ) -> None:
    import bpx

    doc = bpx_document(cell)
    bpx.parse_bpx_obj(json.loads(json.dumps(doc)))  # validates against the BPX schema
    (out / f"{cell.key}.bpx.json").write_text(json.dumps(doc, indent=1) + "\n",
                                              encoding="utf-8")
    truth = reference_truth(cell.parameter_set, {}, cell)
    ecm = ecm_document(cell, truth)
    (out / f"{cell.key}.ecm.json").write_text(json.dumps(ecm, indent=1) + "\n",
                                              encoding="utf-8")
    r25 = [f for f in ecm["ecm"]["points"] if f["temperature_degC"] == 25 and f["soc"] == 0.5]
    log(f"{cell.key}: reference capacity {truth.capacity_Ah:.4f} Ah, R0(25 °C, 0.5) "
        f"{r25[0]['r0_ohm'] * 1000:.2f} mΩ, ECM fits RMS ≤ "
        f"{max(f['fit_rms_V'] for f in ecm['ecm']['points']) * 1000:.1f} mV")


def other_cell_ocv_shift(log: Callable[[str], None] = print) -> None:
    """How far the OCV-vs-SoC curve of the 'other' NMC cell is from the characterization's."""
    cell = CELLS["nmc-chen2020"]
    curves = []
    for pset, ch in (("Chen2020", {}), ("OKane2022", OTHER_NMC)):
        truth = reference_truth(pset, ch, cell)
        p = parameter_values(pset, ch, REFERENCE_T_DEGC)
        x0, x100, y100, y0 = _pybamm().lithium_ion.get_min_max_stoichiometries(p)
        soc = np.linspace(0.05, 0.95, 91)
        x = np.array([truth.x_of_soc(s) for s in soc])
        curves.append(_ocp(p, "Positive", y0 - x * (y0 - y100))
                      - _ocp(p, "Negative", x0 + x * (x100 - x0)))
        log(f"{pset} {ch or ''}: reference capacity {truth.capacity_Ah:.4f} Ah")
    d = curves[1] - curves[0]
    log(f"other NMC cell: OCV(SoC) − characterization's, SoC 0.05…0.95: RMS "
        f"{np.sqrt(np.mean(d**2)) * 1000:.1f} mV, largest {np.max(np.abs(d)) * 1000:.1f} mV")


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.vectors.generate",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("vectors"),
                        help="directory to write into (default: vectors/)")
    parser.add_argument("--only", action="append", default=[], metavar="ID",
                        help="generate only this vector (repeatable); 'characterization' "
                             "for the cell files, 'short' for the regeneration test's case")
    args = parser.parse_args(argv)
    known = {v.id: v for v in CATALOGUE} | {SHORT_CASE.id: SHORT_CASE}
    wanted = args.only or ["characterization"] + [v.id for v in CATALOGUE]
    for name in wanted:
        if name not in known and name not in ("characterization", "short"):
            parser.error(f"unknown vector {name!r}; known: {', '.join(known)}")
    args.out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    for name in wanted:
        t0 = time.perf_counter()
        if name == "characterization":
            for cell in CELLS.values():
                write_characterization(cell, args.out)
            other_cell_ocv_shift()
        else:
            path = build_vector(SHORT_CASE if name == "short" else known[name], args.out)
            if name != "short" and known[name].truth_model:  # OBSA-SOP-002/003
                from conformance.vectors.truth_model import write_truth

                write_truth(path)
        print(f"  ({time.perf_counter() - t0:.1f} s)", flush=True)
    print(f"done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
