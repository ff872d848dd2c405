"""Faulty charge controls (area CHG) and one correct one written unlike the reference.

Each faulty module is the reference charge control with one realistic defect and must fail
exactly the requirement it breaks; :func:`area` registers them, the correct variant and the
packs in the full-BMS catalogue (:mod:`.full_bms_runs`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from reference_impl.component import Block
from reference_impl.functions.charging import CURRENT_REQUEST_MAX_A, ChargeControl
from reference_impl.interfaces import ChargePhase, ContactorState, SafetyState

from .modules import Faulty

if TYPE_CHECKING:
    from .full_bms_runs import Area

COMPONENT = "charge_control"
_CLOSED = int(ContactorState.CLOSED)


class VoltageRequestHeadroom(ChargeControl):
    """Asks for 0.5 % above n × the charge voltage limit ("headroom for the cable drop")."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        out["charge_voltage_request_V"] *= 1.005
        return out


class LateConstantVoltage(ChargeControl):
    """Regulates the highest cell to the limit + 30 mV (an offset added twice in the
    calibration); the voltage request is still n × the declared limit."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._declared_V = self._v_limit
        self._v_limit += 0.030

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        if out["charge_voltage_request_V"] > 0.0:
            n = len(inputs["cell_voltage_V"])
            out["charge_voltage_request_V"] = min(n * self._declared_V,
                                                  out["charge_voltage_request_V"])
        return out


class PackVoltageConstantVoltage(ChargeControl):
    """Regulates the average cell (the pack voltage over the number of cells) to the limit
    instead of the highest cell: with unbalanced cells the fullest one goes above it."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        n = len(inputs["cell_voltage_V"])
        average = np.full(n, float(inputs["pack_voltage_V"]) / max(n, 1))
        return super()._step(t, {**inputs, "cell_voltage_V": average})


class FirstSlaveOnly(ChargeControl):
    """Looks for the highest cell among the first twelve cells only (the first slave's),
    the voltage request still for every cell."""

    SLAVE_CELLS = 12

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        k = self.SLAVE_CELLS
        n = len(inputs["cell_voltage_V"])
        out = super()._step(t, {**inputs, "cell_voltage_V": inputs["cell_voltage_V"][:k],
                                "cell_voltage_valid": inputs["cell_voltage_valid"][:k]})
        if out["charge_voltage_request_V"] > 0.0:
            out["charge_voltage_request_V"] = min(n * self._v_limit, 1500.0)
        return out


class IgnoresSopLimit(ChargeControl):
    """Takes the smallest of the declared maximum and the supervisor's limit only: the SoP
    estimator's limit is not read."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return super()._step(t, {**inputs, "sop_charge_current_limit_A": CURRENT_REQUEST_MAX_A})


class IgnoresContactorState(ChargeControl):
    """Permits charging whatever the HV path's state (assumes it closed once a charger is
    connected)."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return super()._step(t, {**inputs, "contactor_state": _CLOSED})


class ChargesInLockout(ChargeControl):
    """Inhibits charging on a fault but not in lockout (the deep-discharge lockout read as
    "recharge allowed")."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        state = int(inputs["safety_state"])
        if state == int(SafetyState.LOCKOUT):
            inputs = {**inputs, "safety_state": int(SafetyState.NORMAL)}
        return super()._step(t, inputs)


class SlowInhibit(ChargeControl):
    """Holds its last requests for half a second after charging stops being permitted (a
    debounce meant for the charger bus, applied to the permission)."""

    HOLD_S = 0.5

    def reset(self) -> None:
        super().reset()
        self._last: dict[str, Any] | None = None
        self._stopped_at: float | None = None

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        stopped = out["charge_phase"] in (int(ChargePhase.INHIBITED), int(ChargePhase.IDLE))
        if not stopped:
            self._stopped_at = None
            self._last = dict(out)
            return out
        if self._stopped_at is None:
            self._stopped_at = t
        if self._last is not None and t - self._stopped_at < self.HOLD_S:
            return dict(self._last)
        return out


class CurrentMargin(ChargeControl):
    """Requests 90 % of the smallest limit in constant current (a "safety margin" the
    requirement does not ask for)."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        if out["charge_phase"] == int(ChargePhase.CONSTANT_CURRENT):
            out["charge_current_request_A"] *= 0.9
        return out


class TerminatesAtTwiceTheCurrent(ChargeControl):
    """Ends the charge at twice the declared termination current (C/10 for C/20)."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._i_term *= 2.0


class CompletionNotLatched(ChargeControl):
    """Starts a new charge one second after completion, the charger still connected (a
    top-up that the requirement forbids until the charger is reconnected)."""

    def reset(self) -> None:
        super().reset()
        self._t_complete: float | None = None

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if self._complete:
            if self._t_complete is None:
                self._t_complete = t
            elif t - self._t_complete >= 1.0:
                self._complete = self._cv = False
                self._t_complete = None
        return super()._step(t, inputs)


# ----------------------------------------------------------------------------- correct
_IDLE, _CC, _CV = (int(ChargePhase.IDLE), int(ChargePhase.CONSTANT_CURRENT),
                   int(ChargePhase.CONSTANT_VOLTAGE))
_COMPLETE, _INHIBITED = int(ChargePhase.COMPLETE), int(ChargePhase.INHIBITED)
_FORBIDDEN_STATES = frozenset({int(SafetyState.FAULT), int(SafetyState.LOCKOUT)})


class StepwiseChargeControl(Block):
    """A charge control written unlike the reference: in constant voltage it cuts the
    request by a fifth on every step the highest cell is above the limit and raises it by
    2 % of the permitted current on every step the cell is more than 5 mV below it (no
    integrator, no time base); a request that could not be served (an unknown safety state
    counts as a fault) is never made."""

    COMPONENT = COMPONENT
    CUT = 0.8
    RAISE = 0.02
    BAND_V = 0.005

    def _setup(self, p: dict[str, Any]) -> None:
        self._limit_V = float(p["charge_voltage_limit_V"])
        self._max_A = float(p["charge_current_max_A"])
        self._term_A = float(p["charge_termination_current_A"])

    def reset(self) -> None:
        self._state = _IDLE
        self._amps = 0.0
        self._taper = False
        self._done = False
        self._was_above_term = False

    def _idle(self, phase: int) -> dict[str, Any]:
        self._amps = 0.0
        self._was_above_term = False
        return {"charge_voltage_request_V": 0.0, "charge_current_request_A": 0.0,
                "charge_phase": phase}

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if not inputs["charger_connected"]:
            self._taper = self._done = False
            return self._idle(_IDLE)
        volts = [float(v) for v in inputs["cell_voltage_V"]]
        valid = [bool(x) for x in inputs["cell_voltage_valid"]]
        readable = bool(volts) and all(ok and math.isfinite(v)
                                       for v, ok in zip(volts, valid, strict=True))
        limit_A = float(inputs["charge_current_limit_A"])
        sop_A = float(inputs["sop_charge_current_limit_A"])
        state = int(inputs["safety_state"])
        known = state in {int(s) for s in SafetyState}
        if (int(inputs["contactor_state"]) != _CLOSED or not known
                or state in _FORBIDDEN_STATES or not limit_A > 0.0 or not readable
                or not math.isfinite(sop_A)):
            return self._idle(_INHIBITED)
        if self._done:
            return self._idle(_COMPLETE)
        allowed = max(0.0, min(self._max_A, limit_A, sop_A, CURRENT_REQUEST_MAX_A))
        highest = max(volts)
        if not self._taper and highest >= self._limit_V:
            self._taper = True
        if self._taper:
            if highest > self._limit_V:
                self._amps *= self.CUT
            elif highest < self._limit_V - self.BAND_V:
                self._amps += self.RAISE * allowed
            self._amps = min(self._amps, allowed)
            measured = float(inputs["pack_current_A"])
            if measured >= self._term_A:
                self._was_above_term = True
            elif self._was_above_term:
                self._done = True
                return self._idle(_COMPLETE)
        else:
            self._amps = allowed
        return {"charge_voltage_request_V": min(len(volts) * self._limit_V, 1500.0),
                "charge_current_request_A": self._amps,
                "charge_phase": _CV if self._taper else _CC}


# ----------------------------------------------------------------------------- the area
def _f(cls: type, *breaks: str) -> Faulty:
    return Faulty(cls.__name__, COMPONENT, cls, frozenset(breaks))


def area() -> Area:
    from .full_bms_runs import Area, lfp_200_cells, one_cell, twelve_cells_one_sensor

    return Area(
        select="charge_control",
        faulty=(
            _f(VoltageRequestHeadroom, "OBSA-CHG-001"),
            # may break OBSA-CHG-006: the charger's own voltage limit (n × the declared
            # limit) can hold the pack before the fullest cell reaches the module's late
            # threshold, so its constant-voltage phase, and with it the termination, may
            # never come
            Faulty("LateConstantVoltage", COMPONENT, LateConstantVoltage,
                   frozenset({"OBSA-CHG-002"}), may_break=frozenset({"OBSA-CHG-006"})),
            _f(PackVoltageConstantVoltage, "OBSA-CHG-002"),
            _f(FirstSlaveOnly, "OBSA-CHG-002"),
            _f(IgnoresSopLimit, "OBSA-CHG-003"),
            _f(IgnoresContactorState, "OBSA-CHG-004"),
            _f(ChargesInLockout, "OBSA-CHG-004"),
            # may break OBSA-CHG-003: the request it holds while charge_current_limit_A has
            # dropped to zero is above that limit too (the always-on monitor sees it)
            Faulty("SlowInhibit", COMPONENT, SlowInhibit, frozenset({"OBSA-CHG-004"}),
                   may_break=frozenset({"OBSA-CHG-003"})),
            _f(CurrentMargin, "OBSA-CHG-005"),
            _f(TerminatesAtTwiceTheCurrent, "OBSA-CHG-006"),
            _f(CompletionNotLatched, "OBSA-CHG-006"),
        ),
        correct=(_f(StepwiseChargeControl),),
        packs={"one-cell": one_cell, "twelve-cells-one-sensor": twelve_cells_one_sensor,
               "lfp-200-cells": lfp_200_cells},
    )

