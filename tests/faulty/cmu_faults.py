"""Cell monitors for the cell_monitoring_unit profile: faulty ones, each with one realistic
defect built on the reference cell monitor (``CMU_CATALOGUE``: the requirements each
breaks), and correct ones made differently from the reference, which must certify
(``CMU_VARIANTS``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from reference_impl.component import TIME_EPS_S, Block
from reference_impl.hal.cell_monitor import CellMonitor
from reference_impl.hal.signal_format import SIGNAL_FORMAT, measure, measure_array

from .correct_modules import Variant
from .modules import Faulty, _f

#: the nominal step period of the cell monitor's interface (spec), for the scanning variant
STEP_S = 0.01


def _arrays(out: dict[str, Any]) -> dict[str, Any]:
    """Writable copies of the output arrays (the reference's are held between cycles)."""
    return {k: (np.array(v) if isinstance(v, np.ndarray) else v) for k, v in out.items()}


class _Declared(CellMonitor):
    """The reference, keeping its declared parameters at hand."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._p = p


# ----------------------------------------------------------------------------- faulty
class OffsetOneChannel(_Declared):
    """One channel (cell 2) was trimmed 1.5 × the declared accuracy off: a calibration
    constant of one ADC input written wrong."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = _arrays(super()._step(t, inputs))
        v = out["cell_voltage_V"]
        v[min(1, len(v) - 1)] += 1.5 * float(self._p["cell_voltage_accuracy_V"])
        return out


class GainError(CellMonitor):
    """The voltage reference drifted 0.06 %: within the declared 2 mV in the lower part of the
    window, beyond it near the full end."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = _arrays(super()._step(t, inputs))
        out["cell_voltage_V"] = out["cell_voltage_V"] * 1.0006
        return out


class ColdNtcTable(CellMonitor):
    """The NTC linearisation table is coarse below 0 °C: the error grows by 0.06 K per kelvin
    of frost (2.4 K at −40 °C)."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = _arrays(super()._step(t, inputs))
        temp = out["cell_temperature_degC"]
        low = SIGNAL_FORMAT["cell_temperature_degC"][0]
        out["cell_temperature_degC"] = np.where(temp < 0.0, np.maximum(temp * 1.06, low), temp)
        return out


class SlowCycle(_Declared):
    """The cycle timer counts 1.5 × the declared measurement_cycle_s (a wrong prescaler)."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._cycle_s = 1.5 * p["measurement_cycle_s"] - TIME_EPS_S


class AgeAlwaysZero(CellMonitor):
    """cell_monitor_age_s is the age of the frame sent, always 0, not of the measurements."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {**super()._step(t, inputs), "cell_monitor_age_s": 0.0}


class OneChannelEveryOtherCycle(CellMonitor):
    """The multiplexer serves the last cell's channel only every other cycle, while the age
    restarts at every cycle."""

    def reset(self) -> None:
        super().reset()
        self._cycles = 0
        self._held: float | None = None

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        before = self._sampled_s
        out = _arrays(super()._step(t, inputs))
        v = out["cell_voltage_V"]
        if self._sampled_s != before:
            self._cycles += 1
            if self._held is None or self._cycles % 2 == 1:
                self._held = float(v[-1])
        assert self._held is not None
        v[-1] = self._held
        return out


class OpenWireReadsZero(CellMonitor):
    """An undefined input (an open sense wire) is converted as 0 V and then range-checked:
    0 V is inside the range, so the cell is reported valid."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        v = np.nan_to_num(np.asarray(inputs["true_cell_voltage_V"], dtype=float), nan=0.0)
        return super()._step(t, {**inputs, "true_cell_voltage_V": v})


class ShortedNtcNotFlagged(CellMonitor):
    """Only the open-sensor rail is checked: a shorted NTC reads as the top of the measuring
    range, valid."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        before = self._sampled_s
        out = super()._step(t, inputs)
        if self._sampled_s != before:
            true = np.asarray(inputs["true_cell_temperature_degC"], dtype=float)
            low = SIGNAL_FORMAT["cell_temperature_degC"][0]
            self._record["cell_temperature_valid"] = np.isfinite(true) & (true >= low)
            out["cell_temperature_valid"] = self._record["cell_temperature_valid"]
        return out


class OpenNtcNotFlagged(CellMonitor):
    """Only the shorted-sensor rail is checked: an open NTC reads as the bottom of the
    measuring range, valid — a frozen pack, as the firmware sees it."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        before = self._sampled_s
        out = super()._step(t, inputs)
        if self._sampled_s != before:
            true = np.asarray(inputs["true_cell_temperature_degC"], dtype=float)
            high = SIGNAL_FORMAT["cell_temperature_degC"][1]
            self._record["cell_temperature_valid"] = np.isfinite(true) & (true <= high)
            out["cell_temperature_valid"] = self._record["cell_temperature_valid"]
        return out


class EmptyCellInvalid(CellMonitor):
    """A plausibility window of 3.35 V and up, written for a full NMC cell, flags an empty
    cell invalid though its reading is right."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        return {**out, "cell_voltage_valid": out["cell_voltage_valid"]
                & (np.asarray(out["cell_voltage_V"]) >= 3.35)}


class ColdSensorInvalid(CellMonitor):
    """The open-sensor threshold was set at −30 °C: a sensor colder than that is flagged
    open though it works."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        return {**out, "cell_temperature_valid": out["cell_temperature_valid"]
                & (np.asarray(out["cell_temperature_degC"]) >= -30.0)}


#: module → the requirements it must fail (and no other; may_break: judged on a channel or
#: a phase drawn from the run's seed)
CMU_CATALOGUE: tuple[Faulty, ...] = (
    _f("cell_monitor", OffsetOneChannel, "OBSA-MEAS-001"),
    _f("cell_monitor", GainError, "OBSA-MEAS-001"),
    _f("cell_monitor", ColdNtcTable, "OBSA-MEAS-002"),
    Faulty("SlowCycle", "cell_monitor", SlowCycle, frozenset({"OBSA-MEAS-003"}),
           may_break=frozenset({"OBSA-MEAS-005"})),
    _f("cell_monitor", AgeAlwaysZero, "OBSA-MEAS-003"),
    _f("cell_monitor", OneChannelEveryOtherCycle, "OBSA-MEAS-003"),
    _f("cell_monitor", OpenWireReadsZero, "OBSA-MEAS-004"),
    _f("cell_monitor", ShortedNtcNotFlagged, "OBSA-MEAS-005"),
    _f("cell_monitor", OpenNtcNotFlagged, "OBSA-MEAS-005"),
    _f("cell_monitor", EmptyCellInvalid, "OBSA-MEAS-001"),
    _f("cell_monitor", ColdSensorInvalid, "OBSA-MEAS-002"),
)


# ----------------------------------------------------------------------------- correct
class NoisyFrontEnd(_Declared):
    """A noisier front end: every reading carries uniform noise up to 90 % of the declared
    accuracy (seeded, so a run can be repeated)."""

    def reset(self) -> None:
        super().reset()
        self._rng = np.random.default_rng(7)
        self._noisy: dict[str, Any] = {}

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        before = self._sampled_s
        out = super()._step(t, inputs)
        if self._sampled_s != before or not self._noisy:
            v = out["cell_voltage_V"]
            temp = out["cell_temperature_degC"]
            dv = 0.9 * float(self._p["cell_voltage_accuracy_V"])
            dtemp = 0.9 * float(self._p["cell_temperature_accuracy_K"])
            self._noisy = {
                "cell_voltage_V": measure_array(
                    "cell_voltage_V", v + self._rng.uniform(-dv, dv, len(v)))[0],
                "cell_temperature_degC": measure_array(
                    "cell_temperature_degC",
                    temp + self._rng.uniform(-dtemp, dtemp, len(temp)))[0],
            }
        return {**out, **self._noisy}


class ScanningCellMonitor(Block):
    """A front end that scans its channels in groups, one group per step, so that a scan of
    every channel takes measurement_cycle_s; the age counts from the last complete scan."""

    COMPONENT = "cell_monitor"

    def _setup(self, p: dict[str, Any]) -> None:
        self._groups = max(1, int(p["measurement_cycle_s"] / STEP_S + TIME_EPS_S))

    def reset(self) -> None:
        self._record: dict[str, np.ndarray] = {}
        self._done_s = 0.0
        self._slot = 0

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        true = {"cell_voltage": np.asarray(inputs["true_cell_voltage_V"], dtype=float),
                "cell_temperature": np.asarray(inputs["true_cell_temperature_degC"],
                                               dtype=float)}
        units = {"cell_voltage": "cell_voltage_V", "cell_temperature": "cell_temperature_degC"}
        first = not self._record
        for name, values in true.items():
            measured, valid = measure_array(units[name], values)
            if first:
                self._record[units[name]] = measured
                self._record[f"{name}_valid"] = valid
                continue
            mine = np.arange(len(values)) % self._groups == self._slot
            self._record[units[name]] = np.where(mine, measured, self._record[units[name]])
            self._record[f"{name}_valid"] = np.where(mine, valid,
                                                     self._record[f"{name}_valid"])
        if first or self._slot == self._groups - 1:
            self._done_s = t
        self._slot = 0 if first else (self._slot + 1) % self._groups
        return {**self._record, "cell_monitor_age_s": measure("cell_monitor_age_s",
                                                              t - self._done_s)}


def _components(**classes: str) -> Any:
    def edit(data: dict[str, Any]) -> None:
        data["adapter"]["components"].update(classes)

    return edit


def _small_lfp(data: dict[str, Any]) -> None:
    data["pack"] = {"chemistry": "lfp", "cell_count": 12, "temperature_sensor_count": 1,
                    "capacity_Ah": 100.0}
    data["configuration"]["cell_monitor"].update(
        cell_voltage_accuracy_V=0.005, cell_temperature_accuracy_K=1.0,
        measurement_cycle_s=0.2)


def _fast_lto(data: dict[str, Any]) -> None:
    data["pack"] = {"chemistry": "lto", "cell_count": 7, "temperature_sensor_count": 7,
                    "capacity_Ah": 20.0}
    data["configuration"]["cell_monitor"].update(measurement_cycle_s=0.01)


#: correct cell monitors that differ from the reference: each must certify
CMU_VARIANTS: tuple[Variant, ...] = (
    Variant("small_lfp", "the reference on a 12-cell LFP board with one sensor, a 0.2 s "
            "cycle and a 5 mV / 1 K declaration", _small_lfp),
    Variant("fast_lto", "the reference on a 7-cell LTO board, a sensor per cell, a cycle of "
            "one step (0.01 s)", _fast_lto),
    Variant("noisy_front_end", "noise up to 90 % of the declared accuracy on every reading",
            _components(cell_monitor="tests.faulty.cmu_faults:NoisyFrontEnd")),
    Variant("scanning", "channels scanned in groups, one group per step; the age counts "
            "from the last complete scan",
            _components(cell_monitor="tests.faulty.cmu_faults:ScanningCellMonitor")),
)
