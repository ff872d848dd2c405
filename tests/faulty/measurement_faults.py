"""The measurement hardware abstraction of the full BMS (area MEAS: current sensor, isolation
monitor, contactor driver): faulty modules, each with one realistic defect built on the
reference block, and correct ones made differently from the reference, which must pass
(:func:`area`, registered in :data:`.full_bms_runs.AREAS`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from reference_impl.component import Block
from reference_impl.hal.contactor_driver import ContactorDriver
from reference_impl.hal.current_sensor import CurrentSensor
from reference_impl.hal.isolation_monitor import IsolationMonitor
from reference_impl.hal.signal_format import measure

from .modules import Faulty, _f

CS = "current_sensor"
IMD = "isolation_monitor"
DRV = "contactor_driver"
_CONTACTORS = ("main_positive", "main_negative", "precharge")


# ----------------------------------------------------------------------------- current sensor
class _DeclaredSensor(CurrentSensor):
    """The reference, keeping its declared parameters at hand."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._p = p


class ShuntTempcoGain(_DeclaredSensor):
    """The shunt's temperature coefficient is not compensated: the current reads twice the
    declared gain error high."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        gain = 1.0 + 2.0 * float(self._p["current_gain_error"])
        out["pack_current_A"] = measure("pack_current_A", out["pack_current_A"] * gain)
        return out


class UntrimmedOffset(_DeclaredSensor):
    """The zero-current calibration was skipped: the amplifier's offset, 1.8 × the declared
    one, stays in every reading (inside the gain criterion, which allows the offset)."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        offset = 1.8 * float(self._p["current_offset_error_A"])
        out["pack_current_A"] = measure("pack_current_A", out["pack_current_A"] + offset)
        return out


class DirectionComparator(CurrentSensor):
    """The magnitude comes from the ADC, the direction from a comparator with ±1 A of
    hysteresis: a small current right after one of the other direction reads with the old
    sign (the gain points, 10 % of the range and more, always flip it)."""

    HYSTERESIS_A = 1.0

    def reset(self) -> None:
        super().reset()
        self._charging = True

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        current = float(out["pack_current_A"])
        if current > self.HYSTERESIS_A:
            self._charging = True
        elif current < -self.HYSTERESIS_A:
            self._charging = False
        out["pack_current_A"] = abs(current) if self._charging else -abs(current)
        return out


class MountedReversed(CurrentSensor):
    """The sensor is mounted the other way round: charge reads negative. Every reading is
    off by twice the current, so the gain criterion fails with the sign criterion."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        out["pack_current_A"] = -out["pack_current_A"] + 0.0  # no −0.0
        return out


class AgeOfLastStep(CurrentSensor):
    """The held value is republished as new on every step: the age stays zero while the
    sensor delivers nothing."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        out["current_sensor_age_s"] = 0.0
        return out


class AgeInTicks(CurrentSensor):
    """The age is counted by a 100 ms housekeeping task: it reads the time since the last
    fresh measurement rounded down to whole 100 ms ticks."""

    TICK_S = 0.1

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        ticks = math.floor(float(out["current_sensor_age_s"]) / self.TICK_S + 1e-9)
        out["current_sensor_age_s"] = measure("current_sensor_age_s", ticks * self.TICK_S)
        return out


class PackVoltageOffset(_DeclaredSensor):
    """The pack-voltage ADC's offset, referred to the input twice the declared accuracy, was
    never calibrated out (the link channel was)."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        offset = 2.0 * float(self._p["voltage_accuracy_V"])
        out["pack_voltage_V"] = measure("pack_voltage_V", out["pack_voltage_V"] + offset)
        return out


class LinkDividerTolerance(CurrentSensor):
    """The DC-link voltage divider was built with 1 % resistors and is not calibrated."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        out["link_voltage_V"] = measure("link_voltage_V", out["link_voltage_V"] * 1.01)
        return out


# ----------------------------------------------------------------------------- isolation monitor
class NarrowRangeImd(IsolationMonitor):
    """An insulation monitor whose measuring range ends at 2 MΩ: above, it reports 2 MΩ."""

    TOP_OHM = 2.0e6

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        out["insulation_resistance_ohm"] = min(float(out["insulation_resistance_ohm"]),
                                               self.TOP_OHM)
        return out


# ----------------------------------------------------------------------------- contactor driver
class DebouncedFeedback(ContactorDriver):
    """The auxiliary contacts are debounced in software over three steps: the feedback
    lags the contacts by three step periods."""

    STEPS = 3

    def reset(self) -> None:
        self._fb = {name: False for name in _CONTACTORS}
        self._count = {name: 0 for name in _CONTACTORS}

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        for name in _CONTACTORS:
            raw = bool(out[f"{name}_closed_fb"])
            self._count[name] = self._count[name] + 1 if raw != self._fb[name] else 0
            if self._count[name] > self.STEPS:
                self._fb[name], self._count[name] = raw, 0
            out[f"{name}_closed_fb"] = self._fb[name]
        return out


class FeedbackFromCoil(ContactorDriver):
    """The auxiliary inputs are never read: the feedback echoes the coil output, so it runs
    ahead of the contacts by their closing and opening times."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        for name in _CONTACTORS:
            out[f"{name}_closed_fb"] = out[f"{name}_coil_on"]
        return out


class QueuedCoils(ContactorDriver):
    """The coils sit on an output expander written from a queue: each coil switches two
    steps after its command."""

    def reset(self) -> None:
        self._queue: list[dict[str, bool]] = [{}, {}]

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        self._queue.append({k: bool(v) for k, v in out.items() if k.endswith("_coil_on")})
        written = self._queue.pop(0)
        for name in _CONTACTORS:
            out[f"{name}_coil_on"] = written.get(f"{name}_coil_on", False)
        return out


# ----------------------------------------------------------------------------- correct variants
@dataclass
class _Channel:
    """One ADC channel: full scale, counts and the last conversion."""

    full_scale: float
    bits: int
    value: float = 0.0
    fresh_s: float | None = None

    def convert(self, true_value: float, t: float) -> bool:
        """Convert ``true_value``; False when there was nothing to convert (NaN)."""
        if not math.isfinite(true_value):
            return False
        lsb = 2 * self.full_scale / (1 << self.bits)
        counts = max(-(1 << (self.bits - 1)), min((1 << (self.bits - 1)) - 1,
                                                  round(true_value / lsb)))
        self.value = counts * lsb
        self.fresh_s = t
        return True


class AveragingCurrentSensor(Block):
    """A current sensor written from scratch: 24-bit conversions of ±2500 A and ±2000 V,
    each reading the mean of this step's and the last step's conversion (a one-step
    averaging filter: inside the last step period's true values), the age from the time
    stamp of the last conversion."""

    COMPONENT = CS

    def reset(self) -> None:
        self._channels = {name: _Channel(full_scale, 24) for name, full_scale in (
            ("pack_current_A", 2500.0), ("pack_voltage_V", 2000.0), ("link_voltage_V", 2000.0))}
        self._last: dict[str, float | None] = {name: None for name in self._channels}
        self._power_on_s: float | None = None

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if self._power_on_s is None:
            self._power_on_s = t
        out: dict[str, Any] = {}
        for name, channel in self._channels.items():
            previous = self._last[name]
            if channel.convert(float(inputs[f"true_{name}"]), t):
                self._last[name] = channel.value
                mean = channel.value if previous is None else 0.5 * (previous + channel.value)
            else:
                mean = channel.value  # nothing new: hold the last conversion
            out[name] = measure(name, mean)
        fresh = self._channels["pack_current_A"].fresh_s
        age = t - (fresh if fresh is not None else self._power_on_s)
        out["current_sensor_age_s"] = measure("current_sensor_age_s", age)
        return out


class BiasDividerImd(Block):
    """An insulation monitor written from scratch: it injects a 50 V measuring voltage
    through a 1 MΩ bias resistor, reads the divided voltage and inverts the divider; the
    result is smoothed in the log domain with a 1 s time constant (settled within the
    requirement's 10 s)."""

    COMPONENT = IMD
    BIAS_OHM = 1.0e6
    U_MEAS_V = 50.0
    TAU_S = 1.0

    def reset(self) -> None:
        self._log_ohm: float | None = None
        self._t: float | None = None

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        r_true = float(inputs["true_insulation_resistance_ohm"])
        if math.isfinite(r_true) and r_true > 0:
            u = self.U_MEAS_V * r_true / (self.BIAS_OHM + r_true)  # what the ADC reads
            r = self.BIAS_OHM * u / (self.U_MEAS_V - u) if u < self.U_MEAS_V else math.inf
            sample = math.log(max(min(r, 1.0e9), 1.0))
            if self._log_ohm is None or self._t is None:
                self._log_ohm = sample
            else:
                alpha = 1.0 - math.exp(-(t - self._t) / self.TAU_S)
                self._log_ohm += alpha * (sample - self._log_ohm)
        self._t = t
        value = 1.0e9 if self._log_ohm is None else math.exp(self._log_ohm)
        return {"insulation_resistance_ohm": measure("insulation_resistance_ohm", value)}


class EconomiserDriver(Block):
    """A contactor driver written from scratch: each coil a small state machine (off,
    pull-in for 100 ms, then hold at reduced current when the economiser is declared), the
    output on in both energised states; the feedback read straight from the aux contacts."""

    COMPONENT = DRV
    PULL_IN_S = 0.1

    def _setup(self, p: dict[str, Any]) -> None:
        self._economiser = bool(p["coil_economiser"])

    def reset(self) -> None:
        self._since: dict[str, float | None] = {name: None for name in _CONTACTORS}
        self.holding: dict[str, bool] = {name: False for name in _CONTACTORS}

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in _CONTACTORS:
            if inputs[f"{name}_close_cmd"]:
                since = self._since[name]
                if since is None:
                    self._since[name] = since = t
                self.holding[name] = self._economiser and t - since >= self.PULL_IN_S
            else:
                self._since[name] = None
                self.holding[name] = False
            out[f"{name}_coil_on"] = self._since[name] is not None
        for name in _CONTACTORS:
            out[f"{name}_closed_fb"] = inputs[f"true_{name}_closed"] is True
        return out


def _correct(component: str, cls: type) -> Faulty:
    return Faulty(cls.__name__, component, cls, frozenset())


def area() -> Any:
    """The area's entry of :data:`.full_bms_runs.AREAS` (an ``Area``)."""
    from .full_bms_runs import Area, lfp_200_cells, one_cell, twelve_cells_one_sensor

    return Area(
        # pytest: the cases of test_measurement.py (the cell monitor's test_measurement_cycle
        # is not the area's); behave: the feature's tag
        select="hal_measurement or test_measurement and not test_measurement_cycle",
        faulty=(
            _f(CS, ShuntTempcoGain, "OBSA-MEAS-006"),
            _f(CS, UntrimmedOffset, "OBSA-MEAS-007"),
            _f(CS, DirectionComparator, "OBSA-MEAS-008"),
            # reversed, every reading is off by twice the current: the gain fails with the sign
            _f(CS, MountedReversed, "OBSA-MEAS-006", "OBSA-MEAS-008"),
            _f(CS, AgeOfLastStep, "OBSA-MEAS-009"),
            _f(CS, AgeInTicks, "OBSA-MEAS-009"),
            _f(CS, LinkDividerTolerance, "OBSA-MEAS-010"),
            _f(CS, PackVoltageOffset, "OBSA-MEAS-010"),
            _f(IMD, NarrowRangeImd, "OBSA-MEAS-011"),
            _f(DRV, DebouncedFeedback, "OBSA-MEAS-012"),
            _f(DRV, QueuedCoils, "OBSA-MEAS-012"),
            _f(DRV, FeedbackFromCoil, "OBSA-MEAS-012"),
        ),
        correct=(
            _correct(CS, AveragingCurrentSensor),
            _correct(IMD, BiasDividerImd),
            _correct(DRV, EconomiserDriver),
        ),
        packs={"one-cell": one_cell, "twelve-cells-one-sensor": twelve_cells_one_sensor,
               "lfp-200-cells": lfp_200_cells},
    )

