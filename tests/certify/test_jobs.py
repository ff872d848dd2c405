"""``obsa certify --jobs N``: the test cases shared among N processes, each with its own
start of the module, judge exactly as one process does, in one report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.certify import RunOptions, shards
from conformance.session import Certification

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "reference_impl" / "manifest.yaml"
SELECT = "diagnostics or contactor"


def _certify(out: Path, *extra: str, env: dict[str, str] | None = None
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "conformance", "certify", str(MANIFEST),
                           "--out", str(out), "--no-html", *extra], cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), **(env or {})),
                          capture_output=True, text=True, timeout=900)


def _judged(out: Path) -> dict[tuple[str, str], tuple[str, dict[str, Any]]]:
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return {(r["case"], r["requirement"]): (r["verdict"], {c["name"]: c["measured"]
                                                          for c in r["criteria"]})
            for r in report["results"] if r["case"]}


@pytest.mark.slow
def test_two_processes_judge_as_one(tmp_path: Path) -> None:
    one = _certify(tmp_path / "one", "-k", SELECT, "--jobs", "1")
    two = _certify(tmp_path / "two", "-k", SELECT, "--jobs", "2")
    assert one.returncode == two.returncode == 1, two.stdout[-3000:] + two.stderr[-3000:]
    assert "shared among 2 processes" in two.stdout
    assert "shared among" not in one.stdout
    for out, jobs in (("one", 1), ("two", 2)):
        report = json.loads((tmp_path / out / "report.json").read_text(encoding="utf-8"))
        assert report["environment"]["jobs"] == jobs
    judged_one, judged_two = _judged(tmp_path / "one"), _judged(tmp_path / "two")
    # every test case judged once, by one process or the other, to the same values
    assert len(judged_one) >= 10
    assert judged_two == judged_one
    assert all(verdict == "pass" for verdict, _ in judged_two.values())


def _manifest(tmp_path: Path, edit: Any = None) -> Path:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    if edit is not None:
        edit(data)
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _tcp(data: dict[str, Any]) -> None:
    data["adapter"] = {"type": "tcp", "options": {"address": "127.0.0.1:9"},
                       "components": dict.fromkeys(data["adapter"]["components"], "x")}


def test_only_a_module_the_run_starts_is_shared(tmp_path: Path) -> None:
    python = _manifest(tmp_path)
    assert shards(python, RunOptions(jobs=3)) == 3
    assert shards(python, RunOptions(jobs=3, in_process=True)) == 3
    assert shards(python, RunOptions(jobs=1)) == 1
    # one run that stops at its first failure, the Gherkin suite alone: one process
    assert shards(python, RunOptions(jobs=3, fail_fast=True)) == 1
    assert shards(python, RunOptions(jobs=3, suite="gherkin")) == 1
    assert shards(python, RunOptions(jobs=3, suite="both")) == 3
    # a module the bench finds running (TCP) cannot be started twice
    (tmp_path / "tcp").mkdir()
    assert shards(_manifest(tmp_path / "tcp", _tcp), RunOptions(jobs=3)) == 1
    # a refused manifest is reported once, by one process
    bad = tmp_path / "bad.yaml"
    bad.write_text("obsa_manifest: '1.0'\n", encoding="utf-8")
    assert shards(bad, RunOptions(jobs=3)) == 1


def test_a_share_without_results_makes_its_requirements_errors() -> None:
    cert = Certification.prepare(MANIFEST, None, Path("/nonexistent"), in_process=True)
    try:
        cert.lost.append("the process of share 2 of 2 of the test cases was killed by "
                         "signal 9 without its results")
        report = cert.finish(0.0)
    finally:
        cert.close()
    tested = [r for r in report.results if r.requirement == "OBSA-SAFE-001"]
    assert [r.verdict for r in tested] == ["error"]
    assert "share 2 of 2" in tested[0].evidence.message
    # verified by inspection: left to the certification body as before
    inspected = [r for r in report.results if r.requirement == "OBSA-SAFE-027"]
    assert inspected and all(r.verdict == "inconclusive" for r in inspected)


@pytest.mark.parametrize("value", ["0", "-1", "two"])
def test_a_bad_number_of_processes_is_refused(tmp_path: Path, value: str) -> None:
    proc = _certify(tmp_path / "o", "--jobs", value)
    assert proc.returncode == 2
    assert f"--jobs: expected a whole number of processes of at least 1 or 'auto', found " \
           f"'{value}'" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = _certify(tmp_path / "o", env={"OBSA_JOBS": value})
    assert proc.returncode == 2
    assert "OBSA_JOBS: expected a whole number" in proc.stderr
