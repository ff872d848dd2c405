"""What every OBSA step shares: the step decorators, and judging from a step.

Step modules take ``given``, ``when`` and ``then`` from here rather than from behave: the
same decorators, except that a module failing during a step (an :class:`AdapterError`:
it raised, hung or answered garbage) ends the step with the module's message instead of a
traceback. ``judge`` records a verdict through the harness and fails the step, with the
measured values and limits as its message, unless the verdict is pass.

This module defines no steps (behave also executes it as a step module, harmlessly); step
modules and ``environment.py`` import it as ``features.steps.verdicts``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import behave

from conformance.adapters import AdapterError
from conformance.report.model import TestResult
from conformance.session import Certification


class VerdictNotPassed(AssertionError):
    """A requirement was judged and did not pass; the scenario goes on to judge the rest."""


class ModuleError(AssertionError):
    """The module failed (raised, hung, answered garbage) during a step: its verdicts are
    errors. An AssertionError so that behave shows the message without a traceback."""


def module_errors(step: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an :class:`AdapterError` raised in ``step`` into a :class:`ModuleError`."""

    @functools.wraps(step)
    def run(context: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return step(context, *args, **kwargs)
        except AdapterError as exc:
            raise ModuleError(f"module error: {exc}") from exc

    return run


def _decorator(behave_decorator: Any) -> Callable[[str], Callable[..., Any]]:
    def decorate(pattern: str) -> Callable[..., Any]:
        def register(step: Callable[..., Any]) -> Callable[..., Any]:
            behave_decorator(pattern)(module_errors(step))
            return step

        return register

    return decorate


given = _decorator(behave.given)
when = _decorator(behave.when)
then = _decorator(behave.then)


def judge(context: Any, requirement: str, measured: dict[str, float | None], *,
          message: str = "", events: dict[str, float] | None = None) -> TestResult:
    """``Harness.judge`` for a step: the step fails unless the verdict is pass.

    The scenario is allowed to continue after such a step, so that a scenario judging two
    requirements records both verdicts; any other failure still stops the scenario.
    """
    result = context.obsa.judge(requirement, measured, message=message, events=events)
    if result.verdict != "pass":
        context.scenario.continue_after_failed_step = True
        raise VerdictNotPassed(Certification.describe(result))
    return result
