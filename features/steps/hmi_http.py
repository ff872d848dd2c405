"""Steps of the HMI-over-HTTP scenarios (area HMI): each sentence runs its test case."""

from __future__ import annotations

from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when
from conformance.suite.test_hmi_http import SAMPLES, TOKEN_EVERY

MODULE = "test_hmi_http"
#: the token case asks at every TOKEN_EVERY-th pause
TOKEN_PAUSES = len(range(0, SAMPLES, TOKEN_EVERY))


def _check(pauses: int, expected: int = SAMPLES) -> None:
    if pauses != expected:
        raise SuiteError(f"the test case pauses {expected} times; the scenario says {pauses}")


@when("the snapshot resource is polled after the step at {pauses:d} seeded pauses")
def lag(context: Any, pauses: int) -> None:
    _check(pauses)
    run_case(context, f"{MODULE}::test_http_snapshot_lag")


@when("every resource that carries outputs is read at {pauses:d} seeded pauses, once it "
      "serves the step's snapshot")
def content(context: Any, pauses: int) -> None:
    _check(pauses)
    run_case(context, f"{MODULE}::test_http_content")


@when("every write method of the binding is sent to every resource with a body naming every "
      "output and the vehicle's commands at {pauses:d} seeded pauses")
def writes(context: Any, pauses: int) -> None:
    _check(pauses)
    run_case(context, f"{MODULE}::test_http_read_only")


@when("every resource the service serves is asked without the token and with another one at "
      "{pauses:d} seeded pauses")
def token(context: Any, pauses: int) -> None:
    _check(pauses, TOKEN_PAUSES)
    run_case(context, f"{MODULE}::test_http_token")


@when("the Annex VII resource is read at {pauses:d} seeded pauses, once it serves the step's "
      "snapshot")
def annex_vii(context: Any, pauses: int) -> None:
    _check(pauses)
    run_case(context, f"{MODULE}::test_http_annex_vii")
