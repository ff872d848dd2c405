"""Fault injection: what can be injected where, and how it changes a measured value.

Measurement faults sit between the plant and the module under test: they change what
``Bench.measurements()`` delivers, never the plant truth. Contactor and precharge-circuit
faults act on the HV circuit itself.

Time windows: a fault is active for start_s ≤ t < end_s (end_s None: for ever). For the
signals of a sampling sensor (the cell monitor, the isolation monitor) t is the time of the
sample being delivered, so a fault reaches the module with the sensor's next sample, as
it would on real hardware. Every other measured signal is sampled every step.

One class per kind (a small discriminated union on ``kind``), each checking its own
parameters and applying itself; :func:`fault_of` builds one from its kind's name:
  offset     value += value                  gain   value *= factor
  noise      value += N(0, std) per sample   ramp   value += rate · (t − start_s)
  stuck      the value freezes at what the first affected sample delivered, or at
             ``value`` when given (stuck-at, e.g. a feedback stuck at False); on a float
             signal ``value`` may be NaN or ±inf: a reading that is no measurement at all
  dropout    the sensor stops delivering: every value of that sensor is held and its age
             keeps growing (cell monitor: all cell voltages and temperatures; current
             sensor: pack current, pack and link voltage). ``index`` is not used.
  open_wire  cell_voltage_V[index] reads 0 V, cell_temperature_degC[index] reads −50 °C,
             and the matching *_valid[index] is False (index None: every channel)
  welded, fail_to_close            on main_positive, main_negative, precharge
  open_resistor, shorted_link      on precharge (the precharge resistor / the DC link)

Front-end faults act on the plant side of a cell monitor under test: they change the
``true_*`` inputs it reads (``Bench.plant_inputs()``), as its input pins would see them,
never ``truth()``:
  open_sense_wire  on true_cell_voltage_V; index is the sense wire, 0 (below cell 1) …
                   n_cells (above the last cell): the cells on either side of it have no
                   defined voltage (NaN, null on the wire)
  open_sensor      on true_cell_temperature_degC[index]: the input sits at the cold rail,
                   the bottom of the signal's range
  shorted_sensor   on true_cell_temperature_degC[index]: the hot rail, the top of its range

Pin faults are the front-end faults of the other hardware-abstraction blocks under test
(current sensor, isolation monitor, contactor driver): they act on a scalar ``true_*`` input
(``index`` is not used):
  no_reading         on true_pack_current_A, true_pack_voltage_V, true_link_voltage_V,
                     true_insulation_resistance_ohm: the sensor delivers nothing (NaN)
  stuck_aux_contact  on true_main_positive_closed, true_main_negative_closed,
                     true_precharge_closed: the auxiliary contact reads ``value`` whatever
                     the main contacts do

ADC faults are a drifted conversion at the front end of a hardware-abstraction block under
test: on true_cell_voltage_V (``index`` one cell; None every cell: a drift of the cell
monitor's common reference) and on the float pins (``index`` not used). The error starts at
its own value at start_s and drifts by ``rate`` per second from there (t: the pins' time):
  adc_gain    reading *= factor + rate · (t − start_s)
  adc_offset  reading += value + rate · (t − start_s)    (value and rate in the signal's unit)
A block under test cannot tell such an error from the plant, so it is judged on a whole
module: the safety supervisor's pack-voltage plausibility check (OBSA-SAFE-020) is what
finds a cell monitor and a pack-voltage measurement that disagree.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .clock import TIME_EPS_S


class FaultError(ValueError):
    """A fault names a signal or kind the bench cannot inject, or lacks a parameter."""


# measured signal → (sensor, value type); value types: float, bool, float[], bool[]
MEASURED_SIGNALS: dict[str, tuple[str, str]] = {
    "cell_voltage_V": ("cell_monitor", "float[]"),
    "cell_voltage_valid": ("cell_monitor", "bool[]"),
    "cell_temperature_degC": ("cell_monitor", "float[]"),
    "cell_temperature_valid": ("cell_monitor", "bool[]"),
    "cell_monitor_age_s": ("age", "float"),
    "pack_current_A": ("current_sensor", "float"),
    "current_sensor_age_s": ("age", "float"),
    "pack_voltage_V": ("current_sensor", "float"),
    "link_voltage_V": ("current_sensor", "float"),
    "insulation_resistance_ohm": ("isolation_monitor", "float"),
    "main_positive_closed_fb": ("contactor_driver", "bool"),
    "main_negative_closed_fb": ("contactor_driver", "bool"),
    "precharge_closed_fb": ("contactor_driver", "bool"),
}
_OPEN_WIRE_SIGNALS = ("cell_voltage_V", "cell_temperature_degC")


def _finite(value: object) -> bool:
    """A finite int or float (a bool counts as 0 or 1, like the stuck-at value False)."""
    return isinstance(value, int | float) and math.isfinite(value)


class ActiveFault:
    """An injected fault with its run-time state (the frozen value of a stuck fault)."""

    __slots__ = ("fault", "frozen")

    def __init__(self, fault: Fault) -> None:
        self.fault = fault
        self.frozen: object = None


@dataclass(frozen=True, kw_only=True)
class Fault:
    """One fault on one signal, active for start_s ≤ t < end_s (end_s None: for ever).
    A kind is a subclass; see the module docstring for what each does."""

    #: the kind's name, as the catalogue and reports spell it
    kind: ClassVar[str] = ""
    signal: str
    index: int | None = None
    start_s: float = 0.0
    end_s: float | None = None

    def _bad(self, message: str) -> FaultError:
        return FaultError(f"Fault(signal={self.signal!r}, kind={self.kind!r}): {message}")

    def __post_init__(self) -> None:
        if type(self) is Fault:
            raise FaultError("Fault is the base of the fault kinds; inject one of them "
                             f"({', '.join(KINDS)})")
        self._check_signal()
        if isinstance(self.start_s, bool) or not _finite(self.start_s):
            raise self._bad(f"start_s: expected a finite time in s, found {self.start_s!r}")
        if self.end_s is not None and not (
                isinstance(self.end_s, int | float) and self.end_s > self.start_s):
            raise self._bad(f"end_s: expected None or > start_s ({self.start_s!r}), "
                            f"found {self.end_s!r}")
        self._check_parameters()

    def _check_signal(self) -> None:
        raise NotImplementedError

    def _check_parameters(self) -> None:
        """A kind's own parameters (none by default)."""

    def _needs_finite(self, name: str) -> None:
        v = getattr(self, name)
        if isinstance(v, bool) or not _finite(v):
            raise self._bad(f"needs a finite number {name}=…, found {v!r}")

    def active(self, t_s: float) -> bool:
        """True when the fault acts at simulated time ``t_s``."""
        t = t_s + TIME_EPS_S
        return t >= self.start_s and (self.end_s is None or t < self.end_s)

    @property
    def sensor(self) -> str:
        """The sensor that delivers this fault's signal ("hv" for circuit faults)."""
        return MEASURED_SIGNALS[self.signal][0] if self.signal in MEASURED_SIGNALS else "hv"

    @property
    def parameters(self) -> dict[str, Any]:
        """The kind's own parameters (for reports)."""
        base = {"signal", "index", "start_s", "end_s"}
        return {k: v for k, v in vars(self).items() if k not in base}


# ----------------------------------------------------------------------------- measurements
@dataclass(frozen=True, kw_only=True)
class MeasurementFault(Fault):
    """A fault between the plant and the module: it changes what a sensor delivers."""

    #: the value types (MEASURED_SIGNALS) this kind applies to
    value_types: ClassVar[tuple[str, ...]] = ()
    #: what an age signal cannot take (it belongs to no sensor of its own)
    on_ages: ClassVar[bool] = True

    def _check_signal(self) -> None:
        if self.signal not in MEASURED_SIGNALS:
            known = ", ".join([*MEASURED_SIGNALS, *HV_FAULTS])
            if self.signal in HV_FAULTS:
                raise self._bad(f"expected a kind among {', '.join(HV_FAULTS[self.signal])}")
            raise self._bad(f"unknown signal; expected one of {known}")
        sensor, vtype = MEASURED_SIGNALS[self.signal]
        if not self.takes(self.signal):
            kinds = [k for k, cls in KINDS.items() if issubclass(cls, MeasurementFault)
                     and cls.takes(self.signal)]
            raise self._bad(f"a {vtype} signal takes a kind among {', '.join(kinds)}")
        if self.index is not None:
            if not vtype.endswith("[]"):
                raise self._bad(f"index is only for array signals, found index={self.index!r}")
            if not isinstance(self.index, int) or isinstance(self.index, bool) or self.index < 0:
                raise self._bad(f"index: expected an integer ≥ 0, found {self.index!r}")

    @classmethod
    def takes(cls, signal: str) -> bool:
        """Whether this kind can be injected on ``signal``."""
        sensor, vtype = MEASURED_SIGNALS[signal]
        return vtype in cls.value_types and (cls.on_ages or sensor != "age")

    def on_scalar(self, value: Any, state: ActiveFault, t_s: float,
                  normal: np.random.Generator) -> Any:
        """The delivered scalar with this fault acting on ``value``."""
        raise NotImplementedError

    def on_array(self, values: np.ndarray, idx: int | slice, state: ActiveFault, t_s: float,
                 normal: np.random.Generator, open_wire_value: float) -> None:
        """Act on ``values[idx]`` in place (``values`` is the bench's own copy)."""
        raise NotImplementedError


_NUMBERS = ("float[]", "float")


@dataclass(frozen=True, kw_only=True)
class Offset(MeasurementFault):
    kind: ClassVar[str] = "offset"
    value_types: ClassVar[tuple[str, ...]] = _NUMBERS
    value: float = math.nan  # not given: refused by the check

    def _check_parameters(self) -> None:
        self._needs_finite("value")

    def on_scalar(self, value: Any, state: ActiveFault, t_s: float,
                  normal: np.random.Generator) -> Any:
        return value + self.value

    def on_array(self, values: np.ndarray, idx: int | slice, state: ActiveFault, t_s: float,
                 normal: np.random.Generator, open_wire_value: float) -> None:
        values[idx] += self.value


@dataclass(frozen=True, kw_only=True)
class Gain(MeasurementFault):
    kind: ClassVar[str] = "gain"
    value_types: ClassVar[tuple[str, ...]] = _NUMBERS
    factor: float = math.nan

    def _check_parameters(self) -> None:
        self._needs_finite("factor")

    def on_scalar(self, value: Any, state: ActiveFault, t_s: float,
                  normal: np.random.Generator) -> Any:
        return value * self.factor

    def on_array(self, values: np.ndarray, idx: int | slice, state: ActiveFault, t_s: float,
                 normal: np.random.Generator, open_wire_value: float) -> None:
        values[idx] *= self.factor


@dataclass(frozen=True, kw_only=True)
class Noise(MeasurementFault):
    kind: ClassVar[str] = "noise"
    value_types: ClassVar[tuple[str, ...]] = _NUMBERS
    std: float = math.nan

    def _check_parameters(self) -> None:
        self._needs_finite("std")
        if self.std < 0:
            raise self._bad(f"std: expected ≥ 0, found {self.std!r}")

    def on_scalar(self, value: Any, state: ActiveFault, t_s: float,
                  normal: np.random.Generator) -> Any:
        return value + self.std * float(normal.standard_normal())

    def on_array(self, values: np.ndarray, idx: int | slice, state: ActiveFault, t_s: float,
                 normal: np.random.Generator, open_wire_value: float) -> None:
        values[idx] += self.std * normal.standard_normal(np.shape(values[idx]))


@dataclass(frozen=True, kw_only=True)
class Ramp(MeasurementFault):
    kind: ClassVar[str] = "ramp"
    value_types: ClassVar[tuple[str, ...]] = _NUMBERS
    rate: float = math.nan  # signal units per second

    def _check_parameters(self) -> None:
        self._needs_finite("rate")

    def on_scalar(self, value: Any, state: ActiveFault, t_s: float,
                  normal: np.random.Generator) -> Any:
        return value + self.rate * (t_s - self.start_s)

    def on_array(self, values: np.ndarray, idx: int | slice, state: ActiveFault, t_s: float,
                 normal: np.random.Generator, open_wire_value: float) -> None:
        values[idx] += self.rate * (t_s - self.start_s)


@dataclass(frozen=True, kw_only=True)
class Stuck(MeasurementFault):
    """Frozen at what the first affected sample delivered, or at ``value`` (stuck-at; on a
    float signal NaN or ±inf: a reading that is no measurement at all)."""

    kind: ClassVar[str] = "stuck"
    value_types: ClassVar[tuple[str, ...]] = ("float[]", "bool[]", "float", "bool")
    value: float | bool | None = None

    def _check_parameters(self) -> None:
        if self.value is None or _finite(self.value):
            return
        vtype = MEASURED_SIGNALS[self.signal][1]
        if not (vtype.startswith("float") and isinstance(self.value, float)):
            raise self._bad(f"value: expected a finite number or a bool, found {self.value!r}")

    def on_scalar(self, value: Any, state: ActiveFault, t_s: float,
                  normal: np.random.Generator) -> Any:
        if self.value is not None:
            return type(value)(self.value)
        if state.frozen is None:
            state.frozen = value
        return state.frozen

    def on_array(self, values: np.ndarray, idx: int | slice, state: ActiveFault, t_s: float,
                 normal: np.random.Generator, open_wire_value: float) -> None:
        if self.value is not None:
            values[idx] = self.value
            return
        if state.frozen is None:
            state.frozen = np.copy(values[idx])
        values[idx] = state.frozen


@dataclass(frozen=True, kw_only=True)
class Dropout(MeasurementFault):
    """The sensor stops delivering: the bench's sensor holds every value and its age grows;
    on a contactor feedback (no sensor of its own) the value is held here."""

    kind: ClassVar[str] = "dropout"
    value_types: ClassVar[tuple[str, ...]] = ("float[]", "float", "bool")
    on_ages: ClassVar[bool] = False

    def on_scalar(self, value: Any, state: ActiveFault, t_s: float,
                  normal: np.random.Generator) -> Any:
        if state.frozen is None:
            state.frozen = value
        return state.frozen

    def on_array(self, values: np.ndarray, idx: int | slice, state: ActiveFault, t_s: float,
                 normal: np.random.Generator, open_wire_value: float) -> None:
        """Nothing here: the sensor stopped sampling (Bench)."""


@dataclass(frozen=True, kw_only=True)
class OpenWire(MeasurementFault):
    """cell_voltage_V[index] reads 0 V, cell_temperature_degC[index] −50 °C, and the matching
    *_valid[index] is False (index None: every channel)."""

    kind: ClassVar[str] = "open_wire"
    value_types: ClassVar[tuple[str, ...]] = ("float[]",)

    @classmethod
    def takes(cls, signal: str) -> bool:
        return signal in _OPEN_WIRE_SIGNALS

    def _check_signal(self) -> None:
        if self.signal in MEASURED_SIGNALS and MEASURED_SIGNALS[self.signal][1] == "float[]" \
                and self.signal not in _OPEN_WIRE_SIGNALS:
            raise self._bad(f"open_wire applies to {' and '.join(_OPEN_WIRE_SIGNALS)}")
        super()._check_signal()

    def on_array(self, values: np.ndarray, idx: int | slice, state: ActiveFault, t_s: float,
                 normal: np.random.Generator, open_wire_value: float) -> None:
        values[idx] = open_wire_value


# ----------------------------------------------------------------------------- front end
#: the plant signals a cell monitor under test reads, with their ranges (the dictionary's
#: ranges of true_cell_voltage_V and true_cell_temperature_degC; a test checks them)
FRONT_END_SIGNALS: dict[str, tuple[float, float]] = {
    "true_cell_voltage_V": (0.0, 6.0),
    "true_cell_temperature_degC": (-60.0, 200.0),
}


@dataclass(frozen=True, kw_only=True)
class FrontEndFault(Fault):
    """A fault at the input pins of a cell monitor under test (see the module docstring)."""

    #: the plant signal this kind acts on
    plant_signal: ClassVar[str] = ""

    def _check_signal(self) -> None:
        if self.signal != self.plant_signal:
            raise self._bad(f"expected signal {self.plant_signal!r}")
        if self.index is None or isinstance(self.index, bool) or not isinstance(
                self.index, int) or self.index < 0:
            raise self._bad(f"index: expected an integer ≥ 0, found {self.index!r}")

    def channels(self, n_cells: int, n_temp_sensors: int) -> int:
        """How many positions ``index`` can take on a pack of this size."""
        return n_temp_sensors

    def on_plant(self, values: np.ndarray) -> None:
        """Act on the plant-side array in place."""
        raise NotImplementedError

    def on_pins(self, pins: dict[str, Any], t_s: float) -> None:
        """Act on the plant inputs (``Bench.plant_inputs()``) at time ``t_s`` in place."""
        self.on_plant(pins[self.signal])


@dataclass(frozen=True, kw_only=True)
class OpenSenseWire(FrontEndFault):
    """Sense wire ``index`` (0 below cell 1 … n_cells above the last) is open: the cells on
    either side of it read NaN at the front end's input."""

    kind: ClassVar[str] = "open_sense_wire"
    plant_signal: ClassVar[str] = "true_cell_voltage_V"

    def channels(self, n_cells: int, n_temp_sensors: int) -> int:
        return n_cells + 1

    def on_plant(self, values: np.ndarray) -> None:
        assert self.index is not None
        values[max(self.index - 1, 0):self.index + 1] = math.nan


@dataclass(frozen=True, kw_only=True)
class OpenSensor(FrontEndFault):
    """Temperature sensor ``index`` is open: its input sits at the bottom of the range."""

    kind: ClassVar[str] = "open_sensor"
    plant_signal: ClassVar[str] = "true_cell_temperature_degC"

    def on_plant(self, values: np.ndarray) -> None:
        values[self.index] = FRONT_END_SIGNALS[self.plant_signal][0]


@dataclass(frozen=True, kw_only=True)
class ShortedSensor(FrontEndFault):
    """Temperature sensor ``index`` is shorted: its input sits at the top of the range."""

    kind: ClassVar[str] = "shorted_sensor"
    plant_signal: ClassVar[str] = "true_cell_temperature_degC"

    def on_plant(self, values: np.ndarray) -> None:
        values[self.index] = FRONT_END_SIGNALS[self.plant_signal][1]


# ----------------------------------------------------------------------------- input pins
#: the scalar plant signals of the current sensor, isolation monitor and contactor driver
#: (``Bench.plant_inputs()``) with their value types
PIN_SIGNALS: dict[str, str] = {
    "true_pack_current_A": "float",
    "true_pack_voltage_V": "float",
    "true_link_voltage_V": "float",
    "true_insulation_resistance_ohm": "float",
    "true_main_positive_closed": "bool",
    "true_main_negative_closed": "bool",
    "true_precharge_closed": "bool",
}


@dataclass(frozen=True, kw_only=True)
class PinFault(FrontEndFault):
    """A fault at a scalar input pin of a hardware-abstraction block under test (see the
    module docstring); ``index`` is not used."""

    #: the value types (PIN_SIGNALS) this kind acts on
    value_types: ClassVar[tuple[str, ...]] = ()

    def _check_signal(self) -> None:
        if PIN_SIGNALS.get(self.signal) not in self.value_types:
            known = [s for s, vtype in PIN_SIGNALS.items() if vtype in self.value_types]
            raise self._bad(f"expected a signal among {', '.join(known)}")
        if self.index is not None:
            raise self._bad(f"index is only for array signals, found index={self.index!r}")

    def channels(self, n_cells: int, n_temp_sensors: int) -> int:
        return 1

    def on_pins(self, pins: dict[str, Any], t_s: float) -> None:
        pins[self.signal] = self.on_pin(pins[self.signal])

    def on_pin(self, value: Any) -> Any:
        """The value the pin delivers with this fault acting on ``value``."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class NoReading(PinFault):
    """The sensor delivers nothing: its input reads NaN."""

    kind: ClassVar[str] = "no_reading"
    value_types: ClassVar[tuple[str, ...]] = ("float",)

    def on_pin(self, value: Any) -> Any:
        return math.nan


@dataclass(frozen=True, kw_only=True)
class StuckAuxContact(PinFault):
    """The auxiliary contact is stuck: it reads ``value`` whatever the main contacts do."""

    kind: ClassVar[str] = "stuck_aux_contact"
    value_types: ClassVar[tuple[str, ...]] = ("bool",)
    value: bool | None = None  # not given: refused by the check

    def _check_parameters(self) -> None:
        if not isinstance(self.value, bool):
            raise self._bad(f"value: expected True or False, found {self.value!r}")

    def on_pin(self, value: Any) -> Any:
        return self.value


# ----------------------------------------------------------------------------- conversions
#: the plant signals an ADC of a block under test converts: the cell voltages at the cell
#: monitor's inputs and the float pins of the other blocks
ADC_SIGNALS: tuple[str, ...] = ("true_cell_voltage_V", *(
    s for s, vtype in PIN_SIGNALS.items() if vtype == "float"))


@dataclass(frozen=True, kw_only=True)
class AdcFault(FrontEndFault):
    """A drifted conversion at the input pins of a block under test (see the module
    docstring): the error is the kind's own at start_s, changing by ``rate`` per second."""

    rate: float = 0.0

    def _check_signal(self) -> None:
        if self.signal not in ADC_SIGNALS:
            raise self._bad(f"expected a signal among {', '.join(ADC_SIGNALS)}")
        if self.signal in PIN_SIGNALS:
            if self.index is not None:
                raise self._bad("index is only for true_cell_voltage_V (a cell), found "
                                f"index={self.index!r}")
        elif self.index is not None and (isinstance(self.index, bool) or not isinstance(
                self.index, int) or self.index < 0):
            raise self._bad(f"index: expected None (every cell) or an integer ≥ 0, found "
                            f"{self.index!r}")

    def _check_parameters(self) -> None:
        self._needs_finite("rate")

    def channels(self, n_cells: int, n_temp_sensors: int) -> int:
        return n_cells if self.signal == "true_cell_voltage_V" else 1

    def on_pins(self, pins: dict[str, Any], t_s: float) -> None:
        elapsed = t_s - self.start_s
        if self.signal in PIN_SIGNALS:
            pins[self.signal] = self.convert(float(pins[self.signal]), elapsed)
            return
        values = pins[self.signal]
        idx: int | slice = slice(None) if self.index is None else self.index
        values[idx] = self.convert(values[idx], elapsed)

    def convert(self, value: Any, elapsed_s: float) -> Any:
        """What the drifted conversion makes of ``value`` (a float or an array)
        ``elapsed_s`` after start_s."""
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class AdcGain(AdcFault):
    """The conversion's gain is ``factor`` at start_s and drifts by ``rate`` per second."""

    kind: ClassVar[str] = "adc_gain"
    factor: float = 1.0

    def _check_parameters(self) -> None:
        super()._check_parameters()
        self._needs_finite("factor")
        if not self.factor > 0:
            raise self._bad(f"factor: expected a gain > 0, found {self.factor!r}")
        if self.factor == 1 and self.rate == 0:
            raise self._bad("a gain of 1 that does not drift is no fault: give factor ≠ 1 "
                            "or rate ≠ 0")

    def convert(self, value: Any, elapsed_s: float) -> Any:
        return value * (self.factor + self.rate * elapsed_s)


@dataclass(frozen=True, kw_only=True)
class AdcOffset(AdcFault):
    """The conversion is offset by ``value`` at start_s, drifting by ``rate`` per second."""

    kind: ClassVar[str] = "adc_offset"
    value: float = 0.0

    def _check_parameters(self) -> None:
        super()._check_parameters()
        self._needs_finite("value")
        if self.value == 0 and self.rate == 0:
            raise self._bad("an offset of 0 that does not drift is no fault: give value ≠ 0 "
                            "or rate ≠ 0")

    def convert(self, value: Any, elapsed_s: float) -> Any:
        return value + (self.value + self.rate * elapsed_s)


# ----------------------------------------------------------------------------- HV circuit
@dataclass(frozen=True, kw_only=True)
class CircuitFault(Fault):
    """A fault of the HV circuit itself (a contactor, the precharge circuit)."""

    #: the circuit elements this kind can hit
    signals: ClassVar[tuple[str, ...]] = ()

    def _check_signal(self) -> None:
        if self.signal not in HV_FAULTS:
            if self.signal in MEASURED_SIGNALS:
                vtype = MEASURED_SIGNALS[self.signal][1]
                kinds = [k for k, cls in KINDS.items() if issubclass(cls, MeasurementFault)
                         and cls.takes(self.signal)]
                raise self._bad(f"a {vtype} signal takes a kind among {', '.join(kinds)}")
            known = ", ".join([*MEASURED_SIGNALS, *HV_FAULTS])
            raise self._bad(f"unknown signal; expected one of {known}")
        if self.signal not in self.signals:
            raise self._bad(f"expected a kind among {', '.join(HV_FAULTS[self.signal])}")
        if self.index is not None:
            raise self._bad(f"index is only for array signals, found index={self.index!r}")

    def on_circuit(self, hv: Any) -> None:
        """Set this fault on the HV circuit (while it is active)."""
        raise NotImplementedError


_CONTACTORS = ("main_positive", "main_negative", "precharge")


@dataclass(frozen=True, kw_only=True)
class Welded(CircuitFault):
    kind: ClassVar[str] = "welded"
    signals: ClassVar[tuple[str, ...]] = _CONTACTORS

    def on_circuit(self, hv: Any) -> None:
        getattr(hv, self.signal).welded = True


@dataclass(frozen=True, kw_only=True)
class FailToClose(CircuitFault):
    kind: ClassVar[str] = "fail_to_close"
    signals: ClassVar[tuple[str, ...]] = _CONTACTORS

    def on_circuit(self, hv: Any) -> None:
        getattr(hv, self.signal).fail_to_close = True


@dataclass(frozen=True, kw_only=True)
class OpenResistor(CircuitFault):
    """The precharge resistor is open: the DC link never precharges."""

    kind: ClassVar[str] = "open_resistor"
    signals: ClassVar[tuple[str, ...]] = ("precharge",)

    def on_circuit(self, hv: Any) -> None:
        hv.open_resistor = True


@dataclass(frozen=True, kw_only=True)
class ShortedLink(CircuitFault):
    """The DC link is shorted: it never charges up."""

    kind: ClassVar[str] = "shorted_link"
    signals: ClassVar[tuple[str, ...]] = ("precharge",)

    def on_circuit(self, hv: Any) -> None:
        hv.shorted_link = True


#: every fault kind by its name, measurement kinds first
KINDS: dict[str, type[Fault]] = {cls.kind: cls for cls in (
    Offset, Gain, Noise, Stuck, Ramp, Dropout, OpenWire,
    Welded, FailToClose, OpenResistor, ShortedLink,
    OpenSenseWire, OpenSensor, ShortedSensor, NoReading, StuckAuxContact, AdcGain, AdcOffset)}
#: circuit element → the kinds it takes
HV_FAULTS: dict[str, tuple[str, ...]] = {
    signal: tuple(k for k, cls in KINDS.items()
                  if issubclass(cls, CircuitFault) and signal in cls.signals)
    for signal in _CONTACTORS}


def fault_of(kind: str, **fields: Any) -> Fault:
    """The fault of kind ``kind`` with ``fields`` (a field given as None is left out: not
    given) — for faults drawn or listed by name."""
    cls = KINDS.get(kind)
    if cls is None:
        raise FaultError(f"Fault(signal={fields.get('signal')!r}, kind={kind!r}): unknown kind; "
                         f"expected one of {', '.join(KINDS)}")
    given = {k: v for k, v in fields.items() if v is not None}
    try:
        return cls(**given)
    except TypeError as exc:
        raise FaultError(f"Fault(signal={fields.get('signal')!r}, kind={kind!r}): {exc}"
                         ) from None


def catalogue() -> tuple[tuple[str, str], ...]:
    """Every (signal, kind) pair the bench can inject: each measured signal with the kinds
    its type takes, then each HV circuit fault — what a random scenario draws from."""
    pairs = [(signal, kind) for signal in MEASURED_SIGNALS for kind, cls in KINDS.items()
             if issubclass(cls, MeasurementFault) and cls.takes(signal)]
    pairs += [(signal, kind) for signal, kinds in HV_FAULTS.items() for kind in kinds]
    return tuple(pairs)


def apply_to_scalar(
    value: float | bool, faults: list[ActiveFault], t_s: float, normal: np.random.Generator
) -> float | bool:
    """The value as delivered with the active ``faults`` of its signal (in injection order).

    Dropout of a sampling sensor is handled by the sensor (it stops sampling); here a
    dropout only holds a contactor feedback, which has no sensor of its own.
    """
    for af in faults:
        f = af.fault
        if f.active(t_s):
            assert isinstance(f, MeasurementFault)
            value = f.on_scalar(value, af, t_s, normal)
    return value


def apply_to_array(
    values: np.ndarray,
    valid: np.ndarray | None,
    faults: list[ActiveFault],
    t_s: float,
    normal: np.random.Generator,
    open_wire_value: float,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Faulted copies of a sensor array (and of its valid flags, for open wire).

    Returns the inputs themselves when no fault is active, so the common case copies
    nothing.
    """
    copied = copied_valid = False
    for af in faults:
        f = af.fault
        if not f.active(t_s) or isinstance(f, Dropout):
            continue
        assert isinstance(f, MeasurementFault)
        if not copied:
            values = values.copy()
            copied = True
        idx: int | slice = slice(None) if f.index is None else f.index
        f.on_array(values, idx, af, t_s, normal, open_wire_value)
        if isinstance(f, OpenWire) and valid is not None:
            if not copied_valid:
                valid = valid.copy()
                copied_valid = True
            valid[idx] = False
    if copied:
        values.flags.writeable = False
    if copied_valid and valid is not None:
        valid.flags.writeable = False
    return values, valid
