"""Steps of the contactor and precharge manager's scenarios (area CONT).

Each When step names the test case it runs; the one family (a DC-link voltage that is no
measurement) finds its case from the value the sentence names."""

from __future__ import annotations

import math
from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when, when_runs
from conformance.suite.test_invalid_inputs import NON_FINITE

CM = "test_contactor_manager"
READINGS = "test_readings"
SEQUENCES = "test_sequences"


@when("the DC-link voltage reads {value} from a close request on, the request raised after "
      "0.3 s at rest and held for the declared precharge_timeout_s and 0.5 s more")
def non_finite_link_voltage(context: Any, value: str) -> None:
    """The family of unreadable link voltages: the case whose value the sentence names."""
    try:
        said = float(value)
    except ValueError:
        raise SuiteError(f"'{value}' is no value a voltage reading can take") from None
    ids = [k for k, v in NON_FINITE.items()
           if (math.isnan(v) and math.isnan(said)) or v == said]
    if not ids:
        raise SuiteError(f"the test case stimulates {', '.join(map(str, NON_FINITE.values()))}; "
                         f"the scenario says {value}")
    run_case(context, f"test_invalid_inputs::test_non_finite_link_voltage_is_no_precharge"
                      f"[{ids[0]}]")


#: the one-off scenarios: each sentence → the test case it runs
ONE_OFF: dict[str, str] = {
    ('close_request is raised on a healthy HV circuit after 0.3 s at rest, and the bench runs '
     'until contactor_state reports closed (at most 8 s) and 0.5 s more'):
        f"{CM}::test_close_through_precharge",
    ('the precharge resistor is open, so that the DC link never charges, and close_request is '
     'raised after 0.3 s and held until precharge_failed is set (at most precharge_max_attempts '
     '× (precharge_timeout_s + precharge_retry_wait_s) + 2 s), then 10 s more'):
        f"{CM}::test_precharge_failure",
    ('the contactor manager alone, its precharge resistor open, serves a close_request raised '
     'after 0.3 s, and 0.5 s into each retry wait the requests flicker for one step '
     '(close_request dropped after the odd attempts, contactor_open_request raised after the '
     'even ones), for precharge_max_attempts × (precharge_timeout_s + precharge_retry_wait_s) + '
     '5 s'):
        f"{READINGS}::test_retry_wait_survives_a_dropped_request",
    ('the contactor manager alone, its precharge resistor open, serves a close_request raised '
     'after 0.3 s and held for precharge_max_attempts × (precharge_timeout_s + '
     'precharge_retry_wait_s) + 12 s'):
        f"{READINGS}::test_everything_opens_after_the_last_attempt",
    ('the precharge resistor is open, close_request is raised after 0.3 s and held until '
     'precharge_failed is set, then twice withdrawn 0.5 s later and raised again 0.5 s after '
     'that, and 5 s more pass without a reset request'):
        f"{SEQUENCES}::test_close_request_toggled_after_failed_precharge",
    ('the contactor manager alone closes the HV path on request, and 0.5 s later '
     'contactor_open_request is raised with close_request still raised, for 5 s'):
        f"{CM}::test_open_on_request",
    ('the contactor manager alone is precharging on a close_request, and 0.05 s after the '
     'precharge contactor is commanded closed contactor_open_request is raised for 3 s with '
     'close_request held, then both fall and 0.5 s more pass'):
        f"{SEQUENCES}::test_open_request_during_precharge",
    ('the HV path is closed on request, and 0.5 s later close_request is withdrawn and the bench'
     ' runs 1 s'):
        f"{CM}::test_opening_order",
    ('the contactor manager alone closes the HV path on request, and 0.5 s later '
     'contactor_open_request is raised with close_request still raised, for 1 s'):
        f"{READINGS}::test_open_request_keeps_the_order",
    ('each contactor in turn is welded on a fresh bench and then commanded open: main positive '
     'and main negative by withdrawing close_request 0.3 s after the HV path closed (then '
     'watched 1.5 s), the precharge contactor by the closing sequence itself (watched 4 s from '
     'the close request)'):
        f"{CM}::test_weld_detection",
    ('the contactor manager alone closes the HV path, main positive is then welded for 2.5 s and'
     ' 0.3 s into the weld close_request is withdrawn; a fault_reset_request pulse comes 1 s '
     'into the weld, while main positive still reads closed, and another 3 s into it, once it '
     'reads open, then 0.5 s more pass'):
        f"{READINGS}::test_weld_survives_a_reset_while_closed",
    ('each contactor in turn never closes when commanded: on a fresh bench close_request is '
     'raised after 0.2 s and held for 4 s'):
        f"{CM}::test_feedback_mismatch",
    ('main negative fails to close for the first 1.5 s: close_request is raised after 0.2 s '
     'until feedback_mismatch is set (at most 1.2 s), then withdrawn; the contactor works again '
     'and 5 s pass without a reset, then a fault_reset_request pulse of 0.05 s and 0.5 s more'):
        f"{CM}::test_contactor_fault_latches",
    ('the contactor manager alone, its precharge resistor open, serves a close_request raised '
     'after 0.3 s and held for precharge_max_attempts × (precharge_timeout_s + '
     'precharge_retry_wait_s) + 2 s; then, on a fresh bench, main negative never closes and '
     'close_request, raised after 0.3 s, is held 1 s'):
        f"{READINGS}::test_contactor_state_through_retries_and_a_mismatch",
}
when_runs(ONE_OFF)
