"""The step of the seeded random scenarios: the sentence's counts and durations are the
test case's."""

from __future__ import annotations

from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when
from conformance.suite.test_random_scenarios import DURATION_S, RESET_PULSE_S, SCENARIOS, START_S


@when("{count:d} sequences of {duration:g} s each play on the whole module, each on a fresh bench "
      "whose clock starts at the sequence's number times {start:g} s, each scheduled from the "
      "module's seed: close_request raised within the first second, then 4 to 9 events drawn "
      "among faults of the bench's whole catalogue (some on one random channel, some ending by "
      "themselves), clearing every fault, fault_reset_request pulses of {pulse:g} s, "
      "close_request on or off, and a load current anywhere from 1.1 times the discharge "
      "current MSL, discharging, to 1.1 times the charge current MSL, charging")
def random_scenarios(context: Any, count: int, duration: float, start: float,
                     pulse: float) -> None:
    said, case = (count, duration, start, pulse), (SCENARIOS, DURATION_S, START_S, RESET_PULSE_S)
    if said != case:
        raise SuiteError(f"the test case plays {SCENARIOS} sequences of {DURATION_S:g} s, clocks "
                         f"at k × {START_S:g} s, reset pulses of {RESET_PULSE_S:g} s; the "
                         f"scenario says {count}, {duration:g} s, {start:g} s, {pulse:g} s")
    run_case(context, "test_random_scenarios::test_random_scenarios")
