"""What the catalogue tests read of a report, and one certification of an edited manifest:
shared by the catalogues that certify a module per test (cell monitor, telemetry, CAN) and
those that share runs (full BMS, estimation)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
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


def gherkin_sample(catalogue: Sequence[Faulty]) -> frozenset[str]:
    """The faulty modules of ``catalogue`` that both suites judge: each module that breaks a
    requirement no module before it in the catalogue breaks. The others are judged by the
    pytest suite alone.

    A Gherkin scenario runs its pytest twin, seeded alike (``run_case`` in
    conformance/gherkin/steps.py refuses a scenario whose tags are not its case's
    requirements), so a module judged by both suites gets every verdict twice over. What
    the second run shows is that each requirement's scenarios have teeth: a module that
    breaks it fails it in the Gherkin suite too, and the two suites agree. One faulty module
    per requirement shows that; the reference and every correct module unlike it still run
    under both suites, so the scenarios are shown fair on each."""
    covered: set[str] = set()
    chosen: set[str] = set()
    for faulty in catalogue:
        if faulty.breaks - covered:
            chosen.add(faulty.name)
            covered |= faulty.breaks
    return frozenset(chosen)


def suite_of(faulty: Faulty, catalogue: Sequence[Faulty]) -> str:
    """``obsa certify --suite`` for the faulty module ``faulty`` of ``catalogue``:
    ``both`` for the :func:`gherkin_sample`, else ``pytest``."""
    return "both" if faulty.name in gherkin_sample(catalogue) else "pytest"


def suites_run(suite: str) -> list[str]:
    """The report's ``suites`` after ``obsa certify --suite suite``."""
    return ["pytest", "gherkin"] if suite == "both" else [suite]


def certify_under(suite: str, manifest: Path, tmp_path: Path, edit: Edit | None, *args: str,
                  timeout_s: float = 600) -> dict[str, Any]:
    """Certify ``manifest`` changed by ``edit`` in process under ``suite`` (``both`` or
    ``pytest``; ``args`` added to the command line) and return its report: every suite
    asked for judged it, and under both they agreed."""
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    if edit is not None:
        edit(data)
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "conformance", "certify", str(path),
                           "--out", str(tmp_path / "out"), "--no-html", "--no-progress",
                           "--in-process", "--suite", suite, *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout_s)
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["suites"] == suites_run(suite), report["suites"]
    assert report["disagreements"] == [], proc.stdout[-3000:]
    return dict(report)
