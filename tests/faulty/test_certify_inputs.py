"""Bad input to ``obsa certify`` and the pytest-plugin route to the same suite.

A manifest the suite must refuse, a module that cannot be imported, a missing file: each
gets a clear message and an exit status, the run finishes and a report is written where
one can be; nothing ends in a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conformance.manifest import safety_core_manifest_path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def _manifest(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(safety_core_manifest_path().read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_unordered_limits_are_refused_before_any_test(tmp_path: Path) -> None:
    def edit(d):
        d["configuration"]["safety_supervisor"]["cell_voltage_max_rsl_V"] = 4.30  # above MSL

    out = tmp_path / "out"
    proc = _run("-m", "conformance", "certify", str(_manifest(tmp_path, edit)), "--out", str(out))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["outcome"] == "refused"
    assert report["results"] == []
    issues = "\n".join(report["manifest_issues"])
    assert "manifest.yaml:" in issues and "cell_voltage_max" in issues
    assert "refused" in proc.stdout


def test_schema_error_names_file_line_and_field(tmp_path: Path) -> None:
    def edit(d):
        d["pack"]["cell_count"] = "ninety-six"

    out = tmp_path / "out"
    manifest = _manifest(tmp_path, edit)
    proc = _run("-m", "conformance", "certify", str(manifest), "--out", str(out))
    assert proc.returncode == 2
    line = next(i for i, text in enumerate(manifest.read_text().splitlines(), 1)
                if "ninety-six" in text)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert any(f"manifest.yaml:{line}" in i and "pack.cell_count" in i
               for i in report["manifest_issues"]), report["manifest_issues"]


@pytest.mark.slow
def test_unimportable_module_gives_error_verdicts_and_a_report(tmp_path: Path) -> None:
    def edit(d):
        d["adapter"]["components"]["contactor_manager"] = "no_such_vendor.bms:Contactors"

    out = tmp_path / "out"
    proc = _run("-m", "conformance", "certify", str(_manifest(tmp_path, edit)), "--out", str(out),
                "--no-progress")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["outcome"] == "not-certified"
    tested = [r for r in report["results"] if r["test_case"]]
    assert tested and all(r["verdict"] == "error" for r in tested)
    assert all("no_such_vendor" in r["evidence"]["message"] for r in tested)
    assert (out / "junit.xml").exists() and (out / "report.html").exists()


def test_missing_manifest_file() -> None:
    proc = _run("-m", "conformance", "certify", "/nonexistent/manifest.yaml", "--out", "/tmp/x")
    assert proc.returncode == 2
    assert "manifest.yaml" in proc.stderr and "Traceback" not in proc.stderr


def test_pytest_plugin_runs_the_same_suite(tmp_path: Path) -> None:
    """``pytest --obsa-module`` selects, judges and reports like ``obsa certify``."""
    out = tmp_path / "out"
    proc = _run("-m", "pytest", "--obsa-module", str(safety_core_manifest_path()),
                "--obsa-report", str(out), "-q", "-p", "no:cacheprovider", "-k", "diagnostics",
                cwd=tmp_path)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    judged = {r["requirement"]: r["verdict"] for r in report["results"] if r["test_case"]}
    assert judged == dict.fromkeys(
        ("OBSA-DIAG-001", "OBSA-DIAG-002", "OBSA-DIAG-003", "OBSA-DIAG-004"), "pass")
    # a partial run certifies nothing: the deselected requirements are inconclusive
    assert report["outcome"] == "not-certified" and proc.returncode == 1
    not_run = [r for r in report["results"] if not r["test_case"]]
    assert not_run and all(r["verdict"] == "inconclusive" and "deselected" in
                           r["evidence"]["message"] for r in not_run)
    assert "OBSA-DIAG-001" in proc.stdout  # the progress lines


def test_pytest_plugin_refuses_parallel_workers(tmp_path: Path) -> None:
    """pytest-xdist's workers would judge where the plugin cannot see, and the report would
    hold nothing: ``--obsa-module`` with ``-n`` stops before any test, saying what to do."""
    out = tmp_path / "out"
    proc = _run("-m", "pytest", "--obsa-module", str(safety_core_manifest_path()),
                "--obsa-report", str(out), "-q", "-p", "no:cacheprovider", "-k", "diagnostics",
                "-n", "2", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout[-2000:] + proc.stderr[-2000:]
    said = proc.stdout + proc.stderr
    assert "not in pytest-xdist's workers" in said and "obsa certify --jobs N" in said
    assert "Traceback" not in said
    assert not (out / "report.json").exists()
