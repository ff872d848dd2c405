"""Fault injection: what can be injected where, and how it changes a measured value.

Measurement faults sit between the plant and the module under test: they change what
``Bench.measurements()`` delivers, never the plant truth. Contactor and precharge-circuit
faults act on the HV circuit itself.

Time windows: a fault is active for start_s ≤ t < end_s (end_s None: for ever). For the
signals of a sampling sensor (the cell monitor, the isolation monitor) t is the time of the
sample being delivered, so a fault reaches the module with the sensor's next sample, as
it would on real hardware. Every other measured signal is sampled every step.

Kinds:
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
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .clock import TIME_EPS_S


class FaultError(ValueError):
    """A Fault names a signal or kind the bench cannot inject, or lacks a parameter."""


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
HV_FAULTS: dict[str, tuple[str, ...]] = {
    "main_positive": ("welded", "fail_to_close"),
    "main_negative": ("welded", "fail_to_close"),
    "precharge": ("welded", "fail_to_close", "open_resistor", "shorted_link"),
}
_KINDS_BY_TYPE = {
    "float[]": ("offset", "gain", "noise", "stuck", "ramp", "dropout", "open_wire"),
    "bool[]": ("stuck",),
    "float": ("offset", "gain", "noise", "stuck", "ramp", "dropout"),
    "bool": ("stuck", "dropout"),
}
_OPEN_WIRE_SIGNALS = ("cell_voltage_V", "cell_temperature_degC")
_REQUIRED = {"offset": "value", "gain": "factor", "noise": "std", "ramp": "rate"}


@dataclass(frozen=True)
class Fault:
    """One fault to inject; see the module docstring for the kinds and their parameters."""

    signal: str
    kind: str
    index: int | None = None
    start_s: float = 0.0
    end_s: float | None = None
    value: float | bool | None = None  # offset amount; stuck-at value
    factor: float | None = None  # gain
    std: float | None = None  # noise standard deviation
    rate: float | None = None  # ramp, signal units per second

    def __post_init__(self) -> None:
        def bad(message: str) -> FaultError:
            return FaultError(f"Fault(signal={self.signal!r}, kind={self.kind!r}): {message}")

        if self.signal in HV_FAULTS:
            kinds = HV_FAULTS[self.signal]
            if self.kind not in kinds:
                raise bad(f"expected a kind among {', '.join(kinds)}")
            if self.index is not None:
                raise bad(f"index is only for array signals, found index={self.index!r}")
        elif self.signal in MEASURED_SIGNALS:
            sensor, vtype = MEASURED_SIGNALS[self.signal]
            kinds = _KINDS_BY_TYPE[vtype]
            if sensor == "age":
                kinds = tuple(k for k in kinds if k != "dropout")
            if self.kind not in kinds:
                raise bad(f"a {vtype} signal takes a kind among {', '.join(kinds)}")
            if self.kind == "open_wire" and self.signal not in _OPEN_WIRE_SIGNALS:
                raise bad(f"open_wire applies to {' and '.join(_OPEN_WIRE_SIGNALS)}")
            if self.index is not None:
                if not vtype.endswith("[]"):
                    raise bad(f"index is only for array signals, found index={self.index!r}")
                if not isinstance(self.index, int) or isinstance(self.index, bool) \
                        or self.index < 0:
                    raise bad(f"index: expected an integer ≥ 0, found {self.index!r}")
        else:
            known = ", ".join([*MEASURED_SIGNALS, *HV_FAULTS])
            raise bad(f"unknown signal; expected one of {known}")
        needed = _REQUIRED.get(self.kind)
        if needed is not None:
            v = getattr(self, needed)
            if isinstance(v, bool) or not _finite(v):
                raise bad(f"needs a finite number {needed}=…, found {v!r}")
        if self.value is not None and not _finite(self.value) and not self._invalid_reading():
            raise bad(f"value: expected a finite number or a bool, found {self.value!r}")
        if self.kind == "noise" and self.std is not None and self.std < 0:
            raise bad(f"std: expected ≥ 0, found {self.std!r}")
        if isinstance(self.start_s, bool) or not _finite(self.start_s):
            raise bad(f"start_s: expected a finite time in s, found {self.start_s!r}")
        if self.end_s is not None and not (
                isinstance(self.end_s, int | float) and self.end_s > self.start_s):
            raise bad(f"end_s: expected None or > start_s ({self.start_s!r}), found {self.end_s!r}")

    def _invalid_reading(self) -> bool:
        """A float signal stuck at NaN or ±inf (what a broken sensor or driver delivers)."""
        vtype = MEASURED_SIGNALS.get(self.signal, ("", ""))[1]
        return (self.kind == "stuck" and vtype.startswith("float")
                and isinstance(self.value, float) and not math.isfinite(self.value))

    def active(self, t_s: float) -> bool:
        """True when the fault acts at simulated time ``t_s``."""
        t = t_s + TIME_EPS_S
        return t >= self.start_s and (self.end_s is None or t < self.end_s)

    @property
    def sensor(self) -> str:
        """The sensor that delivers this fault's signal ("hv" for circuit faults)."""
        return MEASURED_SIGNALS[self.signal][0] if self.signal in MEASURED_SIGNALS else "hv"


def catalogue() -> tuple[tuple[str, str], ...]:
    """Every (signal, kind) pair the bench can inject: each measured signal with the kinds
    its type takes, then each HV circuit fault — what a random scenario draws from."""
    pairs = []
    for signal, (sensor, vtype) in MEASURED_SIGNALS.items():
        for kind in _KINDS_BY_TYPE[vtype]:
            if (sensor == "age" and kind == "dropout") or (
                    kind == "open_wire" and signal not in _OPEN_WIRE_SIGNALS):
                continue
            pairs.append((signal, kind))
    pairs += [(signal, kind) for signal, kinds in HV_FAULTS.items() for kind in kinds]
    return tuple(pairs)


def _finite(value: object) -> bool:
    """A finite int or float (a bool counts as 0 or 1, like the stuck-at value False)."""
    return isinstance(value, int | float) and math.isfinite(value)


class ActiveFault:
    """An injected fault with its run-time state (the frozen value of a stuck fault)."""

    __slots__ = ("fault", "frozen")

    def __init__(self, fault: Fault) -> None:
        self.fault = fault
        self.frozen: object = None


def apply_to_scalar(
    value: float | bool, faults: list[ActiveFault], t_s: float, normal: np.random.Generator
) -> float | bool:
    """The value as delivered with the active ``faults`` of its signal (in injection order).

    Dropout of a sampling sensor is handled by the sensor (it stops sampling); here a
    dropout only holds a contactor feedback, which has no sensor of its own.
    """
    for af in faults:
        f = af.fault
        if not f.active(t_s):
            continue
        kind = f.kind
        if kind == "offset":
            value += f.value  # type: ignore[operator]
        elif kind == "gain":
            value *= f.factor  # type: ignore[operator]
        elif kind == "noise":
            value += f.std * float(normal.standard_normal())  # type: ignore[operator]
        elif kind == "ramp":
            value += f.rate * (t_s - f.start_s)  # type: ignore[operator]
        elif kind == "stuck" and f.value is not None:
            value = type(value)(f.value)
        elif kind in ("stuck", "dropout"):
            if af.frozen is None:
                af.frozen = value
            value = af.frozen  # type: ignore[assignment]
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
        if not f.active(t_s) or f.kind == "dropout":
            continue
        if not copied:
            values = values.copy()
            copied = True
        idx: int | slice = slice(None) if f.index is None else f.index
        kind = f.kind
        if kind == "offset":
            values[idx] += f.value
        elif kind == "gain":
            values[idx] *= f.factor
        elif kind == "noise":
            values[idx] += f.std * normal.standard_normal(np.shape(values[idx]))  # type: ignore[operator]
        elif kind == "ramp":
            values[idx] += f.rate * (t_s - f.start_s)  # type: ignore[operator]
        elif kind == "stuck":
            if f.value is not None:
                values[idx] = f.value
            else:
                if af.frozen is None:
                    af.frozen = np.copy(values[idx])
                values[idx] = af.frozen
        elif kind == "open_wire":
            values[idx] = open_wire_value
            if valid is not None:
                if not copied_valid:
                    valid = valid.copy()
                    copied_valid = True
                valid[idx] = False
    if copied:
        values.flags.writeable = False
    if copied_valid and valid is not None:
        valid.flags.writeable = False
    return values, valid
