"""Declarations that are each in range but contradict each other are refused, naming the
field: a module so declared would fail requirements because of its own declaration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.manifest import load_manifest, reference_manifest_path, safety_core_manifest_path
from conformance.spec import load_spec


def _check(tmp_path: Path, edit: dict[str, dict[str, Any]], manifest: Path | None = None
           ) -> list[str]:
    """The issues of ``manifest`` (default: the reference safety core's) with ``edit``."""
    manifest = manifest or safety_core_manifest_path()
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    for component, values in edit.items():
        data["configuration"][component].update(values)
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    _, issues = load_manifest(path, load_spec())
    return [str(i) for i in issues]


@pytest.mark.parametrize(("edit", "field", "expected"), [
    ({"contactor_manager": {"precharge_voltage_tolerance_V": 0.5}},
     "configuration.contactor_manager.precharge_voltage_tolerance_V", "voltage accuracy"),
    ({"safety_supervisor": {"pack_voltage_tolerance_V": 0.6}},
     "configuration.safety_supervisor.pack_voltage_tolerance_V", "worst case"),
    ({"safety_supervisor": {"plausibility_fault_delay_s": 0.05}},
     "configuration.safety_supervisor.plausibility_fault_delay_s", "cell monitor cycle"),
    ({"safety_supervisor": {"cell_monitor_timeout_s": 0.1}},
     "configuration.safety_supervisor.cell_monitor_timeout_s", "measurement cycle"),
    ({"safety_supervisor": {"current_sensor_timeout_s": 0.01}},
     "configuration.safety_supervisor.current_sensor_timeout_s", "step period"),
    ({"safety_supervisor": {"insulation_warning_ohm": 500000.0}},
     "configuration.safety_supervisor.insulation_warning_ohm", "above the error threshold"),
], ids=["precharge-tolerance", "pack-tolerance", "plausibility-delay", "cell-monitor-timeout",
        "current-sensor-timeout", "insulation-order"])
def test_contradicting_declarations_are_refused(tmp_path: Path, edit: dict[str, Any],
                                                field: str, expected: str) -> None:
    issues = _check(tmp_path, edit)
    assert len(issues) == 1, issues
    assert field in issues[0] and expected in issues[0] and ":" in issues[0], issues[0]


@pytest.mark.parametrize("edit", [
    {"contactor_manager": {"precharge_voltage_tolerance_V": 0.6}},
    {"safety_supervisor": {"pack_voltage_tolerance_V": 0.7}},
    {"safety_supervisor": {"plausibility_fault_delay_s": 0.1}},
    {"safety_supervisor": {"cell_monitor_timeout_s": 0.11, "current_sensor_timeout_s": 0.02}},
    {"safety_supervisor": {"insulation_warning_ohm": 500001.0}},
], ids=["precharge-tolerance", "pack-tolerance", "plausibility-delay", "timeouts",
        "insulation-order"])
def test_the_tightest_consistent_declarations_are_accepted(tmp_path: Path,
                                                           edit: dict[str, Any]) -> None:
    assert _check(tmp_path, edit) == []


@pytest.mark.parametrize(("component", "name", "bad", "good"), [
    ("charge_control", "charge_voltage_limit_V", 4.26, 4.25),
    ("sop_estimator", "sop_charge_voltage_limit_V", 4.3, 4.25),
    ("sop_estimator", "sop_discharge_voltage_limit_V", 2.9, 3.0),
    ("balancing", "balancing_min_cell_voltage_V", 4.3, 4.25),
])
def test_cell_voltages_of_other_components_stay_inside_the_msl_window(
        tmp_path: Path, component: str, name: str, bad: float, good: float) -> None:
    """A charger, SoP or balancing voltage beyond the declared MSLs (4.25 V, 3.0 V in the
    reference's manifest): e.g. an LFP scaffold whose charger still targets NMC's 4.2 V."""
    issues = _check(tmp_path, {component: {name: bad}}, reference_manifest_path())
    assert len(issues) == 1, issues
    assert f"configuration.{component}.{name}" in issues[0]
    assert "msl_V" in issues[0] and f"found {bad:g} V" in issues[0]
    assert _check(tmp_path, {component: {name: good}}, reference_manifest_path()) == []
