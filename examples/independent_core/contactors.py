"""Contactor and precharge manager as an explicit transition table.

Design (independent of the reference implementation):

* The sequence is a table ``TRANSITIONS[phase] -> ((guard, next phase, action), ...)``;
  each step evaluates the guards of the current phase in order and takes at most one
  transition. A guard is the name of a boolean of :class:`Situation`, computed once per
  step from the inputs and the time spent in the phase.
* What each phase commands and how it is reported are two more tables (``COMMANDS``,
  ``REPORTED``). Closing runs main negative → precharge → main positive → precharge open;
  opening runs main positive (and precharge) → main negative ``opening_delay_s`` later.
* The retry wait belongs to the precharge resistor: it runs from every attempt that ends
  without the path closing (timed out, or abandoned by the requests) and holds whatever the
  requests do meanwhile; timed-out attempts count from the last closing or fault reset.
* Contactor supervision is separate from the sequence: a feedback monitor compares every
  contactor's feedback with the command it has held since its last change (welded: reads
  closed ``contactor_feedback_timeout_s`` after an open command; mismatch: does not read
  closed that long after a close command). A latched fault takes away the permission to
  close, so the table opens the path in order, and ``contactor_state`` reads error.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

from . import _spec

COMPONENT = "contactor_manager"
TIME_EPS_S = 1e-9
"""Slack on time comparisons: a deadline (timeout) or a minimum wait is over up to this much
early. The suite compares times on the step (resolution: step), so an exact wait of 300
steps that sums to 2.9999999 s is not short."""


class Phase(Enum):
    """Internal phases; finer than the contactor_state enum they are reported as."""

    OPEN = "open"
    CLOSE_NEGATIVE = "close main negative"
    PRECHARGE = "precharge"
    CLOSE_POSITIVE = "close main positive"
    CLOSED = "closed"
    RETRY_WAIT = "wait before the next precharge attempt"
    OPEN_POSITIVE = "main positive opened"
    OPEN_NEGATIVE = "main negative opened"


# Commands per phase: (main_negative, precharge, main_positive).
COMMANDS: dict[Phase, tuple[bool, bool, bool]] = {
    Phase.OPEN: (False, False, False),
    Phase.CLOSE_NEGATIVE: (True, False, False),
    Phase.PRECHARGE: (True, True, False),
    Phase.CLOSE_POSITIVE: (True, True, True),
    Phase.CLOSED: (True, False, True),
    Phase.RETRY_WAIT: (True, False, False),
    Phase.OPEN_POSITIVE: (True, False, False),
    Phase.OPEN_NEGATIVE: (False, False, False),
}

# contactor_state enum name per phase (a latched fault reports 'error' instead).
REPORTED: dict[Phase, str] = {
    Phase.OPEN: "open",
    Phase.CLOSE_NEGATIVE: "precharging",
    Phase.PRECHARGE: "precharging",
    Phase.CLOSE_POSITIVE: "precharging",
    Phase.CLOSED: "closed",
    Phase.RETRY_WAIT: "precharging",
    Phase.OPEN_POSITIVE: "opening",
    Phase.OPEN_NEGATIVE: "opening",
}

_STOP = ("stop", Phase.OPEN_POSITIVE, None)
TRANSITIONS: dict[Phase, tuple[tuple[str, Phase, str | None], ...]] = {
    Phase.OPEN: (("start", Phase.CLOSE_NEGATIVE, "new_close_request"),
                 # a request while the resistor still cools from the last attempt: wait first
                 ("wait_to_cool", Phase.RETRY_WAIT, "new_close_request")),
    Phase.CLOSE_NEGATIVE: (_STOP, ("negative_reads_closed", Phase.PRECHARGE, "count_attempt")),
    Phase.PRECHARGE: (
        _STOP,
        ("precharged", Phase.CLOSE_POSITIVE, None),
        # the failure opens everything in that step: every contactor stays open from the
        # failure on (OBSA-CONT-005); main positive was never closed, so no order to keep
        ("last_attempt_expired", Phase.OPEN_NEGATIVE, "give_up"),
        ("attempt_expired", Phase.RETRY_WAIT, "count_failure"),
    ),
    Phase.CLOSE_POSITIVE: (_STOP, ("positive_reads_closed", Phase.CLOSED, "closed")),
    Phase.CLOSED: (_STOP,),
    Phase.RETRY_WAIT: (_STOP, ("resistor_cooled", Phase.PRECHARGE, "count_attempt")),
    Phase.OPEN_POSITIVE: (("opening_delay_over", Phase.OPEN_NEGATIVE, None),),
    Phase.OPEN_NEGATIVE: (("all_read_open", Phase.OPEN, None),),
}

# Feedback monitor: contactor -> (command index in COMMANDS, feedback input, weld fault).
CONTACTORS = {
    "main_negative": (0, "main_negative_closed_fb", "main_negative_welded"),
    "precharge": (1, "precharge_closed_fb", "precharge_welded"),
    "main_positive": (2, "main_positive_closed_fb", "main_positive_welded"),
}


@dataclass(frozen=True)
class Situation:
    """Every guard of the transition table, evaluated once per step."""

    start: bool
    wait_to_cool: bool
    stop: bool
    negative_reads_closed: bool
    positive_reads_closed: bool
    all_read_open: bool
    precharged: bool
    attempt_expired: bool
    last_attempt_expired: bool
    resistor_cooled: bool
    opening_delay_over: bool


class ContactorManager:
    """OBSA contactor_manager: precharge sequence, ordered opening, contactor supervision."""

    def __init__(self) -> None:
        self.configure({})

    def configure(self, parameters: dict[str, Any]) -> None:
        """Take the declared timing values; read fault bits and enum values from the spec."""
        self._p = _spec.resolve_parameters(COMPONENT, parameters)
        codes = _spec.fault_codes(COMPONENT)
        self._bit = {name: 1 << code.bit for name, code in codes.items()}
        self._state_value = _spec.enum_values("contactor_state")
        self.reset()

    def reset(self) -> None:
        """All contactors open, no fault, no attempt."""
        self._phase = Phase.OPEN
        self._entered_s: float | None = None  # set at the first step
        self._commands = COMMANDS[Phase.OPEN]
        self._command_since_s: list[float | None] = [None, None, None]
        self._faults = 0
        self._attempts = 0  # started since the last successful closing or fault reset
        self._failures = 0  # of those, timed out
        # when precharge last opened without the path closing; the resistor cools from then
        self._cooling_since_s: float | None = None

    # ------------------------------------------------------------------ step
    def step(self, t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        """Supervise the feedback, then advance the sequence by at most one transition."""
        if self._entered_s is None:
            self._entered_s = t
            self._command_since_s = [t, t, t]
        feedback = {name: bool(inputs[fb]) for name, (_, fb, _) in CONTACTORS.items()}

        self._faults |= self._supervise(t, feedback)
        if inputs.get("fault_reset_request", False) and not any(self._commands):
            self._acknowledge(feedback)

        situation = self._situation(t, inputs, feedback)
        for guard, target, action in TRANSITIONS[self._phase]:
            if getattr(situation, guard):
                if action is not None:
                    getattr(self, f"_{action}")()
                if self._phase is Phase.PRECHARGE and target is not Phase.CLOSE_POSITIVE:
                    self._cooling_since_s = t  # timed out or abandoned: wait before the next
                self._phase, self._entered_s = target, t
                break

        commands = COMMANDS[self._phase]
        for i, (old, new) in enumerate(zip(self._commands, commands, strict=True)):
            if old != new:
                self._command_since_s[i] = t
        self._commands = commands
        state = "error" if self._faults else REPORTED[self._phase]
        return {
            "main_positive_close_cmd": commands[2],
            "main_negative_close_cmd": commands[0],
            "precharge_close_cmd": commands[1],
            "contactor_state": self._state_value[state],
            "precharge_attempts": self._attempts,
            "contactor_fault_flags": self._faults,
        }

    def _situation(self, t: float, inputs: dict[str, Any], feedback: dict[str, bool]) -> Situation:
        p = self._p
        assert self._entered_s is not None
        in_phase_s = t - self._entered_s
        may_close = (bool(inputs["close_request"]) and not inputs["contactor_open_request"]
                     and not self._faults)
        expired = in_phase_s >= p["precharge_timeout_s"] - TIME_EPS_S
        last = self._failures + 1 >= p["precharge_max_attempts"]
        cooled = (self._cooling_since_s is None
                  or t - self._cooling_since_s >= p["precharge_retry_wait_s"] - TIME_EPS_S)
        link_gap_V = abs(float(inputs["pack_voltage_V"]) - float(inputs["link_voltage_V"]))
        return Situation(
            start=may_close and cooled,
            wait_to_cool=may_close and not cooled,
            stop=not may_close,
            negative_reads_closed=feedback["main_negative"],
            positive_reads_closed=feedback["main_positive"],
            all_read_open=not any(feedback.values()),
            precharged=link_gap_V < p["precharge_voltage_tolerance_V"],
            attempt_expired=expired and not last,
            last_attempt_expired=expired and last,
            resistor_cooled=cooled,
            # at least one step after main positive, even with a declared delay of 0
            opening_delay_over=in_phase_s > 0
            and in_phase_s >= p["opening_delay_s"] - TIME_EPS_S,
        )

    # ------------------------------------------------------------------ actions
    def _new_close_request(self) -> None:
        """Attempts and failures count on: a new request does not cool the resistor."""

    def _count_attempt(self) -> None:
        self._attempts += 1

    def _count_failure(self) -> None:
        self._failures += 1

    def _closed(self) -> None:
        self._attempts = self._failures = 0

    def _give_up(self) -> None:
        self._failures += 1
        self._faults |= self._bit["precharge_failed"]

    # ------------------------------------------------------------------ supervision
    def _supervise(self, t: float, feedback: dict[str, bool]) -> int:
        """Fault bits of contactors whose feedback disagrees with their command too long."""
        timeout_s = self._p["contactor_feedback_timeout_s"] - TIME_EPS_S
        found = 0
        for name, (index, _, welded) in CONTACTORS.items():
            since = self._command_since_s[index]
            assert since is not None
            if t - since < timeout_s:
                continue
            commanded = self._commands[index]
            if commanded and not feedback[name]:
                found |= self._bit["feedback_mismatch"]
            elif not commanded and feedback[name]:
                found |= self._bit[welded]
        return found

    def _acknowledge(self, feedback: dict[str, bool]) -> None:
        """Reset request with every contactor commanded open: clear what has healed.

        A weld fault stays while its contactor still reads closed (it would be found again
        at once); the other faults clear.
        """
        keep = 0
        for name, (_, _, welded) in CONTACTORS.items():
            if feedback[name]:
                keep |= self._bit[welded]
        self._faults &= keep
        if not self._faults:
            self._attempts = self._failures = 0
