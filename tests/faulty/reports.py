"""What the catalogue tests read of a report, and how a faulty module's Gherkin run is
chosen and judged: shared by every catalogue."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from .modules import Faulty

Edit = Callable[[dict[str, Any]], None]


def judged(report: dict[str, Any]) -> set[str]:
    """The requirements a test case of the run judged."""
    return {r["requirement"] for r in report["results"] if r["case"]}


def not_passed(report: dict[str, Any]) -> set[str]:
    """The requirements a test case of the run did not pass."""
    return {r["requirement"] for r in report["results"]
            if r["case"] and r["verdict"] != "pass"}


def why_not_passed(report: dict[str, Any]) -> str:
    """Each result of a test case that did not pass: requirement, suite, verdict and the
    evidence's message (what a failing assertion on :func:`not_passed` shows)."""
    return "\n".join(f"{r['requirement']} ({r.get('suite', 'pytest')}): {r['verdict']}: "
                     f"{r['evidence'].get('message', '')}" for r in report["results"]
                     if r["case"] and r["verdict"] != "pass")


def write_manifest(directory: Path, data: dict[str, Any]) -> Path:
    """``data`` written as ``directory``/manifest.yaml (the directory made if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def replace_component(faulty: Faulty) -> Edit:
    """A manifest edit: ``faulty``'s class in place of the component it replaces."""

    def edit(data: dict[str, Any]) -> None:
        data["adapter"]["components"][faulty.component] = (
            f"{faulty.cls.__module__}:{faulty.name}")

    return edit


def gherkin_sample(catalogue: Sequence[Faulty]) -> frozenset[str]:
    """The faulty modules of ``catalogue`` the Gherkin suite judges too: each module that
    breaks a requirement no module before it in the catalogue breaks. Every faulty module
    is judged by the pytest suite on everything its catalogue selects.

    A Gherkin scenario runs its pytest twin, seeded alike (``run_case`` in
    conformance/gherkin/steps.py refuses a scenario whose tags are not its case's
    requirements), so what a Gherkin run of a faulty module adds is that the scenarios of
    each requirement have teeth: a module that breaks it fails it in the Gherkin suite
    too, as in the pytest suite. One faulty module per requirement shows that, on the
    scenarios of the requirements it breaks (:func:`gherkin_select`); the reference and
    every correct module unlike it run every selected scenario under both suites in one
    run, which must agree, so the scenarios are shown fair on each."""
    covered: set[str] = set()
    chosen: set[str] = set()
    for faulty in catalogue:
        if faulty.breaks - covered:
            chosen.add(faulty.name)
            covered |= faulty.breaks
    return frozenset(chosen)


def gherkin_select(faulty: Faulty, catalogue: Sequence[Faulty]) -> str | None:
    """``obsa certify --suite gherkin -k`` for the Gherkin run of ``faulty``, a module of
    ``catalogue``: the scenarios tagged with a requirement it breaks (a ``-k`` word matches
    a scenario's tags); None for a module outside the :func:`gherkin_sample`."""
    if faulty.name not in gherkin_sample(catalogue):
        return None
    return " or ".join(sorted(faulty.breaks))


def gherkin_run(name: str) -> str:
    """The name of the Gherkin run (:func:`gherkin_select`) of the catalogue's run ``name``."""
    return f"{name} · gherkin"


def suites_run(suite: str) -> list[str]:
    """The report's ``suites`` after ``obsa certify --suite suite``."""
    return ["pytest", "gherkin"] if suite == "both" else [suite]


def check_gherkin_teeth(report: dict[str, Any], faulty: Faulty) -> None:
    """The report of the Gherkin run of ``faulty`` (:func:`gherkin_select`): the Gherkin
    suite alone judged every requirement it breaks and failed it (a real failure, not an
    error), and failed nothing it may not break."""
    assert report["suites"] == ["gherkin"], report["suites"]
    verdicts: dict[str, set[str]] = {}
    for r in report["results"]:
        if r["case"]:
            verdicts.setdefault(r["requirement"], set()).add(r["verdict"])
    for rid in sorted(faulty.breaks):
        assert "fail" in verdicts.get(rid, set()) and "error" not in verdicts[rid], (
            f"{faulty.name}: the Gherkin scenarios of {rid}: {verdicts.get(rid)}")
    failed = {rid for rid, v in verdicts.items() if v & {"fail", "error"}}
    assert failed <= faulty.breaks | faulty.may_break, (faulty.name, sorted(failed))
