"""Drivers for the reference implementation's unit tests (imported by the test modules).

The tests drive the components directly with synthetic inputs on a 10 ms simulated clock;
no bench is needed. Times are computed as ``k * DT`` (not accumulated) so that they are the
same floats in every run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

from reference_impl.functions.contactors import ContactorManager

DT = 0.01
N_CELLS = 96
N_SENSORS = 32
CELL_V = 3.7


def nominal_safety_inputs() -> dict[str, Any]:
    """A healthy pack at rest: every quantity well inside its MOL."""
    return {
        "cell_voltage_V": np.full(N_CELLS, CELL_V),
        "cell_voltage_valid": np.ones(N_CELLS, dtype=bool),
        "cell_temperature_degC": np.full(N_SENSORS, 25.0),
        "cell_temperature_valid": np.ones(N_SENSORS, dtype=bool),
        "cell_monitor_age_s": 0.05,
        "pack_current_A": 0.0,
        "current_sensor_age_s": 0.0,
        "pack_voltage_V": N_CELLS * CELL_V,
        "insulation_resistance_ohm": 1.0e7,
        "fault_reset_request": False,
    }


@dataclass
class Stepper:
    """Steps one component on the 10 ms clock with a persistent input record."""

    component: Any
    inputs: dict[str, Any]
    k: int = 0
    trace: list[dict[str, Any]] = field(default_factory=list)

    @property
    def t(self) -> float:
        """Time of the next step."""
        return self.k * DT

    def step(self, **changes: Any) -> dict[str, Any]:
        self.inputs.update(changes)
        out = self.component.step(self.k * DT, self.inputs)
        self.trace.append(out)
        self.k += 1
        return out

    def run(self, steps: int, **changes: Any) -> dict[str, Any]:
        """Step ``steps`` times with the same inputs; the last output."""
        self.inputs.update(changes)
        out: dict[str, Any] = {}
        for _ in range(steps):
            out = self.step()
        return out

    def run_until(self, predicate: Callable[[dict[str, Any]], bool], max_steps: int,
                  **changes: Any) -> int:
        """Step until ``predicate(outputs)``; the number of steps taken (including that one)."""
        self.inputs.update(changes)
        for n in range(1, max_steps + 1):
            if predicate(self.step()):
                return n
        raise AssertionError(f"condition not reached within {max_steps} steps")


def cells(value_of_cell_5: float) -> dict[str, Any]:
    """Cell voltages with cell 5 at the given value and a consistent pack voltage."""
    v = np.full(N_CELLS, CELL_V)
    v[5] = value_of_cell_5
    return {"cell_voltage_V": v, "pack_voltage_V": float(v.sum())}


def temperatures(value_of_sensor_3: float) -> dict[str, Any]:
    temps = np.full(N_SENSORS, 25.0)
    temps[3] = value_of_sensor_3
    return {"cell_temperature_degC": temps}


# ------------------------------------------------------------------------ HV circuit model
@dataclass
class HvPlant:
    """A minimal HV circuit for the contactor manager's tests.

    Contactors follow their command after ``delay_steps``; a welded one stays closed, a stuck
    one stays open. The DC link charges through precharge with time constant ``tau_s`` (or
    never, when ``precharges`` is False), follows the pack through main positive and decays
    slowly otherwise.
    """

    pack_V: float = 400.0
    tau_s: float = 0.1
    delay_steps: int = 2
    precharges: bool = True
    welded: set[str] = field(default_factory=set)
    stuck_open: set[str] = field(default_factory=set)
    link_V: float = 0.0
    closed: dict[str, bool] = field(default_factory=lambda: dict.fromkeys(
        ("main_positive", "main_negative", "precharge"), False))
    _pending: dict[str, list[bool]] = field(default_factory=dict)

    def feedback(self) -> dict[str, Any]:
        return {
            "pack_voltage_V": self.pack_V,
            "link_voltage_V": self.link_V,
            "main_positive_closed_fb": self.closed["main_positive"],
            "main_negative_closed_fb": self.closed["main_negative"],
            "precharge_closed_fb": self.closed["precharge"],
        }

    def apply(self, outputs: dict[str, Any]) -> None:
        for name in self.closed:
            queue = self._pending.setdefault(name, [False] * self.delay_steps)
            queue.append(bool(outputs[f"{name}_close_cmd"]))
            target = queue.pop(0)
            if name in self.welded and self.closed[name]:
                target = True
            if name in self.stuck_open:
                target = False
            self.closed[name] = target
        c = self.closed
        if c["main_negative"] and c["main_positive"]:
            self.link_V = self.pack_V
        elif c["main_negative"] and c["precharge"] and self.precharges:
            self.link_V += (self.pack_V - self.link_V) * (1.0 - np.exp(-DT / self.tau_s))
        else:
            self.link_V *= 0.999


@dataclass
class ContactorLoop:
    """The contactor manager in closed loop with :class:`HvPlant`."""

    manager: ContactorManager
    plant: HvPlant
    close_request: bool = False
    contactor_open_request: bool = False
    fault_reset_request: bool = False
    k: int = 0
    trace: list[dict[str, Any]] = field(default_factory=list)

    def step(self, **commands: bool) -> dict[str, Any]:
        for name, value in commands.items():
            setattr(self, name, value)
        inputs = {
            "close_request": self.close_request,
            "contactor_open_request": self.contactor_open_request,
            "fault_reset_request": self.fault_reset_request,
            **self.plant.feedback(),
        }
        out = self.manager.step(self.k * DT, inputs)
        out = dict(out, t=self.k * DT, link_voltage_V=inputs["link_voltage_V"])
        self.trace.append(out)
        self.plant.apply(out)
        self.k += 1
        return out

    def run(self, steps: int, **commands: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for i in range(steps):
            out = self.step(**(commands if i == 0 else {}))
        return out


@cache
def reply_check(component: str, cells: int, sensors: int) -> Callable[[Any], None]:
    """The suite's compiled check of ``component``'s replies for a pack of ``cells`` cells
    and ``sensors`` temperature sensors (raises AdapterError naming the field)."""
    from conformance.adapters.validation import compile_outputs
    from conformance.spec import load_spec

    return compile_outputs(load_spec(), component, {"cell": cells,
                                                   "temperature_sensor": sensors})


def unchecked(component: str, checked: Iterable[str]) -> set[str]:
    """The requirements of ``component`` verified by test that ``checked`` leaves out."""
    from conformance.spec import load_spec

    tested = {rid for rid, r in load_spec().requirements.items()
              if r.component == component and r.verification == "test"}
    assert tested, f"no requirement of {component} is verified by test"
    return tested - set(checked)
