"""The state-estimation certifications of the catalogue: the reference on each selection of
test cases, each faulty estimator on the selection that judges what it breaks, and the
reference declared for packs unlike its own. They run in the catalogue's background worker
(:func:`tests.faulty.test_certify_catalogue.start`) while the session's other tests run;
the test modules read their verdicts through the ``runs`` fixture (conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from .estimation_faults import ESTIMATION_CATALOGUE, SocFloat32EverySample
from .full_bms_runs import lfp_200_cells, one_cell, twelve_cells_one_sensor
from .modules import Faulty
from .reports import (
    check_gherkin_teeth,
    gherkin_run,
    gherkin_select,
    suites_run,
    write_manifest,
)
from .soh_faults import SOH_CATALOGUE
from .sop_faults import SOP_CATALOGUE, SopResistanceOnly

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "reference_impl" / "manifest_state_estimation.yaml"
FAULTY_TIMEOUT_S = 10.0
"""Per call, as the catalogue's faulty modules (judged on behaviour, never on speed)."""

DRIVE_SELECT = ("(nmc-pack4-wltc-25c and not truth) or stale or definitions "
                "or (within and safety) or drift")
"""The SoC, SoH-definition and SoP-limit test cases on the vectors the reference passes, and
the long run with a current-sensor offset (in both suites: pytest's case names, the Gherkin
scenarios' names)."""
CYCLES_SELECT = "after and cycles"
"""The test cases on the cycle vectors (pytest: test_soh_after_two_full_cycles[…]; Gherkin:
"SoH after two full cycles of …")."""

SOP_SELECT = ("truth and limits and (nmc-aged-wltc-40c or nmc-other-wltc-10c "
              "or nmc-aged-pulses-25c or nmc-aged-low-pulses-10c)")
"""The closed-loop SoP cases on an aged NMC drive cycle at 40 °C, another NMC cell than
characterized at 10 °C, an aged NMC cell's pulses at 25 °C and low in its SoC range at
10 °C, where the discharge voltage limit bounds the power (pytest:
test_sop_limits_hold_on_the_truth[…]; Gherkin: "SoP limits drawn from the truth of …"): the
reference's pack is NMC, and its declared voltage limits are judged on NMC cells only."""

#: selection name → (-k expression, the faulty estimators judged on it)
SELECTIONS: dict[str, tuple[str, tuple[Faulty, ...]]] = {
    "drive cycles": (DRIVE_SELECT, ESTIMATION_CATALOGUE),
    "cycles": (CYCLES_SELECT, SOH_CATALOGUE),
    "sop truth": (SOP_SELECT, SOP_CATALOGUE),
}
#: faulty estimator → the one vector of its selection it is judged on, where its defect
#: shows (the others are left to the reference): the aged NMC cell's cycles show a capacity
#: or resistance never tracked (both moved) and an efficiency never measured; only on LFP,
#: whose energy per charge falls with its flat, low OCV, does the capacity state of health
#: differ from the state of certified energy beyond OBSA-REG-006's 5 %
FAULTY_VECTOR: dict[str, str] = {
    "SohCapacityNeverUpdated": "nmc-aged-cycles-25c",
    "SohResistanceNeverUpdated": "nmc-aged-cycles-25c",
    "SohCapacityFromSocInput": "nmc-aged-cycles-25c",
    "RoundTripNeverMeasured": "nmc-aged-cycles-25c",
    "SoceFromCapacity": "lfp-aged-cycles-25c",
    # a power limit taken at the full string voltage overdraws where the string is far below
    # it at the limit: low in the SoC range, the discharge voltage limit binding
    "SopPowerAtFullVoltage": "nmc-aged-low-pulses-10c",
}
#: correct estimators unlike the reference → the selection they must pass
CORRECT: dict[str, tuple[Faulty, str]] = {
    "SocFloat32EverySample": (Faulty("SocFloat32EverySample", "soc_estimator",
                                     SocFloat32EverySample, frozenset()), "drive cycles"),
    "SopResistanceOnly": (Faulty("SopResistanceOnly", "sop_estimator", SopResistanceOnly,
                                 frozenset()), "sop truth"),
}


#: a pack unlike the reference's → how its manifest differs
PACKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "one-cell": one_cell, "12-cells-1-sensor": twelve_cells_one_sensor,
    "lfp-200-cells-64-sensors": lfp_200_cells,
}


def reference_run(selection: str) -> str:
    return f"estimation reference: {selection}"


def faulty_run(faulty: Faulty) -> str:
    return f"estimation: {faulty.name}"


def correct_run(name: str) -> str:
    return f"estimation correct: {name}"


def pack_run(pack: str) -> str:
    return f"estimation pack: {pack}"


def _manifest(directory: Path, edit: Callable[[dict[str, Any]], None] | None = None,
              faulty: Faulty | None = None, what: str = "faulty") -> Path:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    if faulty is not None:
        data["module"]["name"] = f"{what}: {faulty.name}"
        data["adapter"]["components"][faulty.component] = (
            f"{faulty.cls.__module__}:{faulty.name}")
        data["adapter"]["timeout_s"] = FAULTY_TIMEOUT_S
    if edit is not None:
        edit(data)
    return write_manifest(directory, data)


def _narrowed(select: str, faulty: Faulty) -> str:
    vector = FAULTY_VECTOR.get(faulty.name)
    return select if vector is None else f"({select}) and {vector}"


def estimation_jobs(base: Path) -> dict[str, Any]:
    """Every state-estimation certification, by run name (see the module docstring): in the
    in-process mode, the references and the correct modules under both suites, which must
    agree, a faulty estimator under the pytest suite (and, for its selection's Gherkin
    sample, the scenarios of what it breaks under the Gherkin suite:
    :func:`.reports.gherkin_select`)."""
    from .test_certify_catalogue import Job

    jobs: dict[str, Any] = {}
    root = base / "estimation"
    for selection, (select, catalogue) in SELECTIONS.items():
        d = root / selection.replace(" ", "-")
        jobs[reference_run(selection)] = Job(_manifest(d), d / "out", True, False, "both",
                                             select)
        for faulty in catalogue:
            d = root / faulty.name
            manifest = _manifest(d, faulty=faulty)
            jobs[faulty_run(faulty)] = Job(manifest, d / "out", True, False, "pytest",
                                           _narrowed(select, faulty))
            scenarios = gherkin_select(faulty, catalogue)
            if scenarios is not None:
                jobs[gherkin_run(faulty_run(faulty))] = Job(
                    manifest, d / "gherkin", True, False, "gherkin",
                    _narrowed(scenarios, faulty))
    for name, (module, selection) in CORRECT.items():
        d = root / name
        jobs[correct_run(name)] = Job(_manifest(d, faulty=module, what="correct"), d / "out",
                                      True, False,
                                      "both", SELECTIONS[selection][0])
    for pack, edit in PACKS.items():
        d = root / f"pack-{pack}"
        jobs[pack_run(pack)] = Job(_manifest(d, edit), d / "out", True, False, "pytest",
                                   DRIVE_SELECT)
    return jobs


def needed(item: pytest.Item, selection: str) -> set[str]:
    """The run a test of an estimation module reads: its faulty estimator's, its pack's, or
    the reference's on ``selection``."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    if "faulty" in params:
        faulty = params["faulty"]
        catalogue = next(c for _, c in SELECTIONS.values() if faulty in c)
        sample = gherkin_select(faulty, catalogue) is not None
        return {faulty_run(faulty), *([gherkin_run(faulty_run(faulty))] if sample else [])}
    if "pack" in params:
        return {pack_run(params["pack"])}
    if "correct" in params:
        return {correct_run(params["correct"])}
    return {reference_run(selection)}


def report_of(runs: dict[str, Any], name: str, suite: str = "both") -> dict[str, Any]:
    """The report of run ``name``, judged by ``suite`` (``both`` for the references and the
    correct modules), whose suites agreed."""
    run = runs[name]
    assert run.report is not None, run.output[-3000:]
    assert run.report["suites"] == suites_run(suite), run.report["suites"]
    assert run.report["disagreements"] == [], run.output[-3000:]
    return dict(run.report)




def faulty_report(runs: dict[str, Any], name: str, faulty: Faulty,
                  catalogue: tuple[Faulty, ...]) -> dict[str, Any]:
    """The pytest suite's report of run ``name`` of ``faulty``, a module of ``catalogue``;
    for a module of its Gherkin sample, the Gherkin run of the scenarios of what it breaks
    is checked too (:func:`.reports.check_gherkin_teeth`)."""
    report = report_of(runs, name, "pytest")
    if gherkin_select(faulty, catalogue) is not None:
        check_gherkin_teeth(report_of(runs, gherkin_run(name), "gherkin"), faulty)
    return report
