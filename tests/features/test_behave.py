"""The Gherkin suite (``features/``, run by behave) end to end, as a user runs it:
``python -m behave features -D manifest=... -D report=...`` in a fresh process.

The reference passes every scenario; each faulty module of the catalogue that breaks a
requirement the feature files judge is rejected for exactly that requirement; a refused
manifest runs nothing. The runs go in parallel, one per core.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from behave.parser import parse_file

from conformance.manifest import reference_manifest_path
from tests.faulty.modules import CATALOGUE, Faulty

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ROOT / "features"
REQUIREMENT_TAG = re.compile(r"^OBSA-[A-Z]+-\d{3}$")
SUMMARY = re.compile(r"^(\d+) scenarios? passed, (\d+) failed", re.M)


def _scenarios() -> list[tuple[str, set[str]]]:
    """(name, requirement ids) of every scenario of the feature files."""
    out = []
    for path in sorted(FEATURES.glob("*.feature")):
        feature = parse_file(str(path))
        for scenario in feature.walk_scenarios():
            ids = {str(t) for t in scenario.effective_tags if REQUIREMENT_TAG.match(str(t))}
            out.append((scenario.name, ids))
    return out


SCENARIOS = _scenarios()
JUDGED = set().union(*(ids for _, ids in SCENARIOS))
#: the faulty modules whose broken requirements the feature files judge
REJECTABLE = [f for f in CATALOGUE if f.breaks <= JUDGED]


@dataclass
class Run:
    exit_code: int
    output: str
    report: dict[str, Any] | None

    def scenario_counts(self) -> tuple[int, int]:
        m = SUMMARY.search(self.output)
        assert m, f"no scenario summary in the behave output:\n{self.output}"
        return int(m.group(1)), int(m.group(2))

    def verdicts(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for r in (self.report or {}).get("results", []):
            if r["test_case"]:  # judged by a scenario (not filled in by the report)
                out.setdefault(r["requirement"], set()).add(r["verdict"])
        return out


def behave(manifest: Path | str, out: Path) -> Run:
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, "-m", "behave", "features", "-D", f"manifest={manifest}",
         "-D", f"report={out}", "--no-capture", "-f", "plain"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    path = out / "report.json"
    report = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    return Run(proc.returncode, proc.stdout + proc.stderr, report)


def _manifest(directory: Path, faulty: Faulty | None = None, **top: Any) -> Path:
    data = yaml.safe_load(reference_manifest_path().read_text(encoding="utf-8"))
    if faulty is not None:
        data["adapter"]["components"][faulty.component] = f"tests.faulty.modules:{faulty.name}"
    data.update(top)
    path = directory / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    base = tmp_path_factory.mktemp("behave")
    jobs: dict[str, tuple[Path | str, Path]] = {"reference": ("reference", base / "reference")}
    for faulty in REJECTABLE:
        (base / faulty.name).mkdir()
        jobs[faulty.name] = (_manifest(base / faulty.name, faulty), base / faulty.name / "out")
    (base / "refused").mkdir()
    jobs["refused"] = (_manifest(base / "refused", profiles=["no_such_profile"]),
                       base / "refused" / "out")
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        futures = {name: pool.submit(behave, *job) for name, job in jobs.items()}
        return {name: f.result() for name, f in futures.items()}


def test_the_feature_files_judge_requirements() -> None:
    assert SCENARIOS, "no scenario in features/*.feature"
    untagged = [name for name, ids in SCENARIOS if not ids]
    assert not untagged, f"scenarios without a requirement tag: {untagged}"
    assert {"OBSA-SAFE-001", "OBSA-SAFE-013", "OBSA-CONT-001", "OBSA-CONT-002"} <= JUDGED


def test_reference_passes_every_scenario(runs: dict[str, Run]) -> None:
    run = runs["reference"]
    assert run.exit_code == 0, run.output
    assert run.scenario_counts() == (len(SCENARIOS), 0), run.output
    verdicts = run.verdicts()
    assert {rid: verdicts.get(rid) for rid in JUDGED} == {rid: {"pass"} for rid in JUDGED}


def test_ovthresholdhigh_is_rejected_for_safe_001(runs: dict[str, Run]) -> None:
    run = runs["OvThresholdHigh"]
    assert run.exit_code != 0, run.output
    assert run.scenario_counts() == (len(SCENARIOS) - 1, 1), run.output
    verdicts = run.verdicts()
    assert verdicts["OBSA-SAFE-001"] == {"fail"}
    assert {rid for rid in JUDGED if verdicts.get(rid) != {"pass"}} == {"OBSA-SAFE-001"}


@pytest.mark.parametrize("faulty", REJECTABLE, ids=lambda f: f.name)
def test_faulty_module_is_rejected_for_its_requirement(runs: dict[str, Run],
                                                       faulty: Faulty) -> None:
    run = runs[faulty.name]
    assert run.exit_code != 0, run.output
    not_passed = {rid for rid in JUDGED if run.verdicts().get(rid) != {"pass"}}
    assert not_passed == set(faulty.breaks), run.output


def test_refused_manifest_runs_nothing(runs: dict[str, Run]) -> None:
    run = runs["refused"]
    assert run.exit_code != 0
    assert "refused" in run.output and "no_such_profile" in run.output, run.output
    assert run.report is not None and run.report["outcome"] == "refused"
    assert not run.verdicts()
