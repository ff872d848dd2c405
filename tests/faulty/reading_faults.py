"""Faulty modules for the readings of spec 0.2.0: each takes the other reading of a point the
text used to leave open (or reintroduces a defect a random-sequence test found in the
reference), on the reference component with that one detail changed.

``READING_CATALOGUE`` says which requirement each breaks; the pinning test cases in
``conformance/suite/test_readings.py`` must make it fail exactly that requirement.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from examples.independent_core.contactors import ContactorManager as TableContactorManager
from reference_impl.functions import contactors as cm
from reference_impl.functions.contactors import ContactorManager
from reference_impl.functions.safety import SafetySupervisor
from reference_impl.interfaces import ContactorState, SafetyState, SafetySupervisorFault
from reference_impl.services.debounce import Debounce
from reference_impl.services.diagnostics import Diagnostics

from .modules import Faulty, _f

_OVERCURRENT = int(SafetySupervisorFault.CHARGE_OVERCURRENT
                   | SafetySupervisorFault.DISCHARGE_OVERCURRENT)
_DEEP_DISCHARGE = int(SafetySupervisorFault.DEEP_DISCHARGE)
_IMPLAUSIBLE = int(SafetySupervisorFault.PACK_VOLTAGE_IMPLAUSIBLE)
_INSULATION = int(SafetySupervisorFault.INSULATION_FAULT)
_CHARGE_TEMPERATURE = int(SafetySupervisorFault.CHARGE_OVERTEMPERATURE
                          | SafetySupervisorFault.CHARGE_UNDERTEMPERATURE)


class PrechargeRestartsOnRequest(ContactorManager):
    """A withdrawn close request (or an open request) forgets the precharge history: the
    retry wait and the count of failed attempts restart with the next close request, so a
    request dropped for one step after each timeout precharges without rest or end (the
    reference's defect before 0.2.0)."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if inputs["contactor_open_request"] or not inputs["close_request"]:
            self._abort_s = None
            self._count_from_zero = True
        return super()._step(t, inputs)


class WeldForgottenOnReset(ContactorManager):
    """A reset request clears the weld fault of a contactor that still reads closed, and
    the fault is not set again until that contactor has read open once: the manager may
    close the path onto a contactor it cannot open (what OBSA-CONT-008 forbids since 0.2.0,
    "a fault_reset_request notwithstanding")."""

    def reset(self) -> None:
        super().reset()
        self._forgotten = 0

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        for contactor, fb in ((self._positive, "main_positive_closed_fb"),
                              (self._negative, "main_negative_closed_fb"),
                              (self._precharge, "precharge_closed_fb")):
            if not inputs[fb]:
                self._forgotten &= ~contactor.weld_bit
            elif inputs.get("fault_reset_request", False) and self._faults & contactor.weld_bit:
                self._forgotten |= contactor.weld_bit
        if self._forgotten:
            self._faults &= ~self._forgotten
            out["contactor_fault_flags"] = int(out["contactor_fault_flags"]) & ~self._forgotten
        return out


class NanCurrentResets(SafetySupervisor):
    """A NaN current reading counts as zero when a reset request is judged: the over-current
    faults clear although the current is unknown (the reference's defect before 0.2.0)."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        current = float(inputs["pack_current_A"])
        if inputs.get("fault_reset_request", False) and math.isnan(current):
            self._latched &= ~_OVERCURRENT
            out["safety_fault_flags"] = int(out["safety_fault_flags"]) & ~_OVERCURRENT
        return out


class OpenRequestMinusFirst(ContactorManager):
    """On contactor_open_request main negative opens first and main positive one step later
    (the order read as applying to a normal opening only)."""

    def reset(self) -> None:
        super().reset()
        self._open_request_before = False

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        rising = bool(inputs["contactor_open_request"]) and not self._open_request_before
        self._open_request_before = bool(inputs["contactor_open_request"])
        positive_closed = self._positive.command
        out = super()._step(t, inputs)
        if rising and positive_closed:  # keep main positive closed for this one step
            self._positive.set_command(True, t)
            out["main_positive_close_cmd"] = True
        return out


#: module → the requirements it must fail (and it must fail no other)
class _SlowLeak(Debounce):
    """A leaky violation counter that falls twenty times slower than it rises."""

    __slots__ = ("level_s", "last_s", "was_present")

    def __init__(self, delay_s: float) -> None:
        super().__init__(delay_s)
        self.level_s = 0.0
        self.last_s: float | None = None
        self.was_present = False

    def reset(self) -> None:
        self.level_s, self.last_s, self.was_present = 0.0, None, False

    def update(self, present: bool, t: float) -> bool:
        dt = 0.0 if self.last_s is None else t - self.last_s
        self.last_s = t
        if present:
            if self.was_present:
                self.level_s += dt
            self.was_present = True
            return self.level_s >= self.delay_s
        self.level_s = max(0.0, self.level_s - dt / 20.0)
        self.was_present = False
        return False


class SlowLeakDebounce(SafetySupervisor):
    """Leaky debounce whose counter forgets too slowly: spikes one second apart add up (the
    leaky reading of OBSA-SAFE-012 without its condition)."""

    def reset(self) -> None:
        super().reset()
        for limit in self._limits:
            limit.debounce = _SlowLeak(limit.debounce.delay_s + 1e-9)


class WeldClearedByReset(ContactorManager):
    """A reset clears every contactor fault, welds included, and supervises the feedback
    afresh: a contactor still welded is found again one feedback timeout later (the reading
    of 'faults latch until a reset with every contactor commanded open' without the weld's
    condition)."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        contactors = (self._positive, self._negative, self._precharge)
        if self._faults and inputs.get("fault_reset_request", False) and not any(
                c.command for c in contactors):
            self._faults = 0
            for c in contactors:
                c.disagree_since_s = t
        return super()._step(t, inputs)


class ChargeTemperatureHealsAtRest(SafetySupervisor):
    """A charge-temperature fault counts as healed once the pack is no longer charged (the
    limit 'applies while charging' read as covering the healing too)."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if inputs.get("fault_reset_request", False) and not (
                float(inputs["pack_current_A"]) > self._rest_current_A):
            self._latched &= ~_CHARGE_TEMPERATURE
        return super()._step(t, inputs)


class ProfileOnlyFaultMemory(Diagnostics):
    """Records only the fault codes of the safety-core profile (supervisor and contactor
    manager): the other rows exist but never become active ('every fault code of the spec'
    read as those of the claimed profiles)."""

    _signals = tuple((signal, rows) for signal, rows in Diagnostics._signals
                     if signal in ("safety_fault_flags", "contactor_fault_flags"))


class RetryWaitReportsOpen(ContactorManager):
    """During the wait before the next precharge attempt contactor_state reads open: every
    contactor is open then (the state read from the contactors, not from the sequence)."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        if self._phase == cm.RETRY_WAIT and not self._faults:
            out["contactor_state"] = int(ContactorState.OPEN)
        return out


class EdgeOnlyReset(SafetySupervisor):
    """fault_reset_request acts only on its rising edge: a request held raised while the
    condition heals clears nothing (the edge-sensitive reading of the reset)."""

    def reset(self) -> None:
        super().reset()
        self._reset_before = False

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        raised = bool(inputs.get("fault_reset_request", False))
        rising, self._reset_before = raised and not self._reset_before, raised
        return super()._step(t, {**inputs, "fault_reset_request": rising})


class PlausibilityHysteresis(SafetySupervisor):
    """The plausibility fault heals only once the pack voltage is back within half the
    tolerance of the cells' sum (a hysteresis the spec does not have)."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        latched = self._latched & _IMPLAUSIBLE
        out = super()._step(t, inputs)
        total = float(np.sum(np.asarray(inputs["cell_voltage_V"], dtype=float)))
        if latched and not abs(float(inputs["pack_voltage_V"]) - total) <= self._tolerance_V / 2:
            self._latched |= _IMPLAUSIBLE  # still latched: the outputs of a latched fault
            out.update(safety_fault_flags=int(out["safety_fault_flags"]) | _IMPLAUSIBLE,
                       safety_state=max(int(out["safety_state"]), int(SafetyState.FAULT)),
                       charge_current_limit_A=0.0, discharge_current_limit_A=0.0,
                       contactor_open_request=True)
        return out


class InsulationHysteresis(SafetySupervisor):
    """The insulation fault heals only once the insulation is 20 % above the error threshold
    (a hysteresis the spec does not have): a reset just above the threshold is ignored."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        ohm = float(inputs.get("insulation_resistance_ohm", math.inf))
        if self._latched & _INSULATION and ohm < 1.2 * self._insulation_error_ohm:
            inputs = {**inputs, "fault_reset_request": False}
        return super()._step(t, inputs)


class TimeoutHysteresis(SafetySupervisor):
    """A sensor timeout heals only after a second of fresh data again (a hysteresis the
    spec does not have): a reset soon after the cell monitor is back is ignored."""

    def reset(self) -> None:
        super().reset()
        self._lost_at = -math.inf

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if float(inputs["cell_monitor_age_s"]) > self._cell_monitor_timeout_s:
            self._lost_at = t
        if t - self._lost_at < 1.0:
            inputs = {**inputs, "fault_reset_request": False}
        return super()._step(t, inputs)


class InvalidCellCountsForDeepDischarge(SafetySupervisor):
    """The deep-discharge check takes the lowest reading of every cell, valid or not: an open
    sense wire (0 V) locks the pack out."""

    def reset(self) -> None:
        super().reset()
        self._raw_deep_discharge = Debounce(self._p.get("deep_discharge_delay_s", 0.0))

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        lowest = float(np.nanmin(np.asarray(inputs["cell_voltage_V"], dtype=float)))
        if self._raw_deep_discharge.update(lowest < self._deep_discharge_V, t):
            self._latched |= _DEEP_DISCHARGE
        return super()._step(t, inputs)


class FailureDeclaredLate(ContactorManager):
    """After the last failed attempt main negative stays closed for a second before the path
    opens and precharge_failed is set (a 'cool-down' before giving up). A close request
    withdrawn in that second abandons the failure: a further attempt follows (OBSA-CONT-004
    too)."""

    def _sequence(self, t: float, pack_V: float, link_V: float, neg_fb: bool,
                  pos_fb: bool) -> None:
        if (self._phase == cm.ABORT and self._failed + 1 >= self._max_attempts
                and self._abort_s is not None and t - self._abort_s < 1.0):
            return  # precharge is open; main negative waits
        super()._sequence(t, pack_V, link_V, neg_fb, pos_fb)


class RetryWaitOneStepShort(TableContactorManager):
    """The independent core's transition-table manager, whose retry wait is exact to the step
    (precharge closes again exactly precharge_retry_wait_s after it opened), with the wait
    one 10 ms step short: the step resolution of time criteria forgives float rounding, not
    a step."""

    def configure(self, parameters: dict[str, Any]) -> None:
        super().configure(parameters)
        self._p["precharge_retry_wait_s"] -= 0.01


class ChargeTemperatureAtRest(SafetySupervisor):
    """The charge-temperature limits apply whatever the current: a parked pack beyond the
    charge window latches a charge fault."""

    def reset(self) -> None:
        super().reset()
        self._limit_rows = [(limit, False) for limit, _charging_only in self._limit_rows]


READING_CATALOGUE: tuple[Faulty, ...] = (
    _f("contactor_manager", PrechargeRestartsOnRequest, "OBSA-CONT-004"),
    _f("safety_supervisor", NanCurrentResets, "OBSA-SAFE-014"),
    _f("contactor_manager", OpenRequestMinusFirst, "OBSA-CONT-007"),
    _f("safety_supervisor", SlowLeakDebounce, "OBSA-SAFE-012"),
    _f("contactor_manager", WeldClearedByReset, "OBSA-CONT-008"),
    _f("contactor_manager", WeldForgottenOnReset, "OBSA-CONT-008"),
    _f("safety_supervisor", ChargeTemperatureHealsAtRest, "OBSA-SAFE-014"),
    # the last DTC row (outside the safety core) is always sampled by the DIAG test cases
    _f("diagnostics", ProfileOnlyFaultMemory, "OBSA-DIAG-001", "OBSA-DIAG-002", "OBSA-DIAG-003",
       "OBSA-DIAG-004"),
    _f("contactor_manager", RetryWaitReportsOpen, "OBSA-CONT-012"),
    _f("safety_supervisor", EdgeOnlyReset, "OBSA-SAFE-015"),
    _f("safety_supervisor", PlausibilityHysteresis, "OBSA-SAFE-015"),
    _f("safety_supervisor", InsulationHysteresis, "OBSA-SAFE-015"),
    _f("safety_supervisor", TimeoutHysteresis, "OBSA-SAFE-015"),
    _f("safety_supervisor", InvalidCellCountsForDeepDischarge, "OBSA-SAFE-030"),
    _f("contactor_manager", FailureDeclaredLate, "OBSA-CONT-004", "OBSA-CONT-005"),
    _f("contactor_manager", RetryWaitOneStepShort, "OBSA-CONT-004"),
    _f("safety_supervisor", ChargeTemperatureAtRest, "OBSA-SAFE-031"),
)
