"""The measuring hardware between plant and module: cell monitor, current sensor (with the
HV voltages), isolation monitor.

Each sensor draws its errors from its own random stream, so the noise of one sensor does
not depend on how often another one samples. Errors stay within 0.8 × the declared
accuracy of BenchConfig:

* cell monitor: per sample, uniform within ±0.8 × accuracy on every cell voltage and
  every temperature sensor;
* current: a fixed gain error within ±0.8 × current_gain_error, a fixed offset within
  ±0.4 × current_offset_error_A plus a per-sample part within ±0.4 × the same;
* pack and link voltage: per sample, uniform within ±0.8 × voltage_accuracy_V;
* insulation: per sample, relative error uniform within ±0.8 × insulation_accuracy.

Readings saturate at the input ranges below (chosen equal to the dictionary's ranges of
the measured signals, which a test checks), so no measurement leaves its signal's range.
"""

from __future__ import annotations

import numpy as np

from .config import BenchConfig

ERROR_SHARE = 0.8  # share of the declared accuracy the bench's errors may use

CELL_VOLTAGE_RANGE_V = (0.0, 5.0)
CELL_TEMPERATURE_RANGE_DEGC = (-50.0, 150.0)
PACK_CURRENT_RANGE_A = (-2000.0, 2000.0)
HV_VOLTAGE_RANGE_V = (0.0, 1500.0)
INSULATION_RANGE_OHM = (0.0, 1.0e9)
OPEN_WIRE_VOLTAGE_V = 0.0
OPEN_WIRE_TEMPERATURE_DEGC = -50.0

_BLOCK = 1024


class UniformStream:
    """Scalar uniform draws in [-1, 1), fetched from the generator a block at a time
    (one scalar draw from numpy costs more than a whole step of the scalar plant)."""

    __slots__ = ("_rng", "_buf", "_i")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._buf: list[float] = []
        self._i = 0

    def next(self) -> float:
        i = self._i
        if i >= len(self._buf):
            self._buf = (self._rng.random(_BLOCK) * 2.0 - 1.0).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]

    def next3(self) -> tuple[float, float, float]:
        """Three draws at once (the same values three next() calls would give)."""
        i = self._i
        buf = self._buf
        if i + 3 > len(buf):
            return self.next(), self.next(), self.next()
        self._i = i + 3
        return buf[i], buf[i + 1], buf[i + 2]


def _frozen(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


class CellMonitor:
    """Samples every cell voltage and temperature sensor once per cycle."""

    def __init__(self, cfg: BenchConfig, rng: np.random.Generator, cycle_steps: int) -> None:
        self._rng = rng
        self.cycle_steps = cycle_steps
        self._v_err = ERROR_SHARE * cfg.cell_voltage_accuracy_V
        self._t_err = ERROR_SHARE * cfg.cell_temperature_accuracy_K
        self.voltage_V = _frozen(np.zeros(cfg.n_cells))
        self.temperature_degC = _frozen(np.zeros(cfg.n_temp_sensors))
        self.voltage_valid = _frozen(np.ones(cfg.n_cells, dtype=bool))
        self.temperature_valid = _frozen(np.ones(cfg.n_temp_sensors, dtype=bool))
        self.sample_step = 0
        self.sample_count = 0  # identifies the sample being delivered

    def sample(
        self, step: int, true_voltage_V: np.ndarray, true_temperature_degC: np.ndarray
    ) -> None:
        """Take a sample of the given truth (arrays are consumed, not copied)."""
        v = true_voltage_V
        v += self._rng.uniform(-self._v_err, self._v_err, v.shape[0])
        np.clip(v, *CELL_VOLTAGE_RANGE_V, out=v)
        t = true_temperature_degC
        t += self._rng.uniform(-self._t_err, self._t_err, t.shape[0])
        np.clip(t, *CELL_TEMPERATURE_RANGE_DEGC, out=t)
        self.voltage_V = _frozen(v)
        self.temperature_degC = _frozen(t)
        self.sample_step = step
        self.sample_count += 1


class CurrentSensor:
    """Pack current (fixed gain + offset error, small noise) and pack/link voltage."""

    def __init__(self, cfg: BenchConfig, rng: np.random.Generator) -> None:
        self._u = UniformStream(rng)
        self.gain = 1.0 + ERROR_SHARE * cfg.current_gain_error * self._u.next()
        half = 0.5 * ERROR_SHARE * cfg.current_offset_error_A
        self.offset_A = half * self._u.next()
        self._noise_A = half
        self._v_err = ERROR_SHARE * cfg.voltage_accuracy_V
        self.current_A = 0.0
        self.pack_voltage_V = 0.0
        self.link_voltage_V = 0.0
        self.sample_step = 0

    def sample(self, step: int, current_A: float, pack_V: float, link_V: float) -> None:
        u0, u1, u2 = self._u.next3()
        i = current_A * self.gain + self.offset_A + self._noise_A * u0
        lo, hi = PACK_CURRENT_RANGE_A
        self.current_A = lo if i < lo else hi if i > hi else i
        lo, hi = HV_VOLTAGE_RANGE_V
        v = pack_V + self._v_err * u1
        self.pack_voltage_V = lo if v < lo else hi if v > hi else v
        v = link_V + self._v_err * u2
        self.link_voltage_V = lo if v < lo else hi if v > hi else v
        self.sample_step = step


class IsolationMonitor:
    """Insulation resistance with a relative error, once per cycle."""

    def __init__(self, cfg: BenchConfig, rng: np.random.Generator, cycle_steps: int) -> None:
        self._u = UniformStream(rng)
        self._rel_err = ERROR_SHARE * cfg.insulation_accuracy
        self.cycle_steps = cycle_steps
        self.resistance_ohm = 0.0
        self.sample_step = 0

    def sample(self, step: int, true_ohm: float) -> None:
        r = true_ohm * (1.0 + self._rel_err * self._u.next())
        lo, hi = INSULATION_RANGE_OHM
        self.resistance_ohm = lo if r < lo else hi if r > hi else r
        self.sample_step = step
