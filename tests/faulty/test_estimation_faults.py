"""The SoC test cases have teeth: each faulty estimator of the catalogue fails exactly the
requirements it breaks, and the reference passes, on the vectors the reference passes today
(the 4-cell NMC pack on WLTC at 25 °C, the stale-current case, and the SoH and SoP cases;
the reference's accuracy on the other vectors is work in progress:
benchmarks/soc_on_vectors.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from .estimation_faults import ESTIMATION_CATALOGUE
from .modules import Faulty

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "reference_impl" / "manifest_state_estimation.yaml"
SELECT = "nmc-pack4-wltc-25c or stale or soh or sop"


def _certify(tmp_path: Path, faulty: Faulty | None, select: str = SELECT) -> dict[str, Any]:
    """Certify the state-estimation reference with ``faulty`` in place of its component, the
    test cases ``select`` (pytest's -k expression) under both suites."""
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    if faulty is not None:
        data["adapter"]["components"][faulty.component] = (
            f"{faulty.cls.__module__}:{faulty.name}")
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "conformance", "certify", str(manifest),
                           "--out", str(tmp_path / "out"), "--no-html", "--no-progress",
                           "--in-process", "--suite", "both", "-k", select],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["disagreements"] == [], proc.stdout[-3000:]
    return report


def _not_passed(report: dict[str, Any]) -> set[str]:
    return {r["requirement"] for r in report["results"]
            if r["case"] and r["verdict"] != "pass"}


@pytest.mark.slow
def test_the_reference_passes_the_selected_vectors(tmp_path: Path) -> None:
    report = _certify(tmp_path, None)
    judged = {r["requirement"] for r in report["results"] if r["case"]}
    assert judged == {*(f"OBSA-SOC-00{i}" for i in range(2, 7)), "OBSA-SOH-003",
                      "OBSA-SOH-004", "OBSA-SOP-001", "OBSA-SOP-004"}
    assert _not_passed(report) == set()
    # the report names the vectors judged, by the hash of their arrays
    from conformance.paths import vectors_dir
    from conformance.vectors import load_vector

    assert report["vectors"] == {v: load_vector(vectors_dir() / f"{v}.json").info.sha256
                                 for v in ("nmc-pack4-wltc-25c", "nmc-wltc-25c")}


@pytest.mark.slow
@pytest.mark.parametrize("faulty", ESTIMATION_CATALOGUE, ids=lambda f: f.name)
def test_a_faulty_estimator_fails_what_it_breaks(tmp_path: Path, faulty: Faulty) -> None:
    assert _not_passed(_certify(tmp_path, faulty)) == set(faulty.breaks)
