"""What the catalogue tests read of a report, and one certification of an edited manifest:
shared by the catalogues that certify a module per test (cell monitor, telemetry, CAN) and
those that share runs (full BMS, estimation)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from .modules import Faulty

ROOT = Path(__file__).resolve().parents[2]

Edit = Callable[[dict[str, Any]], None]


def judged(report: dict[str, Any]) -> set[str]:
    """The requirements a test case of the run judged."""
    return {r["requirement"] for r in report["results"] if r["case"]}


def not_passed(report: dict[str, Any]) -> set[str]:
    """The requirements a test case of the run did not pass."""
    return {r["requirement"] for r in report["results"]
            if r["case"] and r["verdict"] != "pass"}


def replace_component(faulty: Faulty) -> Edit:
    """A manifest edit: ``faulty``'s class in place of the component it replaces."""

    def edit(data: dict[str, Any]) -> None:
        data["adapter"]["components"][faulty.component] = (
            f"{faulty.cls.__module__}:{faulty.name}")

    return edit


def certify_both_suites(manifest: Path, tmp_path: Path, edit: Edit | None, *args: str,
                        timeout_s: float = 600) -> dict[str, Any]:
    """Certify ``manifest`` changed by ``edit`` in process under both suites (``args`` added
    to the command line) and return its report, whose two suites agreed."""
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    if edit is not None:
        edit(data)
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "conformance", "certify", str(path),
                           "--out", str(tmp_path / "out"), "--no-html", "--no-progress",
                           "--in-process", "--suite", "both", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout_s)
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["disagreements"] == [], proc.stdout[-3000:]
    return dict(report)
