"""The state-estimation suite is fair to packs unlike the reference's: the reference
estimators, declared for another pack, pass what they pass on their own (every test case
replays the vectors' cells repeated to the declared pack size, whatever the chemistry or
the number of temperature sensors declared)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from .test_estimation_faults import MANIFEST, ROOT, SELECT


def _one_cell(data: dict[str, Any]) -> None:
    data["pack"].update(cell_count=1, temperature_sensor_count=1)


def _small(data: dict[str, Any]) -> None:
    data["pack"].update(cell_count=12, temperature_sensor_count=1)


def _lfp_large(data: dict[str, Any]) -> None:
    data["pack"].update(chemistry="lfp", cell_count=200, temperature_sensor_count=64)


VARIANTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "one-cell": _one_cell, "12-cells-1-sensor": _small, "lfp-200-cells-64-sensors": _lfp_large,
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(VARIANTS))
def test_the_reference_passes_on_another_pack(tmp_path: Path, name: str) -> None:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    VARIANTS[name](data)
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "conformance", "certify", str(manifest),
                           "--out", str(tmp_path / "out"), "--no-html", "--no-progress",
                           "--in-process", "-k", SELECT],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    judged = [r for r in report["results"] if r["case"]]
    assert judged, proc.stdout[-3000:]
    failed = {(r["requirement"], r["test_case"], r["verdict"]) for r in judged
              if r["verdict"] != "pass"}
    assert not failed, proc.stdout[-3000:]
