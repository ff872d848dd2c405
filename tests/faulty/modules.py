"""A catalogue of deliberately faulty modules.

Each class is a realistic defect of one component — a wrong calibration constant, a
missing check, an inverted sequence — built on the reference component it breaks, so that
everything else about it is correct. ``CATALOGUE`` says which requirement each one breaks:
the project's tests certify every module and check that it fails exactly those requirements
and no unrelated one. The ``BAD_*`` modules misbehave as software (raise, hang, reply with
garbage): the suite must report ``error`` and still finish and write its report.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reference_impl.functions.contactors import ContactorManager
from reference_impl.functions.safety import SafetySupervisor
from reference_impl.services.debounce import Debounce
from reference_impl.services.diagnostics import Diagnostics

# ----------------------------------------------------------------------------- safety supervisor


class OvThresholdHigh(SafetySupervisor):
    """The over-voltage trip compares against MSL + 50 mV (a wrong calibration constant);
    the reset level is still derived from the declared MSL."""

    def reset(self) -> None:
        super().reset()
        self._limits[0].msl += 0.050


class SlowOvReaction(SafetySupervisor):
    """The over-voltage debounce runs three times the declared delay."""

    def reset(self) -> None:
        super().reset()
        limit = self._limits[0]
        limit.debounce = Debounce(3 * (limit.debounce.delay_s + 1e-9))


class EagerDebounce(SafetySupervisor):
    """Every limit latches after 55 % of its declared delay: a spike that the requirement
    protects trips it."""

    def reset(self) -> None:
        super().reset()
        for limit in self._limits:
            limit.debounce = Debounce(0.55 * (limit.debounce.delay_s + 1e-9))


class _Accumulating(Debounce):
    """Adds up violation time over separate violations and never forgets it."""

    __slots__ = ("total_s", "last_s")

    def __init__(self, delay_s: float) -> None:
        super().__init__(delay_s)
        self.total_s = 0.0
        self.last_s: float | None = None

    def update(self, present: bool, t: float) -> bool:
        if not present:
            self.last_s = None
            return False
        if self.last_s is not None:
            self.total_s += t - self.last_s
        self.last_s = t
        return self.total_s >= self.delay_s


class AccumulatingDebounce(SafetySupervisor):
    """Violation time adds up across separate spikes: two short spikes latch a fault."""

    def reset(self) -> None:
        super().reset()
        for limit in self._limits:
            limit.debounce = _Accumulating(limit.debounce.delay_s + 1e-9)


class NoLatching(SafetySupervisor):
    """Faults clear by themselves once the condition has healed: the reset request is taken
    as always present."""

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        return super().step(t, {**inputs, "fault_reset_request": True})


class ResetIgnoresCondition(SafetySupervisor):
    """A reset request clears every latched fault (but the lockout) and restarts the
    debounce timers, without looking at whether the condition is still present."""

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        if inputs.get("fault_reset_request", False):
            self._latched &= self._lockout_mask()
            for limit in self._limits:
                limit.debounce.reset()
        return super().step(t, inputs)

    def _lockout_mask(self) -> int:
        from reference_impl.interfaces import SafetySupervisorFault

        return int(SafetySupervisorFault.DEEP_DISCHARGE)


class NoPlausibility(SafetySupervisor):
    """The pack voltage is never compared with the sum of the cells: a stuck pack-voltage
    sensor goes unnoticed."""

    def reset(self) -> None:
        super().reset()
        self._tolerance_V = math.inf


class ChargesWhenCold(SafetySupervisor):
    """The charge permission ignores the lower end of the charge temperature window."""

    def reset(self) -> None:
        super().reset()
        self._charge_window_low = -math.inf
        self._charge_window_low_clear = -math.inf


class NoCurrentSensorTimeout(SafetySupervisor):
    """The age of the current measurement is never checked."""

    def reset(self) -> None:
        super().reset()
        self._current_sensor_timeout_s = math.inf


class NoCurrentDerating(SafetySupervisor):
    """An exceeded charge-current RSL sets its flag but does not reduce the charge limit."""

    def reset(self) -> None:
        super().reset()
        self._charge_derate_mask &= ~int(self._limits[2].bit)


# ----------------------------------------------------------------------------- contactors


class LoosePrecharge(ContactorManager):
    """Precharge counts as complete at 80 % of the pack voltage instead of within the
    declared tolerance (the ENNOID-style criterion, where the spec asks for the tolerance)."""

    def _sequence(self, t: float, pack_V: float, link_V: float, neg_fb: bool,
                  pos_fb: bool) -> None:
        # report the link as matching the pack once it exceeds 80 % of it
        if link_V >= 0.8 * pack_V:
            link_V = pack_V
        super()._sequence(t, pack_V, link_V, neg_fb, pos_fb)


class NoWeldDetection(ContactorManager):
    """A contactor that reads closed after its open command is not reported."""

    def reset(self) -> None:
        super().reset()
        for contactor in (self._positive, self._negative, self._precharge):
            contactor.weld_bit = 0


class MinusFirst(ContactorManager):
    """Opens main negative before main positive."""

    def _open_in_order(self, t: float) -> bool:
        pos, neg, pre = self._positive, self._negative, self._precharge
        if neg.command:
            neg.set_command(False, t)
            self._positive_opened_s = t
        elif pos.command or pre.command:
            pos.set_command(False, t)
            pre.set_command(False, t)
        return not (pos.command or pre.command or neg.command)


# ----------------------------------------------------------------------------- diagnostics


class CountsBothEdges(Diagnostics):
    """The occurrence counter also counts the falling edge of a flag."""

    def _record(self, t: float, flags: int, changed: int, rows: Any) -> None:
        super()._record(t, flags, changed, rows)
        for mask, row in rows:
            if changed & mask and not flags & mask:
                self._occurrences[row] += 1


class ResetErasesHistory(Diagnostics):
    """A fault reset request erases counters and times with the stored status."""

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        if inputs.get("fault_reset_request", False):
            n = len(self._occurrences)
            self._occurrences = [0] * n
            self._first_s = [-1.0] * n
            self._last_s = [-1.0] * n
        return super().step(t, inputs)


# ----------------------------------------------------------------------------- bad software


class BadRaises(SafetySupervisor):
    """Raises from step after 0.3 s of simulated time."""

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        if t > 0.3:
            raise ZeroDivisionError("division by zero in the limit table")
        return super().step(t, inputs)


class BadHangs(SafetySupervisor):
    """Hangs in step (a busy loop) after 0.3 s of simulated time."""

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        if t > 0.3:
            end = time.monotonic() + 60.0
            while time.monotonic() < end:
                pass
        return super().step(t, inputs)


class BadNaN(SafetySupervisor):
    """Replies with a NaN charge current limit."""

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        out = super().step(t, inputs)
        out["charge_current_limit_A"] = math.nan
        return out


class BadGarbage(SafetySupervisor):
    """Replies without its safety_state and with a string for a flag."""

    def step(self, t: float, inputs: Any) -> dict[str, Any]:
        out = super().step(t, inputs)
        del out["safety_state"]
        out["safety_fault_flags"] = "none"
        return out


@dataclass(frozen=True)
class Faulty:
    name: str
    component: str
    cls: type
    breaks: frozenset[str]
    #: requirements it may fail too: those judged on a channel drawn from the run's seed
    may_break: frozenset[str] = frozenset()
    #: how its manifest differs from the reference's (a declaration the defect shows on)
    edit: Callable[[dict[str, Any]], None] | None = None


def _f(component: str, cls: type, *breaks: str) -> Faulty:
    return Faulty(cls.__name__, component, cls, frozenset(breaks))


#: module → the requirements it must fail (and it must fail no other)
CATALOGUE: tuple[Faulty, ...] = (
    _f("safety_supervisor", OvThresholdHigh, "OBSA-SAFE-001"),
    _f("safety_supervisor", SlowOvReaction, "OBSA-SAFE-001"),
    _f("safety_supervisor", EagerDebounce, "OBSA-SAFE-012"),
    _f("safety_supervisor", AccumulatingDebounce, "OBSA-SAFE-012"),
    _f("safety_supervisor", NoLatching, "OBSA-SAFE-013"),
    _f("safety_supervisor", ResetIgnoresCondition, "OBSA-SAFE-014"),
    _f("safety_supervisor", NoPlausibility, "OBSA-SAFE-020"),
    _f("safety_supervisor", ChargesWhenCold, "OBSA-SAFE-018"),
    _f("safety_supervisor", NoCurrentSensorTimeout, "OBSA-SAFE-024"),
    _f("safety_supervisor", NoCurrentDerating, "OBSA-SAFE-029"),
    _f("contactor_manager", LoosePrecharge, "OBSA-CONT-001"),
    _f("contactor_manager", NoWeldDetection, "OBSA-CONT-008"),
    _f("contactor_manager", MinusFirst, "OBSA-CONT-007"),
    _f("diagnostics", CountsBothEdges, "OBSA-DIAG-001"),
    _f("diagnostics", ResetErasesHistory, "OBSA-DIAG-004"),
)

#: software that misbehaves: every test case using the component must end in `error`
BAD_SOFTWARE: tuple[Faulty, ...] = (
    _f("safety_supervisor", BadRaises),
    _f("safety_supervisor", BadHangs),
    _f("safety_supervisor", BadNaN),
    _f("safety_supervisor", BadGarbage),
)
