"""What every OBSA step module shares: the step decorators, running a test case, showing a
verdict.

A scenario is a readable face of one test case of the suite (:mod:`conformance.suite.cases`):

- its ``Given`` steps say what the bench holds (the module configured as declared, the pack
  at rest or charging);
- its ``When`` step says what the test case does to the module, in words and with the names
  of the declared values it uses, and runs that test case by its key (:func:`run_case`) —
  the very function the pytest suite runs, with the same seed, so the stimuli, the
  measurements and the evidence are the same;
- its ``Then`` steps say what is judged and show the verdict of each requirement
  (:func:`verdict`): a step fails unless its requirement passed, and the scenario goes on
  to show the others.

The checks are the harness's, never the steps': a step only runs a case or reads a verdict.
Step modules take ``given``, ``when`` and ``then`` from here rather than from behave: the
same decorators, except that a module failing during a step (an :class:`AdapterError`:
it raised, hung or answered garbage) ends the step with the module's message instead of a
traceback.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

import behave

from ..adapters import AdapterError
from ..session import Certification
from ..suite.cases import case as find_case

JUDGED = re.compile(r"judged against (OBSA-[A-Z]+-\d{3})")
"""How a Then step names the requirement whose verdict it shows (checked by the tests:
every requirement a scenario is tagged with has such a step)."""


class VerdictNotPassed(AssertionError):
    """A requirement was judged and did not pass; the scenario goes on to show the rest."""


class ModuleError(AssertionError):
    """The module failed (raised, hung, answered garbage) during a step: its verdicts are
    errors. An AssertionError so that behave shows the message without a traceback."""


class SuiteError(AssertionError):
    """A scenario that does not fit its test case (wrong tags, unknown case): a defect of the
    Gherkin suite, reported as an error of the requirements it names."""


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


def when_runs(sentences: dict[str, str]) -> None:
    """Register a When step for each sentence of ``sentences`` (sentence → case key) that
    runs its test case: the one-off scenarios, whose sentence describes their case alone."""
    for sentence, key in sentences.items():
        def runs(context: Any, key: str = key) -> None:
            run_case(context, key)

        runs.__doc__ = f"Runs {key}."
        when(sentence)(runs)


_RECORDING: list[list[str]] = []


@contextlib.contextmanager
def recording() -> Iterator[list[str]]:
    """While on, :func:`run_case` checks and names its test case but does not run it: the
    keys named are collected in the list yielded (:mod:`.catalogue` reads the suite so)."""
    named: list[str] = []
    _RECORDING.append(named)
    try:
        yield named
    finally:
        _RECORDING.pop()


def run_case(context: Any, key: str) -> None:
    """Run the suite's test case ``key`` on the scenario's harness, seeded as its pytest
    twin. The scenario's requirement tags must be exactly the case's requirements."""
    harness = context.obsa
    if getattr(context, "case_key", None):
        raise SuiteError(f"the scenario already ran {context.case_key}: one test case per "
                         "scenario")
    try:
        case = find_case(key)
    except KeyError as exc:
        raise SuiteError(str(exc.args[0])) from None
    tagged = set(context.scenario_requirements)
    if tagged != set(case.requirements):
        raise SuiteError(f"the scenario is tagged {', '.join(sorted(tagged))} but its test case "
                         f"{key} judges {', '.join(case.requirements)}")
    context.case_key = key
    if _RECORDING:
        _RECORDING[-1].append(key)
        return
    harness.seed = context.cert.case_seed(key)
    case.run(harness)


def verdict(context: Any, requirement: str) -> None:
    """Show the verdict the scenario's test case gave ``requirement``: the step fails,
    naming the measured values and the limits, unless every result of it passed."""
    if not getattr(context, "case_key", None):
        raise SuiteError("no test case ran before this step (a When step runs it)")
    context.shown.add(requirement)
    harness = context.obsa
    if requirement not in context.scenario_requirements:
        raise SuiteError(f"{requirement} is not among the scenario's tags")
    if requirement not in harness.requirements:
        return  # not applicable to this module: the report says why
    results = [r for r in harness.results if r.requirement == requirement]
    if not results:
        raise SuiteError(f"the test case {context.case_key} recorded no verdict for "
                         f"{requirement}")
    bad = [r for r in results if r.verdict != "pass"]
    if bad:
        context.scenario.continue_after_failed_step = True
        raise VerdictNotPassed("\n".join(Certification.describe(r) for r in bad))


JUDGED_AGAINST = "{claim}, judged against {requirement}"
"""The pattern of the one Then step (registered by the step library, ``features/steps``)."""


def judged_against(context: Any, claim: str, requirement: str) -> None:
    """The one Then step: its claim says in words what the requirement asks; the verdict is
    the test case's."""
    verdict(context, requirement)
