"""The full-BMS certifications of the catalogue, one area at a time: the reference full BMS
(``reference_impl/manifest_full_bms.yaml``) on each area's selection of test cases, each
faulty module of the area on that selection, each correct module unlike the reference on
it, and the reference declared for packs unlike its own. They run in the catalogue's
background worker (:func:`tests.faulty.test_certify_catalogue.start`) in the in-process
mode: the references and the correct modules under both suites (which must agree), a
faulty module under the pytest suite (and, for its area's Gherkin sample, the scenarios of
what it breaks under the Gherkin suite: :func:`.reports.gherkin_select`);
:mod:`.test_full_bms_catalogue` reads them.

An area is one entry of :data:`AREAS`: the ``-k`` expression that selects its test cases in
both suites (pytest's case names and the Gherkin scenarios' names), its faulty modules
(each must fail exactly ``breaks``, at most ``may_break`` besides), its correct variants
(each must pass the selection) and the packs the reference must pass it on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .modules import Faulty
from .reports import gherkin_run, gherkin_select, write_manifest

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "reference_impl" / "manifest_full_bms.yaml"
FAULTY_TIMEOUT_S = 10.0
"""Per call, as the catalogue's faulty modules (judged on behaviour, never on speed)."""

Edit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Area:
    """The certifications of one area of the full BMS."""

    select: str  # pytest's -k expression, matching the area's cases in both suites
    faulty: tuple[Faulty, ...] = ()
    #: correct modules unlike the reference (component and class as a Faulty whose
    #: ``breaks`` is empty; its ``edit`` may change the declaration)
    correct: tuple[Faulty, ...] = ()
    #: pack name → how the manifest differs (the reference must pass the selection there)
    packs: dict[str, Edit] = field(default_factory=dict)


def one_cell(data: dict[str, Any]) -> None:
    data["pack"].update(cell_count=1, temperature_sensor_count=1)


def twelve_cells_one_sensor(data: dict[str, Any]) -> None:
    data["pack"].update(cell_count=12, temperature_sensor_count=1)


def lfp_200_cells(data: dict[str, Any]) -> None:
    """200 LFP cells with 64 sensors, declared for LFP (:func:`lfp_declaration`)."""
    data["pack"].update(chemistry="lfp", cell_count=200, temperature_sensor_count=64)
    lfp_declaration(data)


def lfp_declaration(data: dict[str, Any]) -> None:
    """The reference's declaration moved to an LFP cell: the voltage limits of Libre Solar
    bms-firmware's LFP defaults (bms_common.c: over-voltage fault 3.80 V, charge voltage
    limit 3.55 V, discharge voltage limit 2.80 V, under-voltage fault 2.50 V;
    ../shared/DOMAIN.md "Chemistry defaults") spread over the three levels, and every other
    voltage the module declares (SoC and SoP references, balancing floor, charge voltage,
    deep-discharge thresholds) moved to the LFP cell's."""
    lfp = {
        "safety_supervisor": dict(
            cell_voltage_max_mol_V=3.55, cell_voltage_max_rsl_V=3.65, cell_voltage_max_msl_V=3.8,
            cell_voltage_min_mol_V=2.9, cell_voltage_min_rsl_V=2.8, cell_voltage_min_msl_V=2.5,
            deep_discharge_voltage_V=2.0),
        "soc_estimator": dict(soc_full_voltage_V=3.55, soc_empty_voltage_V=2.5),
        "sop_estimator": dict(sop_charge_voltage_limit_V=3.55, sop_discharge_voltage_limit_V=2.8),
        "balancing": dict(balancing_min_cell_voltage_V=3.25),
        "charge_control": dict(charge_voltage_limit_V=3.55),
        "data_logger": dict(deep_discharge_threshold_V=2.5),
    }
    config = data["configuration"]
    for component, values in lfp.items():  # those the manifest configures
        if component in config:
            config[component].update(values)


def lfp_twelve_cells_one_sensor(data: dict[str, Any]) -> None:
    """12 LFP cells with one temperature sensor, declared for LFP."""
    data["pack"].update(chemistry="lfp", cell_count=12, temperature_sensor_count=1)
    lfp_declaration(data)


def nmc_200_cells_64_sensors(data: dict[str, Any]) -> None:
    """The reference's NMC cell, 200 in series with 64 temperature sensors."""
    data["pack"].update(cell_count=200, temperature_sensor_count=64)


#: packs unlike the reference's on which the reference must pass the whole suite
WHOLE_SUITE_PACKS: dict[str, Edit] = {
    "lfp 12 cells 1 sensor": lfp_twelve_cells_one_sensor,
    "nmc 200 cells 64 sensors": nmc_200_cells_64_sensors,
}


def whole_suite_run(pack: str) -> str:
    return f"full bms reference on pack: {pack}"


#: area name → its certifications; each area's module adds its own entry
AREAS: dict[str, Area] = {}


def reference_run(area: str) -> str:
    return f"full bms reference: {area}"


def faulty_run(area: str, faulty: Faulty) -> str:
    return f"full bms {area}: {faulty.name}"


def correct_run(area: str, correct: Faulty) -> str:
    return f"full bms {area} correct: {correct.name}"


def pack_run(area: str, pack: str) -> str:
    return f"full bms {area} pack: {pack}"


def _manifest(directory: Path, module: Faulty | None = None, what: str = "faulty",
              edit: Edit | None = None) -> Path:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    if module is not None:
        data["module"]["name"] = f"{what}: {module.name}"
        data["adapter"]["components"][module.component] = f"{module.cls.__module__}:{module.name}"
        data["adapter"]["timeout_s"] = FAULTY_TIMEOUT_S
        if module.edit is not None:
            module.edit(data)
    if edit is not None:
        edit(data)
    return write_manifest(directory, data)


def full_bms_jobs(base: Path) -> dict[str, Any]:
    """Every full-BMS certification, by run name (see the module docstring)."""
    from .test_certify_catalogue import Job

    jobs: dict[str, Any] = {}
    for pack, edit in WHOLE_SUITE_PACKS.items():
        d = base / "full-bms" / "packs" / pack.replace(" ", "-")
        jobs[whole_suite_run(pack)] = Job(_manifest(d, edit=edit), d / "out", True, False)
    for name, area in AREAS.items():
        root = base / "full-bms" / name.replace(" ", "-")
        d = root / "reference"
        jobs[reference_run(name)] = Job(_manifest(d), d / "out", True, False, "both",
                                        area.select)
        for faulty in area.faulty:
            d = root / faulty.name
            manifest = _manifest(d, faulty)
            run = faulty_run(name, faulty)
            jobs[run] = Job(manifest, d / "out", True, False, "pytest", area.select)
            select = gherkin_select(faulty, area.faulty)
            if select is not None:
                jobs[gherkin_run(run)] = Job(manifest, d / "gherkin", True, False, "gherkin",
                                             select)
        for correct in area.correct:
            d = root / f"correct-{correct.name}"
            jobs[correct_run(name, correct)] = Job(_manifest(d, correct, "correct"), d / "out",
                                                   True, False, "both", area.select)
        for pack, edit in area.packs.items():
            d = root / f"pack-{pack}"
            jobs[pack_run(name, pack)] = Job(_manifest(d, edit=edit), d / "out", True, False,
                                             "pytest", area.select)
    return jobs
def _register() -> None:
    """Each area's module defines its certifications in ``area()``, called here at the end of
    this module (an area imports :class:`Area` and the packs from it); a certifying process
    that loads a faulty class imports that module alone, without the catalogue."""
    from . import (
        adc_faults,
        balancing_faults,
        charge_faults,
        hmi_faults,
        logger_faults,
        measurement_faults,
        thermal_faults,
    )

    for name, module in (("balancing", balancing_faults), ("thermal", thermal_faults),
                         ("measurement", measurement_faults), ("lifetime", logger_faults),
                         ("hmi", hmi_faults), ("charging", charge_faults),
                         ("plausibility", adc_faults)):
        AREAS[name] = module.area()


_register()
