"""The machinery both suites share, on small inputs: the collector, the merged report of two
suites and its disagreements, a Gherkin scenario that does not fit its test case, a step
without a definition, and the Gherkin process of ``--suite both`` ending without results."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.certify import _SuiteChild
from conformance.gherkin.runner import run_gherkin
from conformance.harness.context import PreconditionFailed
from conformance.manifest import safety_core_manifest_path
from conformance.report.model import TestResult
from conformance.session import Certification
from conformance.suite.cases import all_cases, case


@pytest.fixture
def cert(tmp_path: Path) -> Any:
    c = Certification.prepare(safety_core_manifest_path(), None, tmp_path / "out", in_process=True)
    assert not c.refused, c.issues
    yield c
    c.close()


def _result(cert: Certification, rid: str, verdict: str, suite: str) -> TestResult:
    return cert.unjudged("case", rid, verdict, "made up").model_copy(  # type: ignore[arg-type]
        update={"suite": suite, "case": "test_x::test_y"})


# ----------------------------------------------------------------------------- the collector
def test_collect_fills_what_a_case_did_not_judge(cert: Certification) -> None:
    h = cert.harness("t", ["OBSA-SAFE-001", "OBSA-SAFE-002"], "key")
    h.judge("OBSA-SAFE-001", {"trip_threshold_error_V": 0.0, "reaction_time_s": 0.1})
    out = cert.collect("t", ["OBSA-SAFE-001", "OBSA-SAFE-002"], h,
                       PreconditionFailed("the HV path never closed", blame="OBSA-CONT-002"),
                       1.23456, suite="gherkin", case="key")
    assert [(r.requirement, r.verdict) for r in out] == [("OBSA-SAFE-001", "pass"),
                                                        ("OBSA-SAFE-002", "inconclusive")]
    assert all(r.suite == "gherkin" and r.case == "key" and r.duration_s == 1.235 for r in out)
    assert "depends on OBSA-CONT-002" in out[1].evidence.message
    assert cert.results == out


def test_the_case_key_seeds_the_harness(cert: Certification) -> None:
    """A scenario and its pytest twin have different names but the same key: same seed."""
    a = cert.harness("conformance/suite/test_x.py::test_y", ["OBSA-SAFE-001"], "k::x")
    b = cert.harness("A scenario about it -- @1.1", ["OBSA-SAFE-001"], "k::x")
    c = cert.harness("conformance/suite/test_x.py::test_y", ["OBSA-SAFE-001"], "k::z")
    assert a.seed == b.seed == cert.case_seed("k::x") != c.seed


def test_cases_have_keys_functions_and_requirements() -> None:
    cases = all_cases()
    assert "test_safety_supervisor::test_msl_fault[cell_overvoltage]" in cases
    msl = case("test_safety_supervisor::test_msl_fault[cell_overvoltage]")
    assert msl.requirements == ("OBSA-SAFE-001",) and msl.argument is not None
    with pytest.raises(KeyError, match="did you mean .*test_msl_fault"):
        case("test_safety_supervisor::test_msl_fault[no_such_limit]")


# ----------------------------------------------------------------------------- merged report
def test_two_suites_that_agree_certify(cert: Certification) -> None:
    cert.suites = ["pytest", "gherkin"]
    for suite in cert.suites:
        cert.results += [_result(cert, r.id, "pass", suite) for r in cert.scope()]
    report = cert.finish(time.time())
    assert report.disagreements == []
    assert report.suite_verdicts["OBSA-SAFE-001"] == {"pytest": "pass", "gherkin": "pass"}
    assert report.outcome == "not-certified"  # in process: never certified
    cert.in_process = False
    assert cert.finish(time.time()).outcome == "certified"


def test_a_disagreement_fails_the_run_and_is_named(cert: Certification) -> None:
    cert.suites = ["pytest", "gherkin"]
    cert.in_process = False
    for suite in cert.suites:
        cert.results += [_result(cert, r.id, "pass", suite) for r in cert.scope()]
    cert.results.append(_result(cert, "OBSA-SAFE-003", "fail", "gherkin"))
    report = cert.finish(time.time())
    assert report.disagreements == ["OBSA-SAFE-003"]
    assert report.suite_verdicts["OBSA-SAFE-003"] == {"pytest": "pass", "gherkin": "fail"}
    assert report.outcome == "not-certified"
    lines = cert.summary_lines(report, [])
    assert any("the suites disagree on OBSA-SAFE-003" in line for line in lines)
    from conformance.report import render_html, render_junit

    page = render_html(report)
    assert "the suites disagree" in page and "<th>gherkin</th>" in page
    assert 'name="suite" value="gherkin"' in render_junit(report)


def test_a_suite_that_judged_nothing_is_inconclusive_per_requirement(cert: Certification
                                                                     ) -> None:
    cert.suites = ["pytest", "gherkin"]
    cert.results += [_result(cert, r.id, "pass", "pytest") for r in cert.scope()]
    report = cert.finish(time.time())
    gherkin = [r for r in report.results if r.suite == "gherkin"]
    assert gherkin and {r.verdict for r in gherkin} == {"inconclusive"}
    # no test case of the Gherkin suite ran (deselected, say): nothing to disagree about,
    # and the run is not certified all the same
    assert report.disagreements == []
    assert report.outcome == "not-certified"


# ----------------------------------------------------------------------------- bad scenarios
def _features(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "features"
    (d / "steps").mkdir(parents=True)
    (d / "environment.py").write_text(
        "from conformance.gherkin.environment import (after_all, after_scenario, before_all,"
        " before_feature, before_scenario)\n", encoding="utf-8")
    (d / "steps" / "steps.py").write_text(
        "from conformance.gherkin.steps import judged_against, run_case, when  # noqa: F401\n"
        "@when('the over-voltage sweep of the suite runs')\n"
        "def sweep(context):\n"
        "    run_case(context, 'test_safety_supervisor::test_msl_fault[cell_overvoltage]')\n",
        encoding="utf-8")
    (d / "x.feature").write_text(text, encoding="utf-8")
    return d


WRONG_TAGS = """@bmu_safety_core
Feature: wrong
  @OBSA-SAFE-002
  Scenario: the over-voltage case tagged with the under-voltage requirement
    When the over-voltage sweep of the suite runs
    Then it trips, judged against OBSA-SAFE-002
"""

UNDEFINED = """@bmu_safety_core
Feature: undefined
  @OBSA-SAFE-001
  Scenario: a sentence no step knows
    When something nobody wrote a step for happens
    Then it trips, judged against OBSA-SAFE-001
"""


@pytest.mark.parametrize("text, expected", [
    (WRONG_TAGS, "tagged OBSA-SAFE-002 but its test case "
                 "test_safety_supervisor::test_msl_fault[cell_overvoltage] judges OBSA-SAFE-001"),
    (UNDEFINED, "has no definition"),
], ids=["wrong-tags", "undefined-step"])
def test_a_scenario_that_does_not_fit_is_an_error_naming_why(cert: Certification,
                                                            tmp_path: Path, text: str,
                                                            expected: str) -> None:
    cert.suites = ["gherkin"]
    assert run_gherkin(cert, progress=False, features=_features(tmp_path, text)) == 1
    (result,) = [r for r in cert.results if r.suite == "gherkin"]
    assert result.verdict == "error"
    assert expected in result.evidence.message


# ----------------------------------------------------------------------------- --suite both
def test_a_gherkin_process_without_results_leaves_errors_saying_why(cert: Certification,
                                                                    tmp_path: Path) -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(3)
    child = _SuiteChild(pid, tmp_path / ".gherkin-x.json", "gherkin", None)
    child.join(cert, progress=False)
    gherkin = [r for r in cert.results if r.suite == "gherkin"]
    assert gherkin and {r.verdict for r in gherkin} == {"error"}
    assert "exited with status 3 without its results" in gherkin[0].evidence.message
