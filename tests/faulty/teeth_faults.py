"""Faulty modules that a suite with one fixed stimulus per test case certified.

Each is the reference component with one realistic defect that hides in a cell, sensor,
limit kind or contactor the old test cases never stimulated (they drove one fixed index,
one limit, one contactor), or just inside a criterion that was judged too narrowly. The
suite now stimulates the first, the last and seeded channels and every instance of a
generic requirement, so each must be rejected for its requirement(s).

``may_break`` lists the requirements whose stimulated channel is drawn from the run's seed:
whether they fail depends on the draw, and either verdict is right.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from reference_impl.functions.contactors import Contactor, ContactorManager
from reference_impl.functions.safety import SafetySupervisor
from reference_impl.interfaces import ContactorManagerFault as CF
from reference_impl.interfaces import ContactorState
from reference_impl.interfaces import SafetySupervisorFault as F

from .modules import Faulty

#: cells or sensors on one slave board of the prototype the defects were written on
ONE_SLAVE = 16


def _first_slave_only(values: Any) -> np.ndarray:
    """Channels beyond the first slave replaced by that slave's mean (an array bound taken
    from a one-board prototype; the sum stays nearly right, so nothing else notices)."""
    v = np.array(values, dtype=float)
    if len(v) > ONE_SLAVE:
        v[ONE_SLAVE:] = np.mean(v[:ONE_SLAVE])
    return v


def _last_slave_skipped(values: Any) -> np.ndarray:
    """The last slave's channels replaced by the mean of the others: the board loop runs
    ``range(n_boards - 1)`` (an off-by-one)."""
    v = np.array(values, dtype=float)
    if len(v) > ONE_SLAVE:
        v[-ONE_SLAVE:] = np.mean(v[:-ONE_SLAVE])
    return v


class LastSlaveCellsUnchecked(SafetySupervisor):
    """Takes the cell-voltage extremes over every slave board but the last one."""

    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return super().step(t, {**inputs,
                                "cell_voltage_V": _last_slave_skipped(inputs["cell_voltage_V"])})


class FirstSixteenSensorsOnly(SafetySupervisor):
    """Supervises temperature sensors 1–16 only (a fixed-size array in the firmware)."""

    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return super().step(t, {**inputs, "cell_temperature_degC": _first_slave_only(
            inputs["cell_temperature_degC"])})


_TEMPERATURE_FAULTS = (int(F.CHARGE_OVERTEMPERATURE) | int(F.CHARGE_UNDERTEMPERATURE)
                       | int(F.DISCHARGE_OVERTEMPERATURE) | int(F.DISCHARGE_UNDERTEMPERATURE))


class TemperatureFaultsSelfClear(SafetySupervisor):
    """Temperature faults were written as comparators with hysteresis, not latches: they
    clear by themselves once the temperature is back (voltage and current faults latch)."""

    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if self._latched and not self._latched & ~_TEMPERATURE_FAULTS:
            inputs = {**inputs, "fault_reset_request": True}
        return super().step(t, inputs)


class NoUndervoltageWarning(SafetySupervisor):
    """Raises the MOL warning for an upper limit only: a low cell never warns."""

    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super().step(t, inputs)
        return {**out, "safety_warning_flags": int(out["safety_warning_flags"])
                & ~int(F.CELL_UNDERVOLTAGE)}


class PlausibilityToleranceDoubled(SafetySupervisor):
    """Compares pack voltage and cell sum against twice the declared tolerance (the
    tolerance applied once per sensor)."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._tolerance_V *= 2.0


class _NoWeldCheck(Contactor):
    __slots__ = ()

    def supervise(self, feedback_closed: bool, t: float, timeout_s: float) -> int:
        return super().supervise(feedback_closed, t, timeout_s) if self.command else 0


class WeldCheckMainPositiveOnly(ContactorManager):
    """Weld detection was implemented for the main positive contactor only."""

    def reset(self) -> None:
        super().reset()
        self._negative = _NoWeldCheck("main_negative", int(CF.MAIN_NEGATIVE_WELDED))
        self._precharge = _NoWeldCheck("precharge", int(CF.PRECHARGE_WELDED))


_WELDS = int(CF.MAIN_POSITIVE_WELDED) | int(CF.MAIN_NEGATIVE_WELDED) | int(CF.PRECHARGE_WELDED)


class WeldWithoutErrorState(ContactorManager):
    """Sets the weld fault but keeps reporting contactor_state open, so a vehicle waiting
    for 'error' never learns the path cannot open."""

    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super().step(t, inputs)
        if int(out["contactor_fault_flags"]) & _WELDS and out["contactor_state"] == int(
                ContactorState.ERROR):
            out = {**out, "contactor_state": int(ContactorState.OPEN)}
        return out


def _t(component: str, cls: type, breaks: tuple[str, ...], may: tuple[str, ...] = ()) -> Faulty:
    return Faulty(cls.__name__, component, cls, frozenset(breaks), frozenset(may))


_SEEDED_KINDS = ("OBSA-SAFE-013", "OBSA-SAFE-014", "OBSA-SAFE-015", "OBSA-SAFE-016",
                 "OBSA-SAFE-012")

TEETH_CATALOGUE: tuple[Faulty, ...] = (
    _t("safety_supervisor", LastSlaveCellsUnchecked,
       ("OBSA-SAFE-001", "OBSA-SAFE-002", "OBSA-SAFE-009", "OBSA-SAFE-010", "OBSA-SAFE-011",
        "OBSA-SAFE-017"), _SEEDED_KINDS),
    _t("safety_supervisor", FirstSixteenSensorsOnly,
       ("OBSA-SAFE-005", "OBSA-SAFE-006", "OBSA-SAFE-007", "OBSA-SAFE-008", "OBSA-SAFE-018",
        "OBSA-SAFE-019"), _SEEDED_KINDS),
    _t("safety_supervisor", TemperatureFaultsSelfClear, ("OBSA-SAFE-013",)),
    _t("safety_supervisor", NoUndervoltageWarning, ("OBSA-SAFE-009",)),
    _t("safety_supervisor", PlausibilityToleranceDoubled, ("OBSA-SAFE-020",)),
    _t("contactor_manager", WeldCheckMainPositiveOnly, ("OBSA-CONT-008",)),
    _t("contactor_manager", WeldWithoutErrorState, ("OBSA-CONT-008",)),
)
