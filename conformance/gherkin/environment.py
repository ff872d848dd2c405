"""behave's hooks for the Gherkin suite (``features/environment.py`` imports them).

Run directly::

    python -m behave features -D module=reference -D report=obsa-report

``-D module=MANIFEST`` (or ``-D manifest=``; default ``reference``), ``-D report=DIR``
(default ``obsa-report``), ``-D spec=DIR`` (default: the bundled spec) and
``-D in_process=yes`` (debugging mode). Or through ``obsa certify --suite gherkin|both``,
which hands its own certification to the run (:mod:`.runner`).

One certification per run; one harness per scenario, for the applicable requirements among
its tags (a scenario none of whose requirements applies is skipped); each finished
scenario is handed to :meth:`~conformance.session.Certification.collect`, as the pytest
plugin hands each finished test case. The report files are the pytest suite's.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path
from typing import Any

from ..adapters import AdapterError
from ..report.model import TestResult
from ..session import (
    BLOCKING,
    STOPS,
    Certification,
    Interrupted,
    colour_wanted,
    eta,
    progress_line,
)
from ..spec.models import REQ_ID
from .steps import JUDGED, ModuleError, SuiteError, VerdictNotPassed

REQUIREMENT_TAG = re.compile(REQ_ID)  # the spec's pattern of a requirement id
PROVIDED: list[Certification] = []
"""A certification held by ``obsa certify`` (set by :mod:`.runner`): used, not finished."""


def requirement_ids(statement: Any) -> list[str]:
    """The requirement ids among a scenario's tags (its feature's included)."""
    return sorted({str(t) for t in statement.effective_tags if REQUIREMENT_TAG.match(str(t))})


def selected(expression: str, scenario: Any) -> bool:
    """Whether ``-k EXPRESSION`` (pytest's syntax: words joined by and, or, not and
    parentheses) selects ``scenario``: a word matches when it is part of the scenario's name
    or of one of its tags, case ignored, as pytest matches the names of its test cases."""
    return selects(expression, [scenario.name, *(str(t) for t in scenario.effective_tags)])


def selects(expression: str, names: list[str]) -> bool:
    """Whether ``-k EXPRESSION`` selects what ``names`` name: a word matches when it is part
    of one of them, case ignored (a test case's key, a scenario's name and tags)."""
    from _pytest.mark.expression import Expression

    haystack = [n.lower() for n in names]

    def matches(word: str, /, **kwargs: str | int | bool | None) -> bool:
        return any(word.lower() in h for h in haystack)

    return Expression.compile(expression).evaluate(matches)


def expression_problem(expression: str) -> str | None:
    """Why ``-k EXPRESSION`` is no expression of pytest's syntax; None when it is one."""
    from _pytest.mark.expression import Expression

    try:
        Expression.compile(expression)
    except SyntaxError as exc:  # pytest's ParseError, in the versions that name it
        return (f"-k {expression!r}: expected words joined by and, or, not and parentheses: "
                f"{getattr(exc, 'msg', None) or exc}")
    return None


VECTOR_TAG = "vectors."
"""An ``Examples`` block tagged ``@vectors.<kind>`` (a kind of
:data:`conformance.vectors.discovery.KINDS`) takes a row for every vector of that kind the
run judges that it does not list: the vendor's (``obsa certify --vectors``)."""


def add_vector_rows(features: list[Any]) -> None:
    """Extend every ``@vectors.<kind>`` examples table of ``features`` with the vectors of
    that kind the run judges and the table lacks (one row each, the id in its first column,
    the row's other cells copied from its first row): the Gherkin suite judges a vendor's
    vectors as the pytest suite does."""
    from ..vectors.discovery import discover_vectors

    for feature in features:
        for outline in feature.walk_scenarios(with_outlines=True):
            for examples in getattr(outline, "examples", None) or []:
                kinds = [str(t)[len(VECTOR_TAG):] for t in examples.tags
                         if str(t).startswith(VECTOR_TAG)]
                table = examples.table
                if not kinds or table is None or not table.rows:
                    continue
                listed = {row.cells[0] for row in table.rows}
                for kind in kinds:
                    for found in discover_vectors(kind):
                        if found.id not in listed:
                            table.add_row([found.id, *table.rows[0].cells[1:]])
                            listed.add(found.id)


def _say(context: Any, line: str) -> None:
    if getattr(context, "obsa_quiet", False):
        return
    print(line, file=sys.stdout, flush=True)


def before_all(context: Any) -> None:
    userdata = context.config.userdata
    # set here, mutated in place: behave drops what a scenario sets on the context
    context.planned, context.ran, context.done, context.total = set(), set(), [0], [0]
    context.started_all = time.perf_counter()
    context.obsa_quiet = bool(userdata.get("quiet"))
    if PROVIDED:
        context.cert, context.owned = PROVIDED[-1], False
    else:
        manifest = userdata.get("module", userdata.get("manifest", "reference"))
        context.cert = Certification.prepare(
            manifest, spec_dir=userdata.get("spec"),
            out_dir=Path(userdata.get("report", "obsa-report")),
            in_process=str(userdata.get("in_process", "")).lower() in ("1", "yes", "true"))
        context.cert.suites = ["gherkin"]
        context.owned = True
        for line in context.cert.header_lines():
            _say(context, line)
    cert: Certification = context.cert
    select = userdata.get("select")
    problem = expression_problem(select) if select else None
    if problem:
        _say(context, f"OBSA: {problem}")
        context.abort(reason="bad -k expression")
        return
    if context.owned:  # run directly: the vector directories of OBSA_VECTORS are checked here
        from ..certify import check_vectors
        from ..vectors.discovery import ENV, extra_dirs

        problem = check_vectors(extra_dirs())
        if problem:
            _say(context, f"OBSA: {ENV}: {problem}")
            context.abort(reason="a bad vector directory")
            return
    add_vector_rows(getattr(context._runner, "features", None) or [])
    # the progress total: the applicable requirements of every scenario the runner holds
    context.total = [sum(len(cert.applicable(requirement_ids(scenario)))
                         for feature in getattr(context._runner, "features", None) or []
                         for scenario in feature.walk_scenarios()
                         if not select or selected(select, scenario))]
    if cert.refused:
        if context.owned:
            _say(context, f"OBSA: manifest {cert.manifest_path} refused:")
            for issue in cert.issues:
                _say(context, f"  {issue}")
        context.abort(reason="the manifest was refused")


def before_feature(context: Any, feature: Any) -> None:
    """Note every scenario's requirements, so that those of scenarios left out of the run
    (by --tags or --name) are reported as deselected rather than as untested."""
    for scenario in feature.walk_scenarios():
        context.planned.update(requirement_ids(scenario))


def before_scenario(context: Any, scenario: Any) -> None:
    cert: Certification = context.cert
    context.obsa = None
    context.case_key = None
    context.shown = set()
    context.scenario_requirements = ids = requirement_ids(scenario)
    if not ids:
        raise SuiteError(f"scenario '{scenario.name}' names no requirement: tag it with the "
                         "ids it judges, e.g. @OBSA-SAFE-001")
    applicable = cert.applicable(ids)
    if not applicable:
        scenario.skip(f"{', '.join(ids)} do not apply to this module")
        return
    select = context.config.userdata.get("select")
    if select and not selected(select, scenario):
        scenario.skip(f"deselected by -k {select}")
        return
    context.ran.update(ids)
    context.started = time.perf_counter()
    try:
        context.obsa = cert.harness(scenario.name, applicable)
    except AdapterError as exc:
        _collect(context, scenario, None, exc)
        raise


def _stopped_by(scenario: Any) -> BaseException | None:
    """Why the scenario's steps stopped, as the collector understands it: the module's
    error, the suite's, a precondition or a defect; None when every step passed or only
    verdicts failed."""
    for step in scenario.all_steps:
        exc = step.exception
        if not step.status.has_failed() or isinstance(exc, VerdictNotPassed):
            continue
        if isinstance(exc, ModuleError) and isinstance(exc.__cause__, AdapterError):
            return exc.__cause__
        if exc is None:  # an undefined step
            return SuiteError(f"step '{step.keyword} {step.name}' has no definition")
        return exc
    return None


def _collect(context: Any, scenario: Any, harness: Any,
             exc: BaseException | None) -> list[TestResult]:
    cert: Certification = context.cert
    duration = time.perf_counter() - getattr(context, "started", time.perf_counter())
    results = cert.collect(scenario.name, context.scenario_requirements, harness, exc,
                           duration, suite="gherkin", case=context.case_key or "")
    total = context.total[0]
    terminal = colour_wanted(sys.stdout)
    for r in results:
        context.done[0] += 1
        done = context.done[0]
        total = max(total, done)
        _say(context, progress_line(done, total, r, colour=terminal,
                                    eta_s=eta(context.started_all, done, total) if terminal
                                    else None))
    return results


def after_scenario(context: Any, scenario: Any) -> None:
    """Hand the scenario to the collector; a verdict other than pass fails the scenario,
    and so does a requirement it is tagged with but shows no verdict of."""
    harness = getattr(context, "obsa", None)
    if harness is None:
        return
    exc = _stopped_by(scenario)
    unshown = set(harness.requirements) - context.shown
    if exc is None and context.case_key and unshown:
        exc = SuiteError(f"no Then step shows the verdict of {', '.join(sorted(unshown))}")
    results = _collect(context, scenario, harness, exc)
    bad = [r for r in results if r.verdict in BLOCKING]
    if bad and not scenario.status.has_failed():
        raise AssertionError("\n".join(Certification.describe(r) for r in bad))


def after_all(context: Any) -> None:
    cert: Certification | None = getattr(context, "cert", None)
    if cert is None:
        return
    if STOPS.received is not None and cert.interrupted_by is None:
        cert.interrupted_by = STOPS.received
    cert.deselected.update(cert.applicable(sorted(context.planned - context.ran)))
    if not getattr(context, "owned", True):
        return  # obsa certify finishes and writes the run
    report, paths = cert.conclude()
    lines = cert.summary_lines(report, paths)
    for line in lines[-2:] if cert.refused else lines:  # the issues were shown at the start
        _say(context, line)


__all__ = ["JUDGED", "Interrupted", "after_all", "after_scenario", "before_all",
           "before_feature", "before_scenario", "requirement_ids"]
