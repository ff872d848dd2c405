"""The Gherkin suite's run: one :class:`~conformance.session.Certification`, as in
``obsa certify`` and ``pytest --obsa-module``, and one harness per scenario.

    python -m behave features -D manifest=reference -D report=obsa-report

``-D manifest=PATH`` (default ``reference``), ``-D report=DIR`` (default ``obsa-report``)
and ``-D spec=DIR`` (default: the bundled spec). A scenario names the requirements it
judges in tags such as ``@OBSA-SAFE-001``; its steps drive ``context.obsa`` (a
:class:`~conformance.harness.context.Harness`). The verdicts go into the same report as
the pytest suite's: report.json, junit.xml and report.html in the report directory.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from conformance.adapters import AdapterError
from conformance.report.model import TestResult, VerdictName
from conformance.session import BLOCKING, Certification, unjudged_verdict
from conformance.spec.models import REQ_ID
from features.steps.verdicts import ModuleError, VerdictNotPassed

REQUIREMENT_TAG = re.compile(REQ_ID)  # the spec's pattern of a requirement id


def requirement_ids(statement: Any) -> list[str]:
    """The requirement ids among a scenario's tags (its feature's included)."""
    return [str(t) for t in statement.effective_tags if REQUIREMENT_TAG.match(str(t))]


def before_all(context: Any) -> None:
    userdata = context.config.userdata
    cert = Certification.prepare(userdata.get("manifest", "reference"),
                                 spec_dir=userdata.get("spec"),
                                 out_dir=Path(userdata.get("report", "obsa-report")))
    context.cert = cert
    context.planned, context.ran = set(), set()
    for line in cert.header_lines():
        print(line)
    if cert.refused:
        print(f"OBSA: manifest {cert.manifest_path} refused:")
        for issue in cert.issues:
            print(f"  {issue}")
        context.abort(reason="the manifest was refused")


def before_feature(context: Any, feature: Any) -> None:
    """Note every scenario's requirements, so that those of scenarios left out of the run
    (by --tags or --name) are reported as deselected rather than as untested."""
    for scenario in feature.walk_scenarios():
        context.planned.update(requirement_ids(scenario))


def before_scenario(context: Any, scenario: Any) -> None:
    cert: Certification = context.cert
    context.obsa = None
    ids = requirement_ids(scenario)
    if not ids:
        raise AssertionError(f"scenario '{scenario.name}' names no requirement: tag it "
                             "with the ids it judges, e.g. @OBSA-SAFE-001")
    applicable = cert.applicable(ids)
    if not applicable:
        scenario.skip(f"{', '.join(ids)} do not apply to this module")
        return
    context.ran.update(ids)
    try:
        context.obsa = cert.harness(scenario.name, applicable)
    except AdapterError as exc:
        for rid in applicable:
            cert.add(cert.unjudged(scenario.name, rid, "error", f"module error: {exc}"))
        raise


def _unjudged_verdict(scenario: Any) -> tuple[VerdictName, str]:
    """The verdict of a requirement the scenario did not judge, from why its steps stopped."""
    exc = next((s.exception for s in scenario.all_steps
                if s.status.has_failed() and not isinstance(s.exception, VerdictNotPassed)),
               None)
    if isinstance(exc, ModuleError):  # the module's AdapterError, as behave shows it
        return "error", str(exc)
    return unjudged_verdict(exc, "scenario")


def after_scenario(context: Any, scenario: Any) -> None:
    """Collect the scenario's verdicts; a verdict other than pass fails the scenario."""
    cert: Certification = context.cert
    harness = getattr(context, "obsa", None)
    if harness is None:
        return
    harness.apply_monitors()  # the always-on monitors, as in the pytest suite
    results: list[TestResult] = list(harness.results)
    judged = {r.requirement for r in results}
    for rid in harness.requirements:
        if rid not in judged:
            verdict, message = _unjudged_verdict(scenario)
            results.append(cert.unjudged(scenario.name, rid, verdict, message))
    for r in results:
        cert.add(r.model_copy(update={"duration_s": round(scenario.duration, 3)}))
        print(f"OBSA: {r.requirement} {r.verdict}")
    bad = [r for r in results if r.verdict in BLOCKING]
    if bad and not scenario.status.has_failed():
        raise AssertionError("\n".join(cert.describe(r) for r in bad))


def after_all(context: Any) -> None:
    cert: Certification | None = getattr(context, "cert", None)
    if cert is None:
        return
    cert.deselected.update(cert.applicable(sorted(context.planned - context.ran)))
    report = cert.finish(time.time())
    cert.close()
    paths = cert.write(report)
    lines = cert.summary_lines(report, paths)
    for line in lines[-2:] if cert.refused else lines:  # the issues were shown at the start
        print(line)
