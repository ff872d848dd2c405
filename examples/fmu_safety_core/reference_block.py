"""A reference component wrapped as an FMI 2.0 co-simulation slave (pythonfmu).

Shared by the three FMU scripts of this folder (one FMU per component: an FMU is one
co-simulation block). The variables are named after the dictionary signals of the
component's interface, arrays as one scalar per element (``cell_voltage_V[0]`` …), the
parameters are FMU parameters whose start values are the spec's defaults. What the FMU does:

- ``exit_initialization_mode``: configures the reference component with the parameters the
  environment set (the others keep the component's defaults, exactly as a Python module
  configured by the bench), which also resets it; an ``fmi2Reset`` re-creates the slave;
- ``do_step(t, h)``: steps the component at ``t + h`` with the current inputs (arrays as
  read-only numpy arrays, as the Python transport hands them) and stores its outputs.

The signal types come from the reference implementation's generated interfaces
(``reference_impl.interfaces``), which pythonfmu bundles into the FMU with this file.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from typing import Any

import numpy as np
from pythonfmu import Boolean, Fmi2Causality, Fmi2Slave, Fmi2Variability, Integer, Real

from reference_impl import interfaces

ARRAY_DIMENSION = {
    "cell_voltage_V": "cell", "cell_voltage_valid": "cell",
    "cell_temperature_degC": "temperature_sensor", "cell_temperature_valid": "temperature_sensor",
    "dtc_status": "dtc", "dtc_occurrences": "dtc", "dtc_first_time_s": "dtc",
    "dtc_last_time_s": "dtc",
}
"""The dimension of every array signal of the safety core's three components."""

_VARIABLE = {float: Real, int: Integer, bool: Boolean}


def _records(component: str, suffix: str) -> dict[str, Any]:
    """name → element type (float, int, bool) and whether it is an array, of a record."""
    camel = "".join(part.title() for part in component.split("_"))
    hints = typing.get_type_hints(getattr(interfaces, f"{camel}{suffix}"),
                                  vars(interfaces))
    out = {}
    for name, hint in hints.items():
        args = typing.get_args(hint)
        if typing.get_origin(hint) in (Sequence, list, tuple) and args:
            out[name] = (args[0], True)
        else:
            out[name] = (hint, False)
    return out


class ReferenceBlock(Fmi2Slave):
    """One reference component as an FMU (see the module docstring)."""

    author = "OBSA"
    description = "OBSA reference component as an FMI 2.0 co-simulation FMU"

    def __init__(self, component: str, block: Any, lengths: dict[str, int],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.component = component
        self.block = block
        self.values: dict[str, Any] = {}
        self.given: dict[str, Any] = {}
        defaults = interfaces.PARAMETER_DEFAULTS.get(component, {})
        self._params = dict(defaults)
        for name, default in defaults.items():
            kind = type(default) if type(default) in _VARIABLE else float
            self.register_variable(_VARIABLE[kind](
                name, causality=Fmi2Causality.parameter, variability=Fmi2Variability.fixed,
                getter=lambda n=name: self._params[n],
                setter=lambda v, n=name: self._set_parameter(n, v)))
        self._inputs = _records(component, "Inputs")
        self._outputs = _records(component, "Outputs")
        for causality, record in ((Fmi2Causality.input, self._inputs),
                                  (Fmi2Causality.output, self._outputs)):
            for name, (kind, is_array) in record.items():
                if is_array:
                    n = lengths[ARRAY_DIMENSION[name]]
                    self.values[name] = [kind()] * n
                    for i in range(n):
                        self._register(f"{name}[{i}]", kind, causality,
                                       lambda n=name, i=i: self.values[n][i],
                                       lambda v, n=name, i=i: self._set_element(n, i, v))
                else:
                    self.values[name] = kind()
                    self._register(name, kind, causality,
                                   lambda n=name: self.values[n],
                                   lambda v, n=name: self.values.__setitem__(n, v))

    def _register(self, name: str, kind: type, causality: Fmi2Causality, getter: Any,
                  setter: Any) -> None:
        variability = Fmi2Variability.continuous if kind is float else Fmi2Variability.discrete
        self.register_variable(_VARIABLE[kind](name, causality=causality,
                                               variability=variability, getter=getter,
                                               setter=setter))

    def _set_parameter(self, name: str, value: Any) -> None:
        self._params[name] = value
        self.given[name] = value

    def _set_element(self, name: str, i: int, value: Any) -> None:
        self.values[name][i] = value

    # ---- FMI ---------------------------------------------------------------------
    # pythonfmu's accessors check every variable's class on every call; these look the
    # getter or setter up directly (the step's hot path: ~300 values per step)
    def get_real(self, vrs: list[int]) -> list[float]:
        variables = self.vars
        return [float(variables[vr].getter()) for vr in vrs]

    def get_integer(self, vrs: list[int]) -> list[int]:
        variables = self.vars
        return [int(variables[vr].getter()) for vr in vrs]

    def get_boolean(self, vrs: list[int]) -> list[bool]:
        variables = self.vars
        return [bool(variables[vr].getter()) for vr in vrs]

    def set_real(self, vrs: list[int], values: list[float]) -> None:
        variables = self.vars
        for vr, value in zip(vrs, values, strict=True):
            variables[vr].setter(value)

    set_integer = set_real
    set_boolean = set_real

    def exit_initialization_mode(self) -> None:
        self.block.configure(dict(self.given))

    def do_step(self, current_time: float, step_size: float) -> bool:
        inputs: dict[str, Any] = {}
        for name, (kind, is_array) in self._inputs.items():
            value = self.values[name]
            if is_array:
                value = np.array(value, dtype=np.float64 if kind is float else
                                 np.bool_ if kind is bool else np.int64)
                value.flags.writeable = False
            inputs[name] = value
        outputs = self.block.step(current_time + step_size, inputs)
        for name, (_kind, is_array) in self._outputs.items():
            value = outputs[name]
            self.values[name] = list(np.asarray(value).tolist()) if is_array else value
        return True
