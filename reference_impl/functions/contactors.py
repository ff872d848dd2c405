"""The contactor and precharge manager (spec: interfaces/contactor_manager.yaml, OBSA-CONT-*).

Closing, on close_request without contactor_open_request and without a latched fault:
main negative; once it reads closed, precharge (an attempt starts); once the DC link is within
precharge_voltage_tolerance_V of the pack, main positive; once it reads closed (at the latest
when the attempt's time is up), precharge opens and the path is closed. An attempt that does
not reach the tolerance within precharge_timeout_s is aborted (precharge, then main negative
open), the next one starts precharge_retry_wait_s after the abort, and when
precharge_max_attempts have failed the precharge_failed fault latches. The wait and the count
belong to the precharge resistor, not to one close request: withdrawing close_request or
raising contactor_open_request during the wait neither shortens the wait nor restarts the
count; an attempt abandoned that way is followed by the wait too (it heated the resistor
all the same) but does not count as failed. Failed (timed-out) attempts count from the last
successful closing or fault reset (OBSA-CONT-004).

Opening: on close_request falling, main positive (and precharge) first, main negative
opening_delay_s later — and at least one step later, so that it never opens in the same step
as the positive side. On contactor_open_request every contactor opens in the same step: the
spec forbids any close command while that request is raised (OBSA-CONT-010), which leaves no
room for a delay; the negative side then still does not open before the positive side.

Supervision, every step: a contactor whose feedback disagrees with its command for
contactor_feedback_timeout_s (measured from the command, or from the feedback's change if it
changed by itself) is welded (commanded open, reads closed) or a feedback mismatch (commanded
closed, reads open). Faults latch; the path opens in order and stays open until
fault_reset_request arrives while every contactor is commanded open; a weld fault survives
the reset while its contactor still reads closed.

close_request is level-sensitive: while it stays raised the manager closes the path whenever
nothing prevents it, including after a fault reset or once contactor_open_request falls.
The spec sets no rule on the current a contactor may break (its pack_current_A input was
removed in 0.2.0): a safety opening must not wait for the current to fall.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..component import TIME_EPS_S, Block
from ..interfaces import ContactorManagerFault, ContactorState

COMPONENT = "contactor_manager"
F = ContactorManagerFault

_PRECHARGE_FAILED = int(F.PRECHARGE_FAILED)
_FEEDBACK_MISMATCH = int(F.FEEDBACK_MISMATCH)

_OPEN, _PRECHARGING, _CLOSED = int(ContactorState.OPEN), int(ContactorState.PRECHARGING), int(
    ContactorState.CLOSED)
_OPENING, _ERROR = int(ContactorState.OPENING), int(ContactorState.ERROR)

# Phases of the sequence (internal; the reported contactor_state is derived from them).
IDLE = "idle"  # nothing to do, or finishing an opening
CLOSE_NEGATIVE = "close_negative"  # main negative commanded, waiting for its feedback
PRECHARGE = "precharge"  # precharge commanded, waiting for the DC link
CLOSE_POSITIVE = "close_positive"  # main positive commanded, precharge still closed
CLOSED = "closed"
ABORT = "abort"  # opening an attempt that timed out
RETRY_WAIT = "retry_wait"  # all open, waiting for the next attempt
ERROR = "error"  # a fault is latched
_CLOSING = frozenset({CLOSE_NEGATIVE, PRECHARGE, CLOSE_POSITIVE})


class Contactor:
    """The command of one contactor and the supervision of its feedback against it."""

    __slots__ = ("name", "weld_bit", "command", "disagree_since_s")

    def __init__(self, name: str, weld_bit: int) -> None:
        self.name = name
        self.weld_bit = weld_bit
        self.command = False
        #: When feedback and command started to disagree; None while they agree.
        self.disagree_since_s: float | None = None

    def set_command(self, closed: bool, t: float) -> None:
        if closed != self.command:
            self.command = closed
            self.disagree_since_s = t  # the feedback lags a new command until it follows

    def supervise(self, feedback_closed: bool, t: float, timeout_s: float) -> int:
        """Fault bits raised by a feedback that disagrees with the command for timeout_s."""
        if feedback_closed == self.command:
            self.disagree_since_s = None
            return 0
        if self.disagree_since_s is None:
            self.disagree_since_s = t
        if t - self.disagree_since_s < timeout_s:
            return 0
        return _FEEDBACK_MISMATCH if self.command else self.weld_bit


class ContactorManager(Block):
    """Precharge, close, open in order, and supervise the three HV contactors."""

    COMPONENT = COMPONENT

    def _setup(self, p: dict[str, Any]) -> None:
        self._timeout_s = p["precharge_timeout_s"] - TIME_EPS_S
        self._max_attempts = p["precharge_max_attempts"]
        # The suite compares times on the step (resolution: step), so an exact wait of
        # 300 steps that sums to 2.9999999 s is not short: no extra step needed.
        self._retry_wait_s = p["precharge_retry_wait_s"] - TIME_EPS_S
        self._tolerance_V = p["precharge_voltage_tolerance_V"]
        self._opening_delay_s = p["opening_delay_s"] - TIME_EPS_S
        self._feedback_timeout_s = p["contactor_feedback_timeout_s"] - TIME_EPS_S

    def reset(self) -> None:
        """Back to power-on: every contactor commanded open, no fault, no attempt."""
        self._positive = Contactor("main_positive", int(F.MAIN_POSITIVE_WELDED))
        self._negative = Contactor("main_negative", int(F.MAIN_NEGATIVE_WELDED))
        self._precharge = Contactor("precharge", int(F.PRECHARGE_WELDED))
        self._phase = IDLE
        self._faults = 0
        self._attempts = 0  # started since the last successful closing or fault reset
        self._failed = 0  # of those, timed out
        #: the next attempt counts from one: set by a successful closing or a fault reset
        self._count_from_zero = True
        self._attempt_start_s = 0.0
        #: when the last failed attempt was aborted; None while no retry wait is pending
        self._abort_s: float | None = None
        self._positive_opened_s: float | None = None

    # ---- step -------------------------------------------------------------------------
    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        pos, neg, pre = self._positive, self._negative, self._precharge
        pos_fb = bool(inputs["main_positive_closed_fb"])
        neg_fb = bool(inputs["main_negative_closed_fb"])
        pre_fb = bool(inputs["precharge_closed_fb"])

        # supervision of the commands of the previous step against the feedback now
        timeout = self._feedback_timeout_s
        self._faults |= (pos.supervise(pos_fb, t, timeout) | neg.supervise(neg_fb, t, timeout)
                         | pre.supervise(pre_fb, t, timeout))
        if self._faults and inputs.get("fault_reset_request", False) and not (
                pos.command or neg.command or pre.command):
            still_welded = 0
            for contactor, closed in ((pos, pos_fb), (neg, neg_fb), (pre, pre_fb)):
                if closed:
                    still_welded |= contactor.weld_bit
            self._faults &= still_welded
            if not self._faults:
                self._phase = IDLE
                self._count_from_zero = True

        precharging = self._phase == PRECHARGE
        if bool(inputs["contactor_open_request"]):
            pos.set_command(False, t)
            pre.set_command(False, t)
            neg.set_command(False, t)
            self._phase = ERROR if self._faults else IDLE
        elif self._faults:
            self._phase = ERROR
            self._open_in_order(t)
        elif not bool(inputs["close_request"]):
            self._phase = IDLE
            self._open_in_order(t)
        else:
            self._sequence(t, float(inputs["pack_voltage_V"]), float(inputs["link_voltage_V"]),
                           neg_fb, pos_fb)

        if precharging and self._phase not in (PRECHARGE, CLOSE_POSITIVE):
            self._abort_s = t  # an attempt abandoned or aborted: the resistor cools first

        if self._faults:
            state = _ERROR
        elif self._phase in _CLOSING or self._phase in (ABORT, RETRY_WAIT):  # OBSA-CONT-012
            state = _PRECHARGING
        elif self._phase == CLOSED:
            state = _CLOSED
        elif pos.command or neg.command or pre.command or pos_fb or neg_fb or pre_fb:
            state = _OPENING
        else:
            state = _OPEN
        return {
            "main_positive_close_cmd": pos.command,
            "main_negative_close_cmd": neg.command,
            "precharge_close_cmd": pre.command,
            "contactor_state": state,
            "precharge_attempts": self._attempts,
            "contactor_fault_flags": self._faults,
        }

    # ---- sequences --------------------------------------------------------------------
    def _open_in_order(self, t: float) -> bool:
        """Open the positive side, then main negative opening_delay_s later; True when all open."""
        pos, neg, pre = self._positive, self._negative, self._precharge
        if pos.command or pre.command:
            pos.set_command(False, t)
            pre.set_command(False, t)
            self._positive_opened_s = t
        elif neg.command:  # a later step than the positive side's, even with a zero delay
            opened = self._positive_opened_s
            if opened is None or t - opened >= self._opening_delay_s:
                neg.set_command(False, t)
        return not neg.command

    def _retry_wait_over(self, t: float) -> bool:
        """No failed attempt's wait is pending at ``t``."""
        return self._abort_s is None or t - self._abort_s >= self._retry_wait_s

    def _start_attempt(self, t: float) -> None:
        self._negative.set_command(True, t)
        self._phase = CLOSE_NEGATIVE

    def _sequence(self, t: float, pack_V: float, link_V: float, neg_fb: bool,
                  pos_fb: bool) -> None:
        """Advance the closing sequence by one step (close_request is raised)."""
        phase = self._phase
        if phase == IDLE:
            if self._open_in_order(t):  # an opening still under way finishes first
                if self._count_from_zero:
                    self._attempts = self._failed = 0
                    self._count_from_zero = False
                if self._retry_wait_over(t):
                    self._start_attempt(t)
                else:  # a failed attempt's wait is still running: the resistor cools
                    self._phase = RETRY_WAIT
        elif phase == CLOSE_NEGATIVE:
            if neg_fb:
                self._precharge.set_command(True, t)
                self._attempts += 1
                self._attempt_start_s = t
                self._phase = PRECHARGE
        elif phase == PRECHARGE:
            if t > self._attempt_start_s and abs(pack_V - link_V) <= self._tolerance_V:
                self._positive.set_command(True, t)
                self._phase = CLOSE_POSITIVE
            elif t - self._attempt_start_s >= self._timeout_s:
                self._abort_s = t
                self._phase = ABORT
                self._open_in_order(t)
        elif phase == CLOSE_POSITIVE:
            if pos_fb or t - self._attempt_start_s >= self._timeout_s:
                self._precharge.set_command(False, t)
                self._phase = CLOSED
                self._count_from_zero = True
        elif phase == ABORT:
            if self._open_in_order(t):
                self._failed += 1
                if self._failed >= self._max_attempts:
                    self._faults |= _PRECHARGE_FAILED
                    self._phase = ERROR
                else:
                    self._phase = RETRY_WAIT
        elif phase == RETRY_WAIT:
            if self._retry_wait_over(t):
                self._start_attempt(t)
        elif phase == ERROR:  # faults were reset this step: start over
            self._phase = IDLE
