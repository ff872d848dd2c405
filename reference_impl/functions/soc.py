"""State of charge of every series element: a Kalman filter per cell on the
equivalent-circuit model, vectorised over the cells (spec: interfaces/soc_estimator.yaml,
requirements OBSA-SOC-*).

Model, per cell (current positive when charging, as the data dictionary's pack_current_A)::

    soc[k]  = soc[k-1] + I·dt / (3600·Q_ref)                       (coulomb counting)
    v_i[k]  = a_i·v_i[k-1] + R_i(T)·(1 − a_i)·I,   a_i = exp(−dt/τ_i)  (RC pairs)
    i_s[k]  = a_s·i_s[k-1] + (1 − a_s)·I,          a_s = exp(−dt/τ_s)  (slow current)
    V       = OCV(soc, T) + R0(T)·I + Σ v_i + r_s·i_s                 (terminal voltage)

The filter's state is, per cell, the SoC and ``r_s``, the resistance of a slow polarisation
(solid diffusion: minutes, which the characterization's RC pairs, fitted to a 30 s pulse and
60 s of rest, do not hold), with their 2 × 2 covariance. The RC voltages and the slow current
are driven by the measured current, which the filter knows, so they are propagated, not
estimated; the slow current is one number for the whole string. Why each part:

* **The slow polarisation.** Against the vectors' PyBaMM cells, the characterization's
  circuit at the true SoC leaves an error that builds up over a drive and relaxes over
  minutes: a least-squares fit of ``r_s`` (τ_s = 300 s) to it gives 21 mΩ on the other NMC
  cell at 10 °C (``nmc-other-wltc-10c``, its error 48.5 → 19.4 mV RMS), 20 mΩ on the aged
  NMC cell at 40 °C, 6 mΩ on the characterized cell at 25 °C. A filter without it reads
  that voltage as SoC: on ``nmc-other-wltc-10c`` replayed from mid-drive its SoC error
  stayed at 4.6–5.7 % RMS. The prior of ``r_s`` is zero with a standard deviation of the
  characterization's total resistance (R0 + ΣR_i, 42 mΩ for the NMC cell at 25 °C), about
  twice the largest of those fits.
* **Correlated model error.** What is left (the OCV of another or an aged cell, the
  resistance of an aged one) is not independent from one 0.1 s sample to the next: it holds
  for many seconds. A filter that counts every sample as a new reading collapses its
  variance and locks in a wrong SoC. Each reading here weighs dt / (2 × CORRELATION_S) of an
  independent one: the model part of the measurement variance is multiplied by
  2 × CORRELATION_S / dt (the sensor noise is not), so that what the voltage tells per
  second does not depend on the sample period.
* **Statistical linearisation of the OCV.** The OCV is read at the SoC and at ±√3 σ about
  it (the three-point Gauss–Hermite rule); the slope is the secant between the outer points,
  the predicted OCV their weighted mean, and their spread about the secant is added to the
  innovation variance. An LFP cell started at the steep full end no longer snaps onto the
  plateau's edge with a variance taken from the steep slope: the variance only shrinks as
  far as the plateau allows.
* **Counting is uncertain as a drift is.** The gain of the current sensor and the true
  capacity of an aged cell (−15 % and more) make a systematic error of the counted charge:
  the SoC variance grows by COUNT_REL_STD² × |ΔSoC| × COUNT_COHERENCE_SOC per step (and the
  offset likewise over OFFSET_COHERENCE_S), not by (COUNT_REL_STD × ΔSoC)², which would
  treat every step's error as independent and let an aged cell drift away from the count.
* **Unknown polarisation after reset().** The filter may start mid-drive (the suite's
  drive-cycle case replays from 600 s), when the RC pairs hold voltages it does not know:
  each pair's is given the standard deviation R_i(T_ref) × INITIAL_C_RATE × the one-hour
  current (0.6 C, the RMS current of the WLTC vectors), decaying with the pair's own time
  constant, and added to the model's error. A single 30 mV decaying with the slowest pair
  was below what the NMC cell's pairs hold on a WLTC (their sum, driven by the measured
  current from the vector's start, has 39 mV RMS on ``nmc-wltc-25c``; R_i × 0.6 C gives
  9 and 46 mV) and let the first seconds lock in an offset. Measured on the suite's
  drive-cycle case (worst cell's RMSE after 300 s): ``nmc-pack4-wltc-25c`` 1.033 → 0.982 %,
  ``nmc-wltc-25c`` 0.978 → 0.953 %, ``lfp-wltc-25c`` 0.571 → 0.563 %,
  ``nmc-other-wltc-10c`` 2.194 → 2.122 %; ``nmc-aged-wltc-40c`` 0.484 → 0.618 % (it
  starts its drift upwards from a higher point). The LFP cell's pairs (11 mV over 19 s,
  30 mV over 414 s) keep about what the 30 mV did. In ``benchmarks/soc_on_vectors.py``
  (65 runs) no run's RMSE grew by more than 0.0019 (that same aged case, 0.0053 → 0.0072)
  and ``lfp-wltc-25c`` from rest with +0.1 and +0.2 came within the bounds.

**With the cell's BPX document** (``cell_bpx``, given beside the characterization on the
test vectors), the filter's model of the voltage is the reduced single-particle model with
electrolyte of :mod:`.spme` instead of the circuit: the particles' diffusion, the
electrolyte's polarisation and the kinetics, driven by the measured current, in place of
OCV + R0·I + Σ v_i (``benchmarks/model_error.py``: 1.9 against 13.1 mV RMS at low current
on ``nmc-wltc-25c``, 2.7 against 26 mV after its final rest). Two more states per cell then
hold what the nominal cell's document cannot know of the cell at hand:

* **r_0**, a series resistance beyond the model's (the contact resistance of an aged cell:
  +7 to +10 mΩ on the vectors' aged NMC cells), seen in the voltage's steps with the current;
* **g**, the gain of the count: the SoC moves by (1 + g) × the counted charge, for the true
  capacity of an aged cell (−15 to −20 %: g = +0.18 to +0.25) and the current sensor's gain.
  A cell that lost active material with its lithium also has 1/f of the nominal current per
  unit of active material: the model's particle gradients and reaction currents are scaled
  by the same 1 + g, so that the rests after the pulses and the count tell the same story.
  The count's gain is applied at each correction over the charge counted since the last
  (one number for the series string), P ← F P Fᵀ with F = I + Δ·e_soc·e_gᵀ.

The counting's own drift then only covers what g does not (GAIN_COUNT_REL_STD), and the
model's error at rest is SPME_MODEL_STD_V. The slow polarisation keeps its prior: a cell of
another make (``nmc-other-wltc-10c``: its electrolyte at 10 °C) needs it, an SoC RMSE of
2.9 % with a tenth of it against 1.2 %. Without the document, the circuit as described
above, and r_0 and g are not estimated (their variance is zero); likewise with a document
the SPMe cannot read (a function where it needs a table, a field missing), which is said in
a warning and in ``bpx_problem``.

Each step:

1. **stale current** (age > soc_input_timeout_s, or not a number): hold everything, raise
   soc_inputs_stale (OBSA-SOC-006), do not even correct from the voltages;
2. **predict**: integrate the current on the declared reference capacity (OBSA-SOC-001),
   propagate the RC voltages and the slow current, add the counting's process noise;
3. **correct**, once per CORRECTION_PERIOD_S (1 s: a tenth of the correlation time, so
   that nothing is lost by not reading every 0.1 s sample, and the step's cost is mostly
   the counting), each cell with its voltage: innovation e = V − V̂, H = [secant slope,
   i_s], gain K = P·Hᵀ / (H·P·Hᵀ + R + spread), the model part of R weighted by the time
   since the last correction; a cell whose voltage the cell monitor does not vouch for
   (cell_voltage_valid false, or not a number) gets K = 0. With the SPMe, the three points
   of the linearisation differ in the OCV at the particles' surface; the kinetics and the
   electrolyte's and ohmic drops, which change little over ±√3 σ of SoC, are evaluated at
   the estimate only (with the four-point evaluation they replaced, the SoC RMSE of
   ``benchmarks/soc_on_vectors.py`` moved by at most 0.0003 on the nmc-wltc, nmc-aged-pulses,
   lfp-wltc, lfp-aged-pulses and lfp-aged-cycles runs).

The state is one array (a row per state, a column per cell) and the covariance another
(4 × 4 per cell): a correction with the SPMe is some 120 whole-array operations, not a
loop over the cells. It works on blocks of BLOCK cells, so that its scratch arrays stay in the
processor's cache (``benchmarks/estimation.py``).

Flat OCV (LFP). Seen as a measurement of SoC, a voltage has the variance R / H²: on an LFP
plateau (H of a few hundredths of a volt per unit SoC) that is a SoC error of tens of
percent, and the filter trusts coulomb counting; on the steep ends and the plateau's step
(volts and tenths of a volt per unit SoC) the voltage anchors the estimate. No mode switch,
no chemistry flag: the OCV of the characterization decides.

Temperature-dependent quantities (the cell's row of the OCV table, R0, the RC pairs) are
refreshed once per simulated second: cell temperatures move by far less than a kelvin per
second and their sensors are ±1–2 K.

pack_soc is min / (min + 1 − max) of the reported cell_soc (OBSA-SOC-005).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..interfaces import SocEstimatorFault as F
from ..interfaces import SocEstimatorParameters
from .cell_model import (
    BPX_KEY,
    CHARACTERIZATION_KEY,
    CellModel,
    CellModelBlock,
    OcvLookup,
    cell_temperatures,
)
from .spme import Spme, StringTerms, Work

COMPONENT = "soc_estimator"


def pack_soc_of(cell_soc: np.ndarray) -> float:
    """min / (min + 1 − max): 0 when the emptiest cell is empty, 1 when the fullest is full
    (both at once, an empty string and a full cell: 0). Held to at most 1: with a cell at
    1, the rounding of min + 1 − max puts the ratio 2e-16 above 1 for one min in six
    (counted over 0.5 … 1), outside the signal's range."""
    lo, hi = float(cell_soc.min()), float(cell_soc.max())
    denominator = lo + 1.0 - hi
    return min(lo / denominator, 1.0) if denominator > 0.0 else 0.0


class SocEstimator(CellModelBlock):
    """Vectorised SoC filter on an equivalent-circuit model with a slow-polarisation
    resistance per cell (module docstring); one step updates every cell."""

    COMPONENT = COMPONENT
    PARAMETERS = SocEstimatorParameters

    #: Initial standard deviation of the SoC after reset() (the suite starts 0.1 to 0.2 away).
    INITIAL_SOC_STD = 0.2
    #: Relative uncertainty of the charge counted per step: the true capacity of an aged cell
    #: (−15 % and more) and the current sensor's gain error.
    COUNT_REL_STD = 0.15
    #: Current sensor offset uncertainty, as a fraction of the one-hour current.
    OFFSET_C_RATE_STD = 0.01
    #: Both errors are systematic, not white: the counted charge is modelled as coherent over
    #: this much SoC (gain, capacity) and this many seconds (offset), so that the SoC variance
    #: grows as a drift does instead of as √(number of steps).
    COUNT_COHERENCE_SOC = 0.2
    OFFSET_COHERENCE_S = 600.0
    #: Voltage sensor noise (V), independent from sample to sample.
    NOISE_STD_V = 0.002
    #: The model's error at rest (V): the OCV of another or an aged cell, the slow
    #: relaxation the RC pairs lack. Correlated over CORRELATION_S.
    MODEL_STD_V = 0.01
    #: Relative error of the modelled overpotential under current (R0 and RC of an aged or
    #: other cell): adds REL × |I| × (R0 + ΣR_i) to the model's error.
    OVERPOTENTIAL_REL_STD = 0.5
    #: Correlation time of the model's error (s): the samples within it share their error,
    #: so that each weighs dt / (2 × CORRELATION_S) of an independent reading.
    CORRELATION_S = 10.0
    #: Time constant of the slow polarisation (s): solid diffusion, which the characterization's
    #: RC pairs (fitted to a 30 s pulse and 60 s of rest) do not hold.
    SLOW_TIME_S = 300.0
    #: Prior standard deviation of the slow polarisation's resistance, in units of the
    #: characterization's total resistance (R0 + ΣR_i) at the reference temperature (about
    #: twice the largest fitted on the vectors' cells, module docstring).
    SLOW_R_REL_STD = 1.0
    #: Prior standard deviation of the series resistance the cell has beyond the model's, in
    #: units of the characterization's R0 at the reference temperature (with the BPX model
    #: only: the circuit's R0 is the characterization's own).
    SERIES_R_REL_STD = 1.0
    #: Prior standard deviation of the count's gain error g (BPX model only: it is estimated,
    #: and what is left of the counting's drift is GAIN_COUNT_REL_STD). The vectors' aged
    #: cells have g = +0.18 and +0.25.
    GAIN_STD = 0.25
    GAIN_COUNT_REL_STD = 0.03
    #: With the BPX model: the model's error at rest (V), half the circuit's (the SPMe holds
    #: the diffusion the circuit lacks)
    SPME_MODEL_STD_V = 0.005
    #: With the BPX model, a cell whose SoC is less certain than PROGRESSIVE_STD is corrected
    #: in PROGRESSIVE_STEPS parts, each counting as that part of the interval's reading and
    #: linearised anew about the estimate the last left: one linearisation over ±√3 σ of a
    #: wide prior lands an LFP cell started 0.1 above the truth at SoC 0.9 on the plateau
    #: 5 % below it, where it stays for 1 000 s (lfp-wltc-25c from rest, +0.1 and +0.2:
    #: RMSE 3.6 → 1.8 %; nmc vectors within ±0.02 %).
    PROGRESSIVE_STEPS = 10
    PROGRESSIVE_STD = 0.05
    #: The step of g the kinetics' slope in it is taken over (the OCPs' slope is their
    #: table's).
    GAIN_STEP = 0.01
    #: Uncertainty of the RC voltages after reset(), as a C-rate (fraction of the one-hour
    #: current): the cell may be mid-drive, each pair's voltage up to its resistance times
    #: this current (the RMS current of the WLTC vectors: 0.61 C on nmc-wltc-25c, 0.63 C on
    #: lfp-wltc-25c). Each pair's part decays with its own time constant, as its unknown
    #: initial voltage does.
    INITIAL_C_RATE = 0.6
    #: Seconds between two refreshes of the temperature-dependent parameters.
    TEMPERATURE_REFRESH_S = 1.0
    #: Seconds between two corrections from the voltages (every step counts the charge):
    #: a tenth of CORRELATION_S, over which the model's error hardly changes.
    CORRECTION_PERIOD_S = 1.0
    #: Spread of the SoC points the OCV is evaluated at, in standard deviations (the
    #: three-point Gauss–Hermite rule: ±√3 σ, weights 1/6, 2/3, 1/6).
    SIGMA_SPREAD = math.sqrt(3.0)
    #: Cells corrected at a time: the scratch arrays of a block (SCRATCH rows and the
    #: SPMe's) stay in the processor's cache, and the Python overhead per block is small.
    BLOCK = 16384
    SCRATCH = 5
    #: SoC, r_s, r_0, g (the last two with the BPX model only)
    STATES = 4

    def __init__(self, cell_model: CellModel | None = None,
                 dtype: type[np.floating[Any]] = np.float64) -> None:
        self._dtype = np.dtype(dtype)
        self._bpx: Mapping[str, Any] | None = None
        self._spme: Spme | None = None
        super().__init__(cell_model)

    def configure(self, parameters: Mapping[str, Any]) -> None:
        # the BPX document of the cell goes with the characterization it came with
        if BPX_KEY in (parameters or {}):
            self._bpx = parameters[BPX_KEY]
        elif CHARACTERIZATION_KEY in (parameters or {}):
            self._bpx = None
        super().configure(parameters)

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
        # (standard deviation, time constant) of each RC pair's unknown voltage at reset()
        one_hour_A = self._capacity_As / 3600.0
        self._rc_initial = tuple(
            (float(m.rc_r(i, self._t_ref)) * self.INITIAL_C_RATE * one_hour_A, pair.tau_s)
            for i, pair in enumerate(m.rc))
        grid_t = m.lookup.t_min + np.arange(m.lookup.rows, dtype=float)
        self._r0_rows = m.r0(grid_t).astype(self._dtype)
        self._rc_rows = [m.rc_r(i, grid_t).astype(self._dtype) for i in range(len(m.rc))]
        self._r_total_ref = float(m.r0(self._t_ref)) + sum(
            float(m.rc_r(i, self._t_ref)) for i in range(len(m.rc)))
        self._spme = None
        #: why the BPX document given is not used (None: used, or none given)
        self.bpx_problem: str | None = None
        if self._bpx is not None:
            try:
                self._spme = Spme(self._bpx, m)
            except ValueError as exc:
                # a document this model cannot read (an OCP given as a BPX function, a
                # field missing): the equivalent circuit alone, as without one
                self.bpx_problem = str(exc)
                warnings.warn(f"{COMPONENT}: {exc}: the cell is modelled by the equivalent "
                              "circuit alone", stacklevel=2)

    def reset(self) -> None:
        self._n = -1
        self._t_prev: float | None = None
        self._t_start: float | None = None
        self._t_refresh = -math.inf
        self._t_corrected: float | None = None
        self._dt_cached = math.nan

    # -- state ----------------------------------------------------------------------------
    def _allocate(self, n: int) -> None:
        dt = self._dtype
        self._n = n
        # the states, one row each, and their covariance (4 × 4 per cell): SoC and r_s; the
        # series resistance the cell has beyond the model's, r_0, and the relative error of
        # the counted charge, g (the true capacity of an aged cell, the current sensor's
        # gain: the SoC moves by (1 + g) × the count), with the BPX model only
        self.x = np.zeros((self.STATES, n), dtype=dt)
        self.p = np.zeros((self.STATES, self.STATES, n), dtype=dt)
        self.soc, self.r_slow, self.r_series, self.gain = self.x
        self.soc[...] = self._p["initial_soc"]
        self.variance = self.p[0, 0]
        self.variance[...] = self.INITIAL_SOC_STD ** 2
        self.p[1, 1] = (self.SLOW_R_REL_STD * self._r_total_ref) ** 2
        if self._spme is not None:
            self.p[2, 2] = (self.SERIES_R_REL_STD * float(self._model.r0(self._t_ref))) ** 2
            self.p[3, 3] = self.GAIN_STD ** 2
        self._counted_since = 0.0
        self.i_slow = 0.0
        self.v_rc = np.zeros((len(self._model.rc), n), dtype=dt)
        self._r0 = np.empty(n, dtype=dt)
        self._r_rc = np.empty((len(self._model.rc), n), dtype=dt)
        self._rc_step = np.empty((len(self._model.rc), n), dtype=dt)  # R_i·(1 − a_i)·I
        self._row = np.zeros(n, dtype=np.int64)
        self._value = self._model.lookup.value.astype(dt)
        self._delta = self._model.lookup.delta.astype(dt)
        # scratch of one block of cells (the correction works a block at a time, BLOCK)
        size = min(n, self.BLOCK)
        self._j = np.empty(3 * size, dtype=np.int64)
        self._b = np.empty((self.SCRATCH, size), dtype=dt)
        self._rows3 = np.empty((2, 3 * size), dtype=dt)  # three SoCs, three voltages
        self._hrow = np.empty((self.STATES, size), dtype=dt)  # H
        self._ph = np.empty((2, self.STATES, size), dtype=dt)  # P·Hᵀ, K, and scratch
        self._pp = np.empty((self.STATES, self.STATES, size), dtype=dt)
        self._work = None if self._spme is None else Work(3, size, dt)
        self._t_refresh = -math.inf
        self._temps: np.ndarray | None = None
        if self._spme is not None:
            self._spme.reset()

    def _refresh(self, t: float, temperatures: Any) -> None:
        """Per-cell parameters at the cells' present temperatures: gathers from per-kelvin
        tables (the rows of the OCV lookup), skipped while the temperatures are unchanged."""
        self._t_refresh = t
        temps = cell_temperatures(temperatures, self._n, self._t_ref)
        if self._temps is not None and np.array_equal(temps, self._temps):
            return
        self._temps = temps
        if self._spme is not None:
            kelvin = temps.astype(float) + 273.15
            self._cells = self._spme.cells(kelvin, dtype=self._dtype)
            self._kelvin_mean = float(np.mean(kelvin))
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
        if dt > 0.0:
            self._predict(current, dt)
        elapsed = (self.CORRECTION_PERIOD_S if self._t_corrected is None
                   else t - self._t_corrected)
        if elapsed >= self.CORRECTION_PERIOD_S - 1e-9:
            since_reset = t - self._t_start
            self._initial_rc_var = sum((std * math.exp(-since_reset / tau)) ** 2
                                       for std, tau in self._rc_initial)
            # with the SPMe, a wide SoC is corrected in PROGRESSIVE_STEPS parts of the reading,
            # each re-linearised where the last left the estimate
            parts = (self.PROGRESSIVE_STEPS if self._spme is not None
                     and float(np.max(self.variance)) > self.PROGRESSIVE_STD ** 2 else 1)
            for _ in range(parts):
                self._correct(voltage, valid, current, elapsed / parts)
            self._t_corrected = t
        return self._outputs(0)

    def _predict(self, current: float, dt: float) -> None:
        counted = current * dt / self._capacity_As
        self.soc += counted
        self._counted_since += counted
        if dt != self._dt_cached:
            self._decay = np.exp(-dt / self._taus)
            self._slow_decay = math.exp(-dt / self.SLOW_TIME_S)
            self._dt_cached = dt
        if self._spme is not None:
            self._spme.advance(current, dt, self._kelvin_mean)
        if self._spme is None:  # (the SPMe holds what the RC pairs stand for)
            # v_i ← a_i·v_i + R_i·(1 − a_i)·I, every pair at once
            np.multiply(self._r_rc, ((1.0 - self._decay) * current)[:, None], out=self._rc_step)
            self.v_rc *= self._decay[:, None]
            self.v_rc += self._rc_step
        count_std = self.COUNT_REL_STD if self._spme is None else self.GAIN_COUNT_REL_STD
        self.variance += (count_std ** 2 * abs(counted) * self.COUNT_COHERENCE_SOC
                          + (self.OFFSET_C_RATE_STD / 3600.0) ** 2 * dt
                          * self.OFFSET_COHERENCE_S)
        self.i_slow = self._slow_decay * self.i_slow + (1.0 - self._slow_decay) * current

    def _ocv(self, soc: np.ndarray, row: np.ndarray, out: np.ndarray, frac: np.ndarray,
             j: np.ndarray) -> np.ndarray:
        """OCV of each cell at ``soc`` (already within 0 … 1; rows of SoCs of the cells)
        into ``out`` (``frac`` and ``j`` scratch arrays like it, ``row`` the cells' rows of
        the lookup): two gathers from the cell's 1 K row (see OcvLookup)."""
        np.multiply(soc, OcvLookup.STEPS, out=frac)
        np.copyto(j, frac, casting="unsafe")  # floor, as frac >= 0
        frac -= j  # fraction within the interval
        j += row
        np.take(self._delta, j, out=out, mode="clip")
        out *= frac
        out += np.take(self._value, j, out=frac, mode="clip")
        return out

    def _correct(self, voltage: np.ndarray, valid: np.ndarray, current: float,
                 elapsed: float) -> None:
        """Correct every cell with its voltage, a reading that stands for the ``elapsed``
        seconds since the last correction: what the string shares once, then the cells a
        block of BLOCK at a time (its scratch arrays stay in the processor's cache)."""
        counted, self._counted_since = self._counted_since, 0.0
        spme = self._spme
        terms = None if spme is None else spme.string_terms(current, self._kelvin_mean)
        # the model's error counts dt / (2 × CORRELATION_S) of an independent reading
        model = ((self.MODEL_STD_V if spme is None else self.SPME_MODEL_STD_V) ** 2
                 + (self.OVERPOTENTIAL_REL_STD * abs(current) * self._r_total_ref) ** 2
                 + self._initial_rc_var)
        r = self.NOISE_STD_V ** 2 + model * 2.0 * self.CORRELATION_S / elapsed
        for a in range(0, self._n, self.BLOCK):
            part = slice(a, min(a + self.BLOCK, self._n))
            self._correct_block(part, voltage[part], valid[part], current, counted, terms, r)

    def _correct_block(self, part: slice, voltage: np.ndarray, valid: np.ndarray,
                       current: float, counted: float, terms: StringTerms | None,
                       r: float) -> None:
        """:meth:`_correct` on the cells ``part``."""
        m = voltage.shape[0]
        b = self._b[:, :m]
        spme = self._spme
        # the states the voltage tells about: SoC and r_s; with the SPMe also r_0 and g
        k = 2 if spme is None else 4
        x, p = self.x[:k, part], self.p[:k, :k, part]
        soc, var = x[0], p[0, 0]
        if spme is not None and counted != 0.0:
            # x_s += g·Δ: P ← F P Fᵀ with F = I + Δ e_s e_gᵀ (row 0, then column 0)
            t4 = self._ph[1, :, :m]
            np.multiply(x[3], counted, out=b[0])
            soc += b[0]
            np.multiply(p[3], counted, out=t4)
            p[0] += t4
            np.multiply(p[:, 3], counted, out=t4)
            p[:, 0] += t4
        np.clip(soc, 0.0, 1.0, out=soc)
        # the voltage at ±√3 σ about the SoC (clipped to 0 … 1) and at it: rows lo, hi, mid
        socs = self._rows3[0, :3 * m].reshape(3, m)
        ys = self._rows3[1, :3 * m].reshape(3, m)
        lo, hi = socs[0], socs[1]
        sigma = np.sqrt(var, out=b[0])
        sigma *= self.SIGMA_SPREAD
        np.subtract(soc, sigma, out=lo)
        np.maximum(lo, 0.0, out=lo)
        np.add(soc, sigma, out=hi)
        np.minimum(hi, 1.0, out=hi)
        socs[2] = soc
        hrow = self._hrow[:k, :m]
        e = b[1]
        if spme is None:
            j = self._j[:3 * m].reshape(3, m)
            self._ocv(socs, self._row[part], ys, self._b[2:5, :m], j)
            # e = the rest of the voltage: R0·I + Σ v_i
            np.multiply(self._r0[part], current, out=e)
            for v_i in self.v_rc:
                e += v_i[part]
        else:  # the cell's voltage under the current: the OCV at its particles' surface
            # at the three SoCs; the kinetics, electrolyte and ohmic drops (e) and the slope
            # in g (H's last row) at the SoC
            assert terms is not None and self._work is not None  # set with the SPMe
            scale = np.add(x[3], 1.0, out=b[2])
            spme.cell_terms(socs, scale, self._cells[part], terms, ys, e,
                            self._work.of(3, m), hrow[3], self.GAIN_STEP)
        y_lo, y_hi, y_mid = ys
        # secant slope over the points: the statistical linearisation of the OCV
        width = np.subtract(hi, lo, out=b[2])
        np.maximum(width, 1e-9, out=width)
        h = np.subtract(y_hi, y_lo, out=hrow[0])
        h /= width  # dOCV/dSoC over ±√3 σ
        # predicted OCV: the three-point mean (weights 1/6, 2/3, 1/6) ...
        mean = np.add(y_lo, y_hi, out=b[0])
        np.multiply(y_mid, 4.0, out=b[2])
        mean += b[2]
        mean *= 1.0 / 6.0
        # ... and the spread of the three about it that the secant does not explain
        ys -= mean
        ys *= ys
        y_mid *= 4.0
        spread = np.sum(ys, axis=0, out=b[2])
        spread *= 1.0 / 6.0
        np.multiply(h, h, out=b[3])
        b[3] *= var
        spread -= b[3]
        np.maximum(spread, 0.0, out=spread)
        # innovation e = V − (OCV + R0·I + Σ v_i + r_s·i_s + r_0·I), the SPMe's voltage in
        # place of the first three with the BPX model
        e += mean
        np.multiply(x[1], self.i_slow, out=b[3])
        e += b[3]
        if spme is not None:
            np.multiply(x[2], current, out=b[3])
            e += b[3]
        np.subtract(voltage, e, out=e)
        ok = None
        if not valid.all() or not np.isfinite(e).all():
            ok = valid & np.isfinite(e)
            e[~ok] = 0.0
        # H = [h, i_s] on (SoC, r_s), with the SPMe [h, i_s, I, h_g] on (SoC, r_s, r_0, g)
        hrow[1] = self.i_slow
        if spme is not None:
            hrow[2] = current
        spread += r
        # P·Hᵀ, S = H·P·Hᵀ + R + spread, K = P·Hᵀ / S, P −= K·(P·Hᵀ)ᵀ, x += K·e
        ph, t = self._ph[0, :k, :m], self._ph[1, :k, :m]
        pp = self._pp[:k, :k, :m]
        np.multiply(p, hrow[None, :, :], out=pp)
        np.sum(pp, axis=1, out=ph)
        np.multiply(ph, hrow, out=t)
        s = np.sum(t, axis=0, out=b[3])
        s += spread
        np.divide(1.0, s, out=s)
        if ok is not None:
            s *= ok
        np.multiply(ph, s, out=t)  # K
        np.multiply(t[:, None, :], ph[None, :, :], out=pp)
        p -= pp
        t *= e
        x += t

    def _outputs(self, flags: int) -> dict[str, Any]:
        cell_soc = np.minimum(np.maximum(self.soc, 0.0), 1.0).astype(float, copy=False)
        return {"cell_soc": cell_soc, "pack_soc": pack_soc_of(cell_soc),
                "soc_fault_flags": flags}
