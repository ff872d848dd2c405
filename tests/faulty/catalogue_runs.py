"""The certifications of the catalogues that judge one component or node on one reference
manifest — the cell monitor, the telemetry, the HMI over HTTP, the CAN nodes — run in the
catalogue's background worker (:func:`tests.faulty.test_certify_catalogue.start`) with the
others, so that the session's other tests run meanwhile; their test modules read the
verdicts through the ``runs`` fixture (conftest.py).

A :class:`Catalogue` is a reference manifest, a ``-k`` selection of the test cases that
judge its component, its faulty modules and its correct modules unlike the reference: the
reference and each correct module run under both suites, which must agree; each faulty
module under the pytest suite, and for the Gherkin sample also the scenarios of what it
breaks under the Gherkin suite (:func:`.reports.gherkin_select`). All in process: the
modules are this project's own, judged on their verdicts (the in-process mode judges as an
isolated run does: tests/wire/test_cross_transport.py).

The CAN nodes (:func:`can_jobs`) are whole certifications of the reference CAN manifests
with the node class replaced, in process, and the reference nodes certified isolated and in
process, whose results must be the same."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from .can_faults import CAN_CATALOGUE, CAN_VARIANTS, CanFaulty
from .cmu_faults import CMU_CATALOGUE, CMU_VARIANTS
from .hmi_http_faults import HMI_HTTP_CATALOGUE, HMI_HTTP_CORRECT
from .modules import Faulty
from .reports import Edit, gherkin_run, gherkin_select, replace_component, write_manifest
from .telemetry_faults import TELEMETRY_CATALOGUE, TELEMETRY_CORRECT

ROOT = Path(__file__).resolve().parents[2]


def _write(directory: Path, manifest: Path, edit: Edit | None) -> Path:
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    if edit is not None:
        edit(data)
    return write_manifest(directory, data)


@dataclass(frozen=True)
class Catalogue:
    """The certifications of one component's catalogue (module docstring)."""

    name: str  # the runs' names begin with it
    manifest: Path
    faulty: tuple[Faulty, ...]
    #: correct module unlike the reference → how its manifest differs
    correct: dict[str, Edit] = field(default_factory=dict)
    select: str | None = None  # -k of its runs (None: the manifest's every case)

    def reference_run(self) -> str:
        return f"{self.name} reference"

    def faulty_run(self, faulty: Faulty) -> str:
        return f"{self.name}: {faulty.name}"

    def correct_run(self, name: str) -> str:
        return f"{self.name} correct: {name}"

    def jobs(self, base: Path) -> dict[str, Any]:
        from .test_certify_catalogue import Job

        root = base / self.name.replace(" ", "-")
        d = root / "reference"
        jobs = {self.reference_run(): Job(_write(d, self.manifest, None), d / "out", True,
                                          False, "both", self.select)}
        for faulty in self.faulty:
            d = root / faulty.name
            manifest = _write(d, self.manifest, replace_component(faulty))
            run = self.faulty_run(faulty)
            jobs[run] = Job(manifest, d / "out", True, False, "pytest", self.select)
            scenarios = gherkin_select(faulty, self.faulty)
            if scenarios is not None:
                jobs[gherkin_run(run)] = Job(manifest, d / "gherkin", True, False, "gherkin",
                                             scenarios)
        for name, edit in self.correct.items():
            d = root / f"correct-{name}"
            jobs[self.correct_run(name)] = Job(_write(d, self.manifest, edit), d / "out", True,
                                               False, "both", self.select)
        return jobs

    def needed(self, item: pytest.Item) -> set[str]:
        """The runs a test reads: its faulty module's (and its Gherkin run), its correct
        module's, else the reference's."""
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "faulty" in params:
            run = self.faulty_run(params["faulty"])
            sample = gherkin_select(params["faulty"], self.faulty) is not None
            return {run, *([gherkin_run(run)] if sample else [])}
        for key in ("correct", "variant"):
            if key in params:
                return {self.correct_run(params[key].name)}
        return {self.reference_run()}


def _correct(modules: tuple[Faulty, ...]) -> dict[str, Edit]:
    return {m.name: replace_component(m) for m in modules}


GATEWAY = ROOT / "reference_impl" / "manifest_telemetry_gateway.yaml"
CELL_MONITOR = Catalogue("cell monitor", ROOT / "reference_impl" /
                         "manifest_cell_monitoring_unit.yaml", CMU_CATALOGUE,
                         {v.name: v.edit for v in CMU_VARIANTS})
TELEMETRY = Catalogue("telemetry", GATEWAY, TELEMETRY_CATALOGUE,
                      _correct(TELEMETRY_CORRECT), "telemetry")
HMI_HTTP = Catalogue("hmi http", GATEWAY, HMI_HTTP_CATALOGUE, _correct(HMI_HTTP_CORRECT),
                     "hmi_http")
CATALOGUES = (CELL_MONITOR, TELEMETRY, HMI_HTTP)


# ---- the CAN nodes ---------------------------------------------------------------------
def can_manifest(node: str) -> Path:
    """The reference manifest of a CAN node of kind ``node`` (cmu or bmu)."""
    return ROOT / "reference_impl" / f"manifest_can_{node}.yaml"


def can_run(node: CanFaulty) -> str:
    return f"can node: {node.name}"


def can_reference_run(node: str, in_process: bool) -> str:
    return f"can reference {node}, {'in process' if in_process else 'isolated'}"


def _can_stack(node: CanFaulty) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        data["adapter"]["components"]["can_stack"] = f"{node.cls.__module__}:{node.name}"

    return edit


def can_jobs(base: Path) -> dict[str, Any]:
    """The reference CMU and BMU nodes isolated (as a vendor's node runs) and in process;
    every faulty and correct node of the CAN catalogue in process."""
    from .test_certify_catalogue import Job

    root = base / "can"
    jobs: dict[str, Any] = {}
    for kind in ("bmu", "cmu"):  # the longest first
        for in_process in (False, True):
            d = root / f"reference-{kind}-{'in-process' if in_process else 'isolated'}"
            d.mkdir(parents=True)
            jobs[can_reference_run(kind, in_process)] = Job(can_manifest(kind), d / "out",
                                                            in_process, False)
    for node in sorted(CAN_CATALOGUE + CAN_VARIANTS, key=lambda n: n.node):  # BMUs first
        d = root / node.name
        jobs[can_run(node)] = Job(_write(d, can_manifest(node.node), _can_stack(node)),
                                  d / "out", True, False)
    return jobs


def catalogue_jobs(base: Path) -> dict[str, Any]:
    """Every certification of this module's catalogues, by run name."""
    jobs = can_jobs(base)
    for catalogue in CATALOGUES:
        jobs.update(catalogue.jobs(base))
    return jobs
