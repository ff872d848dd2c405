"""Faulty modules that the targeted test cases let through and the newer checks catch: the
always-on monitors, the sequences and random scenarios, the long runs and late clocks, the
invalid inputs.

Each class is the reference component with ONE realistic defect. ``MONITOR_CATALOGUE`` says
which requirements each must fail (and it must fail no other); the defect shows only in a
situation the requirement's own test case does not create, which is why it escaped.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np

from reference_impl.functions import contactors as _cm
from reference_impl.functions import safety as _safety
from reference_impl.functions.contactors import ContactorManager
from reference_impl.functions.safety import SafetySupervisor
from reference_impl.interfaces import DtcStatus
from reference_impl.services.diagnostics import Diagnostics

from .modules import Faulty, _f

_LATCHING = _safety._LATCHING
_LOCKOUT = _safety._LOCKOUT
_DEEP_DISCHARGE = _safety._DEEP_DISCHARGE


# ----------------------------------------------------------------------------- always-on monitors


class LimitsRestoredWhileLatched(SafetySupervisor):
    """Two seconds after a fault latches, the current limits are computed again as if no
    fault were latched (a "fault reaction time" after which the vehicle may draw current
    again) although the fault is still latched and the open request still raised."""

    def reset(self) -> None:
        super().reset()
        self._latched_since: float | None = None

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        if not self._latched & _LATCHING:
            self._latched_since = None
        elif self._latched_since is None:
            self._latched_since = t
        elif t - self._latched_since >= 2.0:  # the limits as if no fault were latched
            requests = int(out["safety_request_flags"])
            charge, discharge = self._charge_nominal_A, self._discharge_nominal_A
            if requests & self._charge_derate_mask:
                charge = self._charge_derated_A
            if requests & self._discharge_derate_mask:
                discharge = self._discharge_derated_A
            out["charge_current_limit_A"] = 0.0 if self._charge_blocked else charge
            out["discharge_current_limit_A"] = discharge
        return out


class MismatchKeepsNegative(ContactorManager):
    """After a feedback mismatch, main negative stays commanded closed for as long as
    close_request stays raised (only the positive side is opened, to retry sooner); it opens
    once the request falls."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        self._close_requested = bool(inputs["close_request"])
        return super()._step(t, inputs)

    def _open_in_order(self, t: float) -> bool:
        if self._faults & _cm._FEEDBACK_MISMATCH and self._close_requested:
            self._positive.set_command(False, t)
            self._precharge.set_command(False, t)
            return False
        return super()._open_in_order(t)


# ----------------------------------------------------------------------------- sequences


class OpenRequestOnlyWhenClosed(ContactorManager):
    """contactor_open_request is looked at only once the path is closed or idle: during the
    closing sequence (negative, precharge, positive) it is ignored."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if self._phase in _cm._CLOSING:
            inputs = {**inputs, "contactor_open_request": False}
        return super()._step(t, inputs)


class LockoutYieldsToSecondReset(SafetySupervisor):
    """The deep-discharge lockout ignores one reset request but clears on the second (a
    "service reset" meant for the workshop)."""

    def reset(self) -> None:
        super().reset()
        self._resets_while_locked = 0
        self._reset_before = False

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        requested = bool(inputs.get("fault_reset_request", False))
        if requested and not self._reset_before and self._latched & _DEEP_DISCHARGE:
            self._resets_while_locked += 1
            if self._resets_while_locked >= 2:
                self._latched &= ~_DEEP_DISCHARGE
                self._deep_discharge.reset()
                self._resets_while_locked = 0
        self._reset_before = requested
        return super()._step(t, inputs)


class ResetNeedsAllHealed(SafetySupervisor):
    """A reset request is all or nothing: while any latched fault has not healed, it clears
    none, not even the healed ones."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if not (inputs.get("fault_reset_request", False) and self._latched):
            return super()._step(t, inputs)
        saved = copy.deepcopy(self.__dict__)
        out = super()._step(t, inputs)
        if self._latched & ~_LOCKOUT:  # something stayed latched: undo the partial reset
            self.__dict__.update(saved)
            out = super()._step(t, {**inputs, "fault_reset_request": False})
        return out


class RearmOnNewCloseRequest(ContactorManager):
    """A falling close_request clears precharge_failed and the attempt count, so that the
    next close request starts afresh (no reset request needed): the error does not latch
    (OBSA-CONT-005) and the attempts are no longer bounded (OBSA-CONT-004)."""

    def reset(self) -> None:
        super().reset()
        self._close_before = False

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        requested = bool(inputs["close_request"])
        if self._close_before and not requested and self._faults & _cm._PRECHARGE_FAILED:
            self._faults &= ~_cm._PRECHARGE_FAILED
            self._attempts = 0
            self._phase = _cm.IDLE
        self._close_before = requested
        return super()._step(t, inputs)


# ----------------------------------------------------------------------------- long runs


class Uint8Counters(Diagnostics):
    """The occurrence counters are held in a uint8: the 256th occurrence wraps to 0 (and the
    next one, finding the count 0, records a new first occurrence)."""

    def _record(self, t: float, flags: int, changed: int, rows: Any) -> None:
        super()._record(t, flags, changed, rows)
        self._occurrences = [c & 0xFF for c in self._occurrences]


class StoredDtcAgesOut(Diagnostics):
    """A stored DTC ages out: a minute after its flag fell it turns inactive by itself."""

    def reset(self) -> None:
        super().reset()
        self._stored_since: dict[int, float] = {}

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        stored = int(DtcStatus.STORED)
        for row, status in enumerate(self._status):
            if status != stored:
                self._stored_since.pop(row, None)
                continue
            since = self._stored_since.setdefault(row, t)
            if t - since >= 60.0:
                self._status[row] = int(DtcStatus.INACTIVE)
                self._stored -= 1
                del self._stored_since[row]
        out["dtc_status"] = list(self._status)
        return out


class LatchExpires(SafetySupervisor):
    """A latched fault (not the lockout) releases itself ten seconds after it latched: a
    "latch timeout" that re-evaluates the condition instead of waiting for a reset."""

    def reset(self) -> None:
        super().reset()
        self._latched_since: float | None = None

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if not self._latched & ~_LOCKOUT:
            self._latched_since = None
        elif self._latched_since is None:
            self._latched_since = t
        elif t - self._latched_since >= 10.0:
            self._latched &= _LOCKOUT
            for limit in self._limits:
                limit.debounce.reset()
            self._latched_since = None
        return super()._step(t, inputs)


class Ms16TickSupervisor(SafetySupervisor):
    """Keeps time in 16-bit millisecond ticks (a free-running hardware timer): every 65.536 s
    the clock wraps to 0, and a debounce that spans the wrap never completes."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return super()._step((round(t * 1000.0) & 0xFFFF) / 1000.0, inputs)


class Float32TimeDiagnostics(Diagnostics):
    """Keeps time as float32: beyond 2^24 s the occurrence times are off by up to a second
    (at 2^32 ms, 4.3e6 s, by up to a quarter of a second)."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return super()._step(float(np.float32(t)), inputs)


# ----------------------------------------------------------------------------- invalid inputs


class NanGapPrecharged(ContactorManager):
    """The precharge-complete test is written as "not beyond the tolerance": a NaN link or
    pack voltage passes it, and main positive closes onto an uncharged DC link."""

    def _sequence(self, t: float, pack_V: float, link_V: float, neg_fb: bool,
                  pos_fb: bool) -> None:
        if not abs(pack_V - link_V) > self._tolerance_V:
            link_V = pack_V
        super()._sequence(t, pack_V, link_V, neg_fb, pos_fb)


#: module → the requirements it must fail (and it must fail no other)
MONITOR_CATALOGUE: tuple[Faulty, ...] = (
    _f("safety_supervisor", LimitsRestoredWhileLatched, "OBSA-SAFE-016"),
    # the HV path not opened whole on the mismatch: OBSA-CONT-009's own test case sees it
    _f("contactor_manager", MismatchKeepsNegative, "OBSA-CONT-009", "OBSA-CONT-011"),
    _f("contactor_manager", OpenRequestOnlyWhenClosed, "OBSA-CONT-006", "OBSA-CONT-010"),
    _f("safety_supervisor", LockoutYieldsToSecondReset, "OBSA-SAFE-017"),
    _f("safety_supervisor", ResetNeedsAllHealed, "OBSA-SAFE-015"),
    _f("contactor_manager", RearmOnNewCloseRequest, "OBSA-CONT-004", "OBSA-CONT-005"),
    _f("diagnostics", Uint8Counters, "OBSA-DIAG-001", "OBSA-DIAG-002"),
    _f("diagnostics", StoredDtcAgesOut, "OBSA-DIAG-003"),
    _f("safety_supervisor", LatchExpires, "OBSA-SAFE-013"),
    _f("safety_supervisor", Ms16TickSupervisor, "OBSA-SAFE-001"),
    _f("diagnostics", Float32TimeDiagnostics, "OBSA-DIAG-002"),
    _f("contactor_manager", NanGapPrecharged, "OBSA-CONT-001"),
)
