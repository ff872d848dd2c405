"""The Gherkin suite (``features/``): what it covers, and that it judges as the pytest suite.

Static checks read the feature files as behave parses them: every scenario names
requirements of the spec, shows the verdict of each of them in a Then step, and every
requirement a test case verifies has a scenario (the coverage table is printed). The runs
check the rest: behave run directly as a user runs it, its scenario counts checked (behave
exits 0 when nothing matched); a refused manifest runs nothing. (The reference safety core
certified by both suites in one run with no disagreement, every test case run by exactly
one scenario with the same measured values and evidence as its pytest twin: the
catalogue's run of it, tests/faulty/test_certify_catalogue.py.)
(The faulty-module catalogues run the Gherkin scenarios too, for one faulty module per
requirement, on the scenarios of what it breaks: tests/faulty/reports.py gherkin_sample.)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from behave.parser import parse_file

from conformance.gherkin.steps import JUDGED
from conformance.manifest import safety_core_manifest_path
from conformance.paths import features_dir
from conformance.spec import load_spec
from conformance.suite.cases import all_cases

ROOT = Path(__file__).resolve().parents[2]
FEATURES = features_dir()
REQUIREMENT_TAG = re.compile(r"^OBSA-[A-Z]+-\d{3}$")
SUMMARY = re.compile(r"^(\d+) scenarios? passed, (\d+) failed, (\d+) skipped", re.M)
STEPS = re.compile(r"^(\d+) steps? passed, (\d+) failed, (\d+) skipped(?:, (\d+) undefined)?",
                   re.M)
BASIC = ROOT / "reference_impl" / "manifest_basic_protection.yaml"


def _scenarios() -> list[dict[str, Any]]:
    """Every scenario of the feature files (outlines expanded), with its tags and the
    requirements its Then steps show."""
    out = []
    for path in sorted(FEATURES.glob("*.feature")):
        feature = parse_file(str(path))
        for scenario in feature.walk_scenarios():
            tags = {str(t) for t in scenario.effective_tags}
            out.append({"name": scenario.name, "file": path.name,
                        "requirements": {t for t in tags if REQUIREMENT_TAG.match(t)},
                        "tags": tags,
                        "shown": {m.group(1) for s in scenario.steps
                                  for m in [JUDGED.search(s.name)] if m}})
    return out


SCENARIOS = _scenarios()
SPEC = load_spec()
CASES = all_cases()
#: every requirement a test case of the suite verifies
TESTED = set().union(*(c.requirements for c in CASES.values()))


def test_every_scenario_names_requirements_of_the_spec() -> None:
    assert SCENARIOS, f"no scenario in {FEATURES}"
    untagged = [s["name"] for s in SCENARIOS if not s["requirements"]]
    assert not untagged, f"scenarios without a requirement tag: {untagged}"
    unknown = {(s["name"], r) for s in SCENARIOS for r in s["requirements"]
               if r not in SPEC.requirements}
    assert not unknown, f"tags that name no requirement of the spec: {sorted(unknown)}"
    profiles = set(SPEC.profiles)
    unprofiled = [s["name"] for s in SCENARIOS if not s["tags"] & profiles]
    assert not unprofiled, f"scenarios without a profile tag: {unprofiled}"


def test_every_tagged_requirement_shows_its_verdict() -> None:
    wrong = {s["name"]: (sorted(s["requirements"]), sorted(s["shown"])) for s in SCENARIOS
             if s["requirements"] != s["shown"]}
    assert not wrong, ("scenarios whose Then steps ('..., judged against ID') do not show "
                       f"exactly the requirements of their tags (tags, shown): {wrong}")


def test_every_tested_requirement_has_a_scenario() -> None:
    """The coverage table: per requirement a test case verifies, its pytest test cases
    and its scenarios."""
    per_case = Counter(r for c in CASES.values() for r in c.requirements)
    per_scenario = Counter(r for s in SCENARIOS for r in s["requirements"])
    print(f"\n{'requirement':<15} {'test cases':>10} {'scenarios':>10}")
    for rid in sorted(TESTED | set(per_scenario)):
        print(f"{rid:<15} {per_case[rid]:>10} {per_scenario[rid]:>10}")
    missing = sorted(TESTED - set(per_scenario))
    assert not missing, f"requirements verified by a test case but by no scenario: {missing}"
    assert set(per_scenario) <= TESTED, (
        f"scenarios for requirements no test case verifies: {set(per_scenario) - TESTED}")


def test_every_requirement_verified_by_test_has_a_test_case() -> None:
    """In the profiles the suites cover completely, every requirement whose verification is
    'test' is verified by a test case (hence by a scenario); each such profile has its
    scenarios."""
    from conformance.suite import COMPLETE_PROFILES

    covered = set(COMPLETE_PROFILES)
    tagged = set().union(*(s["tags"] for s in SCENARIOS)) & set(SPEC.profiles)
    assert covered <= tagged, f"complete profiles without scenarios: {covered - tagged}"
    untested = sorted(r.id for p in sorted(covered) for r in SPEC.requirements_of_profile(p)
                      if r.verification == "test" and r.id not in TESTED)
    assert not untested, f"requirements to be verified by test without a test case: {untested}"


def test_each_test_case_has_exactly_one_scenario() -> None:
    """Read without running (:mod:`conformance.gherkin.catalogue`): each scenario's steps
    name one test case, whose requirements are its tags; each test case is named once."""
    from conformance.gherkin.catalogue import scenarios

    found = scenarios()
    problems = [(s.location, s.problem) for s in found if s.problem]
    assert not problems, problems
    ran = Counter(s.case for s in found)
    assert {k: n for k, n in ran.items() if n != 1} == {}, "test cases with several scenarios"
    assert set(ran) == set(CASES), f"test cases without a scenario: {set(CASES) - set(ran)}"
    assert len(found) == len(SCENARIOS)


# ----------------------------------------------------------------------------- runs
def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")


def _report(out: Path) -> dict[str, Any] | None:
    path = out / "report.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def verdicts_of(report: dict[str, Any]) -> dict[str, str]:
    """Requirement → verdict of the requirements some test case judged."""
    return {r["requirement"]: r["verdict"] for r in report["results"] if r["case"]}


def _behave(manifest: str | Path, out: Path) -> tuple[int, str, dict[str, Any] | None]:
    proc = subprocess.run(
        [sys.executable, "-m", "behave", str(FEATURES), "-D", f"module={manifest}",
         "-D", f"report={out}", "-D", "in_process=yes", "-f", "plain", "--no-capture"],
        cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr, _report(out)


def _counts(pattern: re.Pattern[str], output: str) -> tuple[int, ...]:
    m = pattern.search(output)
    assert m, f"no summary in the behave output:\n{output[-3000:]}"
    return tuple(int(g or 0) for g in m.groups())


@pytest.mark.slow
def test_behave_runs_every_scenario_as_a_user_runs_it(tmp_path: Path) -> None:
    """``python -m behave features -D module=...``: every scenario of the basic-protection
    profile runs and passes, the others are skipped; no step is undefined."""
    code, output, report = _behave(BASIC, tmp_path)
    mine = [s for s in SCENARIOS if "bmu_basic_protection" in s["tags"]]
    assert mine
    assert code == 0, output[-5000:]
    assert _counts(SUMMARY, output) == (len(mine), 0, len(SCENARIOS) - len(mine)), output[-3000:]
    _, failed, _, undefined = _counts(STEPS, output)
    assert failed == undefined == 0, output[-3000:]
    assert report is not None and report["suites"] == ["gherkin"]
    assert {r["requirement"] for r in report["results"] if r["case"]} == {
        r for s in mine for r in s["requirements"]}
    assert all(r["verdict"] == "pass" for r in report["results"] if r["case"])


def test_behave_with_a_refused_manifest_runs_nothing(tmp_path: Path) -> None:
    data = yaml.safe_load(safety_core_manifest_path().read_text(encoding="utf-8"))
    data["profiles"] = ["no_such_profile"]
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code, output, report = _behave(manifest, tmp_path / "out")
    assert code != 0
    assert "refused" in output and "no_such_profile" in output, output
    assert report is not None and report["outcome"] == "refused"
    assert not [r for r in report["results"] if r["case"]]
