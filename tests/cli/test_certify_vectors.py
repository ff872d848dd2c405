"""``obsa certify --vectors DIR``: a vendor's own vectors judged beside the shipped ones by
the drive-cycle test cases of both suites, named in the certificate with their origin; a bad
directory refused before anything runs, naming the file and what was expected."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.paths import vectors_dir
from conformance.vectors import load_vector

from ..vectors.vendor import vendor_dir

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "reference_impl" / "manifest_state_estimation.yaml"


def _obsa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def test_a_bad_vector_directory_is_refused_before_anything_runs(tmp_path: Path) -> None:
    vendor_dir(tmp_path / "vectors")
    npz = tmp_path / "vectors" / "acme-drive-25c.npz"
    npz.write_bytes(npz.read_bytes()[:-4] + b"0000")
    out = tmp_path / "out"
    proc = _obsa("certify", str(MANIFEST), "--out", str(out), "--vectors",
                 str(tmp_path / "vectors"))
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert lines[0].startswith(f"obsa certify: --vectors: {npz.resolve()}: expected SHA-256 ")
    assert "[" not in proc.stdout  # no progress line: no test case ran
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["results"] == [] and report["outcome"] == "refused"
    assert report["manifest_issues"][0].startswith(f"--vectors: {npz.resolve()}: ")


def test_a_missing_vector_directory_is_refused(tmp_path: Path) -> None:
    proc = _obsa("certify", str(MANIFEST), "--out", str(tmp_path / "out"), "--vectors",
                 str(tmp_path / "none"))
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"obsa certify: --vectors: {tmp_path / 'none'}: expected a "
                                   "directory of test vectors (obsa-vector/1: <id>.json beside "
                                   "<id>.npz)")


@pytest.mark.slow
def test_a_vendor_vector_is_judged_by_both_suites_and_named_in_the_certificate(
        tmp_path: Path) -> None:
    path = vendor_dir(tmp_path / "vectors")
    out = tmp_path / "out"
    proc = _obsa("certify", str(MANIFEST), "--out", str(out), "--suite", "both",
                 "--vectors", str(tmp_path / "vectors"), "-k",
                 "drive_cycle and (acme or nmc-wltc)")
    assert proc.returncode == 1, proc.stderr  # the rest of the profile was not run
    assert "Traceback" not in proc.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    key = "test_soc_estimator::test_soc_on_a_drive_cycle"
    judged = {(r["case"], r["suite"], r["requirement"]): r["verdict"]
              for r in report["results"] if r["case"]}
    for vid in ("acme-drive-25c", "nmc-wltc-25c"):
        for suite in ("pytest", "gherkin"):
            for rid in ("OBSA-SOC-002", "OBSA-SOC-003", "OBSA-SOC-004", "OBSA-SOC-005"):
                assert judged[(f"{key}[{vid}]", suite, rid)] == "pass", (vid, suite, rid)
    assert not report["disagreements"]
    vendor, shipped = report["vectors"]["acme-drive-25c"], report["vectors"]["nmc-wltc-25c"]
    assert (vendor["source"], vendor["path"], vendor["profile"], vendor["sha256"]) == (
        "vendor", str(path.resolve()), "drive-city", load_vector(path).info.sha256)
    assert (shipped["source"], shipped["sha256"]) == (
        "shipped", load_vector(vectors_dir() / "nmc-wltc-25c.json").info.sha256)
    rows = {(j["requirement"], j["suite"]): j for j in vendor["judged"]}
    assert len(rows) == 8
    rmse = rows[("OBSA-SOC-002", "pytest")]["criteria"]
    assert [c["name"] for c in rmse] == ["cell_soc_rmse", "pack_soc_rmse"]
    assert rmse == rows[("OBSA-SOC-002", "gherkin")]["criteria"]  # the same seed, stimuli
    page = (out / "report.html").read_text(encoding="utf-8")
    assert '<h3 id="vector-acme-drive-25c">' in page
    summary = _obsa("report", "summary", str(out))
    assert f"  acme-drive-25c  vendor, profile drive-city  {vendor['sha256']}  " \
           f"{path.resolve()}" in summary.stdout.splitlines()


def test_list_names_the_test_cases_of_a_vendor_vector(tmp_path: Path) -> None:
    vendor_dir(tmp_path / "vectors")
    proc = _obsa("certify", str(MANIFEST), "--list", "--vectors", str(tmp_path / "vectors"))
    assert proc.returncode == 0, proc.stderr
    assert "test_soc_estimator::test_soc_on_a_drive_cycle[acme-drive-25c]" in proc.stdout
    assert "test_soc_estimator::test_soc_on_a_drive_cycle[nmc-wltc-25c]" in proc.stdout
    bad = _obsa("certify", str(MANIFEST), "--list", "--vectors", str(tmp_path / "none"))
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith(f"obsa certify: --vectors: {tmp_path / 'none'}: expected a ")
