"""Deliberately faulty contactor managers and fault memories, one per requirement.

The counterpart of :mod:`tests.faulty.modules` for the requirements of the contactor manager
and of the diagnostics that the catalogue there leaves uncovered. Each class is a realistic
defect built on the reference component — a step of the sequence forgotten, a hard-coded
constant instead of the declared parameter, a live comparison where a latch belongs — and
``CONTACTOR_DIAG_CATALOGUE`` says which requirement it breaks: certifying it must fail that
requirement and no other one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reference_impl.component import TIME_EPS_S
from reference_impl.functions import contactors as cm
from reference_impl.functions.contactors import Contactor, ContactorManager
from reference_impl.interfaces import ContactorManagerFault, DtcStatus
from reference_impl.services.diagnostics import Diagnostics

from .modules import Faulty, _f

_PRECHARGE_FAILED = int(ContactorManagerFault.PRECHARGE_FAILED)
_FEEDBACK_MISMATCH = int(ContactorManagerFault.FEEDBACK_MISMATCH)
_INACTIVE, _STORED = int(DtcStatus.INACTIVE), int(DtcStatus.STORED)

# ----------------------------------------------------------------------------- contactors


class PrechargeLeftClosed(ContactorManager):
    """Once main positive reads closed the path is reported closed, but the precharge
    contactor is never commanded open: the resistor stays in parallel with main positive."""

    def _sequence(self, t: float, pack_V: float, link_V: float, neg_fb: bool,
                  pos_fb: bool) -> None:
        if self._phase == cm.CLOSE_POSITIVE and pos_fb:
            self._phase = cm.CLOSED  # the precharge command is forgotten here
            return
        super()._sequence(t, pack_V, link_V, neg_fb, pos_fb)


class PrechargeWithNegative(ContactorManager):
    """Precharge is commanded together with main negative instead of once main negative
    reads closed (one feedback wait saved): the attempt's timer starts with the precharge
    command, so every time limit still holds, but the closing order is not kept."""

    def _start_attempt(self, t: float) -> None:
        super()._start_attempt(t)
        self._precharge.set_command(True, t)
        self._attempts += 1
        self._attempt_start_s = t
        self._phase = cm.PRECHARGE


class LongPrechargeAttempt(ContactorManager):
    """The attempt timer grants the precharge contactor its feedback time on top of the
    declared precharge_timeout_s: every failed attempt runs a feedback timeout too long."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._timeout_s += p["contactor_feedback_timeout_s"]


class ShortRetryWait(ContactorManager):
    """The retry wait counts from the start of the failed attempt instead of from its abort,
    so the time the attempt took is subtracted from the resistor's cooling time."""

    def _sequence(self, t: float, pack_V: float, link_V: float, neg_fb: bool,
                  pos_fb: bool) -> None:
        if self._phase == cm.RETRY_WAIT:
            if t - self._attempt_start_s >= self._retry_wait_s:
                self._start_attempt(t)
            return
        super()._sequence(t, pack_V, link_V, neg_fb, pos_fb)


class NegativeHeldAfterPrechargeFailure(ContactorManager):
    """After the last failed attempt the precharge_failed fault latches as soon as the
    positive side is open, and the error path keeps main negative closed while that fault
    is the only one: the pack stays connected on its negative pole."""

    def _sequence(self, t: float, pack_V: float, link_V: float, neg_fb: bool,
                  pos_fb: bool) -> None:
        if self._phase == cm.ABORT and self._attempts >= self._max_attempts:
            self._positive.set_command(False, t)
            self._precharge.set_command(False, t)
            self._faults |= _PRECHARGE_FAILED
            self._phase = cm.ERROR
            return
        super()._sequence(t, pack_V, link_V, neg_fb, pos_fb)

    def _open_in_order(self, t: float) -> bool:
        if self._faults == _PRECHARGE_FAILED:
            self._positive.set_command(False, t)
            self._precharge.set_command(False, t)
            return not self._negative.command
        return super()._open_in_order(t)


class DebouncedOpenRequest(ContactorManager):
    """contactor_open_request is filtered against glitches for 200 ms before the path opens:
    twice the spec's 100 ms budget."""

    FILTER_S = 0.2

    def reset(self) -> None:
        super().reset()
        self._open_request_since_s: float | None = None

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if not bool(inputs["contactor_open_request"]):
            self._open_request_since_s = None
            return super()._step(t, inputs)
        if self._open_request_since_s is None:
            self._open_request_since_s = t
        confirmed = t - self._open_request_since_s >= self.FILTER_S - TIME_EPS_S
        held = {**inputs, "contactor_open_request": confirmed}
        if not confirmed and self._phase != cm.CLOSED:
            held["close_request"] = False  # meanwhile a closing under way is abandoned
        return super()._step(t, held)


class _SlowCloseSupervision(Contactor):
    """A contactor whose failure to close is judged after a fixed 300 ms."""

    __slots__ = ()
    CLOSE_TIMEOUT_S = 0.3

    def supervise(self, feedback_closed: bool, t: float, timeout_s: float) -> int:
        if self.command:
            timeout_s = max(timeout_s, self.CLOSE_TIMEOUT_S - TIME_EPS_S)
        return super().supervise(feedback_closed, t, timeout_s)


class HardCodedCloseTimeout(ContactorManager):
    """A contactor that does not close is reported after a hard-coded 300 ms instead of the
    declared contactor_feedback_timeout_s (the weld check still uses the parameter)."""

    def reset(self) -> None:
        super().reset()
        for name in ("_positive", "_negative", "_precharge"):
            old = getattr(self, name)
            setattr(self, name, _SlowCloseSupervision(old.name, old.weld_bit))


class OpenRequestEdgeOnly(ContactorManager):
    """contactor_open_request is acted on at its rising edge only: the path opens, and since
    close_request is still raised the closing sequence starts over on the next step."""

    def reset(self) -> None:
        super().reset()
        self._open_request_before = False

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        request = bool(inputs["contactor_open_request"])
        rising = request and not self._open_request_before
        self._open_request_before = request
        return super()._step(t, {**inputs, "contactor_open_request": rising})


class MismatchNotLatched(ContactorManager):
    """feedback_mismatch is a live comparison rather than a latch: it clears as soon as every
    contactor's feedback agrees with its command again."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if self._faults & _FEEDBACK_MISMATCH and all(
                bool(inputs[f"{c.name}_closed_fb"]) == c.command
                for c in (self._positive, self._negative, self._precharge)):
            self._faults &= ~_FEEDBACK_MISMATCH
        return super()._step(t, inputs)


# ----------------------------------------------------------------------------- diagnostics


class FirstTimeOverwritten(Diagnostics):
    """The first-occurrence time is written on every rising edge, so it holds the last one."""

    def _record(self, t: float, flags: int, changed: int, rows: Any) -> None:
        super()._record(t, flags, changed, rows)
        for mask, row in rows:
            if changed & mask and flags & mask:
                self._first_s[row] = t


class HealedIsInactive(Diagnostics):
    """A DTC whose flag falls goes straight back to inactive instead of stored."""

    def _record(self, t: float, flags: int, changed: int, rows: Any) -> None:
        super()._record(t, flags, changed, rows)
        for mask, row in rows:
            if changed & mask and not flags & mask and self._status[row] == _STORED:
                self._status[row] = _INACTIVE
                self._stored -= 1


#: module → the requirement it must fail (and it must fail no other)
CONTACTOR_DIAG_CATALOGUE: tuple[Faulty, ...] = (
    _f("contactor_manager", PrechargeLeftClosed, "OBSA-CONT-002"),
    _f("contactor_manager", LongPrechargeAttempt, "OBSA-CONT-003"),
    _f("contactor_manager", ShortRetryWait, "OBSA-CONT-004"),
    _f("contactor_manager", NegativeHeldAfterPrechargeFailure, "OBSA-CONT-005"),
    _f("contactor_manager", DebouncedOpenRequest, "OBSA-CONT-006"),
    _f("contactor_manager", HardCodedCloseTimeout, "OBSA-CONT-009"),
    _f("contactor_manager", PrechargeWithNegative, "OBSA-CONT-002"),
    _f("contactor_manager", OpenRequestEdgeOnly, "OBSA-CONT-010"),
    # once the mismatch clears itself the manager leaves "error" while the close request
    # still stands: OBSA-CONT-012's state rules see that too; and it starts closing again
    # before main negative has opened, so the path is never open whole (OBSA-CONT-009)
    _f("contactor_manager", MismatchNotLatched, "OBSA-CONT-009", "OBSA-CONT-011",
       "OBSA-CONT-012"),
    _f("diagnostics", FirstTimeOverwritten, "OBSA-DIAG-002"),
    _f("diagnostics", HealedIsInactive, "OBSA-DIAG-003"),
)
