"""Every reason to refuse a manifest, each with a broken copy of the reference manifest."""

from __future__ import annotations

import re

import pytest

from conformance.manifest import check_manifest, compatible, load_manifest
from conformance.spec import load_spec

from .helpers import REFERENCE_TEXT, edited, line_of


@pytest.fixture(scope="module")
def spec():
    return load_spec()


def _bump(version: str, part: int) -> str:
    nums = [int(x) for x in version.split("-")[0].split(".")]
    nums[part] += 1
    for i in range(part + 1, 3):
        nums[i] = 0
    return ".".join(map(str, nums))


def _issues(tmp_path, spec, old, new):
    path = edited(tmp_path, old, new)
    manifest, issues = load_manifest(path, spec)
    assert manifest is not None, [str(i) for i in issues]  # structurally fine
    assert issues, "the broken manifest was accepted"
    return path, issues


def _one(issues, field):
    found = [i for i in issues if i.field == field]
    assert found, f"no issue on {field}: {[str(i) for i in issues]}"
    return found[0]


CASES = [
    # (id, old, new, field, line fragment, message fragments)
    ("unknown profile", "profiles: [bmu_safety_core]", "profiles: [bmu_safety_core, warp_drive]",
     "profiles[1]", "profiles:", ["expected a profile of the spec", "found 'warp_drive'"]),
    ("duplicate profile", "profiles: [bmu_safety_core]",
     "profiles: [bmu_safety_core, bmu_safety_core]", "profiles[1]", "profiles:", ["twice"]),
    ("unknown feature", "features: [insulation_monitoring, weld_detection, deep_discharge_lockout]",
     "features: [insulation_monitoring, teleportation]", "features[1]", "features:",
     ["expected a feature of the spec", "found 'teleportation'"]),
    ("unknown component", "configuration:\n",
     "configuration:\n  flux_capacitor: {gigawatts: 1.21}\n",
     "configuration.flux_capacitor", "flux_capacitor:",
     ["expected a component of the spec", "found 'flux_capacitor'"]),
    ("unknown parameter", "    cell_voltage_max_msl_V: 4.25\n",
     "    cell_voltage_max_msl_V: 4.25\n    cell_voltage_max_msk_V: 4.25\n",
     "configuration.safety_supervisor.cell_voltage_max_msk_V", "cell_voltage_max_msk_V:",
     ["expected a parameter of safety_supervisor", "found 'cell_voltage_max_msk_V'"]),
    ("out of range", "cell_voltage_max_msl_V: 4.25", "cell_voltage_max_msl_V: 5.5",
     "configuration.safety_supervisor.cell_voltage_max_msl_V", "cell_voltage_max_msl_V:",
     ["expected a value in [1.5, 4.8] V (spec range), found 5.5"]),
    ("float for int", "precharge_max_attempts: 3", "precharge_max_attempts: 2.5",
     "configuration.contactor_manager.precharge_max_attempts", "precharge_max_attempts:",
     ["expected an integer, found 2.5"]),
    ("bool for float", "cell_voltage_max_msl_V: 4.25", "cell_voltage_max_msl_V: true",
     "configuration.safety_supervisor.cell_voltage_max_msl_V", "cell_voltage_max_msl_V:",
     ["expected a number V, found True"]),
    ("string for float", "cell_voltage_max_msl_V: 4.25", "cell_voltage_max_msl_V: high",
     "configuration.safety_supervisor.cell_voltage_max_msl_V", "cell_voltage_max_msl_V:",
     ["expected a number V, found 'high'"]),
    ("upper limits out of order", "cell_voltage_max_rsl_V: 4.2", "cell_voltage_max_rsl_V: 4.3",
     "configuration.safety_supervisor.cell_voltage_max_rsl_V", "cell_voltage_max_rsl_V:",
     ["expected MOL < RSL < MSL for the upper limit 'cell_voltage_max'",
      "cell_voltage_max_rsl_V = 4.3"]),
    ("lower limits out of order", "cell_voltage_min_rsl_V: 3.1", "cell_voltage_min_rsl_V: 2.9",
     "configuration.safety_supervisor.cell_voltage_min_rsl_V", "cell_voltage_min_rsl_V:",
     ["expected MOL > RSL > MSL for the lower limit 'cell_voltage_min'"]),
    ("equal levels", "charge_current_max_mol_A: 100.0", "charge_current_max_mol_A: 120.0",
     "configuration.safety_supervisor.charge_current_max_mol_A", "charge_current_max_mol_A:",
     ["'charge_current_max'"]),
    ("missing adapter entry", "    diagnostics: reference_impl.services.diagnostics:Diagnostics\n",
     "", "adapter.components", "components:",
     ["expected an entry for component 'diagnostics' (profile 'bmu_safety_core')"]),
    ("unknown adapter component", "  components:\n",
     "  components:\n    hyperdrive: x.y:Z\n", "adapter.components.hyperdrive", "hyperdrive:",
     ["expected a component of the spec", "found 'hyperdrive'"]),
    ("more sensors than cells", "cell_count: 96, temperature_sensor_count: 24",
     "cell_count: 1, temperature_sensor_count: 24", "pack.temperature_sensor_count", "pack:",
     ["expected between 1 and the cell count (1) cell temperature sensors", "found 24"]),
    ("pack beyond the pack voltage range", "cell_count: 96", "cell_count: 358",
     "pack.cell_count", "pack:",
     ["expected at most 357 series nmc cells", "1500 V), found 358 (1504 V)"]),
    ("other pack beyond the range, as the bench simulates it", "chemistry: nmc, cell_count: 96, "
     "temperature_sensor_count: 24", "chemistry: other, cell_count: 1000, "
     "temperature_sensor_count: 1000", "pack.cell_count", "pack:",
     ["expected at most 357 series other cells", "found 1000"]),
    ("current limit beyond 100 C", "capacity_Ah: 50.0", "capacity_Ah: 2.0",
     "configuration.safety_supervisor.discharge_current_max_msl_A",
     "discharge_current_max_msl_A:",
     ["expected discharge_current_max_msl_A at most 100 C of the 2 Ah pack (200 A), "
      "found 300 A (150 C)"]),
    ("lfp pack beyond the pack voltage range", "chemistry: nmc, cell_count: 96",
     "chemistry: lfp, cell_count: 423", "pack.cell_count", "pack:",
     ["expected at most 422 series lfp cells"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_check_refuses_with_file_line_field(tmp_path, spec, case):
    _, old, new, field, fragment, messages = case
    path, issues = _issues(tmp_path, spec, old, new)
    issue = _one(issues, field)
    assert issue.file == str(path)
    assert issue.line == line_of(path.read_text(), fragment), str(issue)
    for text in messages:
        assert text in issue.message, str(issue)


def test_limit_order_uses_spec_defaults_for_undeclared_levels(tmp_path, spec):
    path = edited(tmp_path, "    cell_voltage_max_rsl_V: 4.2\n", "")
    text = path.read_text().replace("cell_voltage_max_mol_V: 4.15", "cell_voltage_max_mol_V: 4.22")
    path.write_text(text)
    manifest, issues = load_manifest(path, spec)
    issue = _one(issues, "configuration.safety_supervisor.cell_voltage_max_mol_V")
    assert "(spec default)" in issue.message and "4.22" in issue.message


@pytest.mark.parametrize("part,why", [(0, "compatible"), (1, "compatible"), (2, "not newer")])
def test_incompatible_spec_version_is_refused(tmp_path, spec, part, why):
    newer = _bump(spec.version, part)
    path, issues = _issues(tmp_path, spec, f"spec_version: {spec.version}",
                          f"spec_version: {newer}")
    issue = _one(issues, "spec_version")
    assert issue.line == line_of(path.read_text(), "spec_version:")
    assert why in issue.message and newer in issue.message and spec.version in issue.message


def test_version_rule():
    assert compatible("0.1.0", "0.1.3") is None          # older patch of the same 0.x
    assert compatible("0.1.4", "0.1.3") is not None      # newer than the bench
    assert compatible("0.2.0", "0.1.3") is not None      # 0.x: minor must match
    assert compatible("0.1.0", "0.2.0") is not None
    assert compatible("1.0.0", "1.4.0") is None          # 1.x: major must match
    assert compatible("1.5.0", "1.4.0") is not None
    assert compatible("1.0.0", "2.0.0") is not None
    assert compatible("1.4.0-rc.1", "1.4.0") is None     # a pre-release precedes the release
    assert compatible("1.4.0", "1.4.0-rc.1") is not None


def test_check_manifest_alone_matches_load(tmp_path, spec):
    path = edited(tmp_path, "cell_voltage_max_msl_V: 4.25", "cell_voltage_max_msl_V: 5.5")
    manifest, issues = load_manifest(path, spec)
    assert check_manifest(manifest, spec) == issues


def test_every_issue_prints_file_line_field(tmp_path, spec):
    _, issues = _issues(tmp_path, spec, "profiles: [bmu_safety_core]", "profiles: [nope]")
    for issue in issues:
        assert issue.line is not None
        assert str(issue).startswith(f"{issue.file}:{issue.line}: ")


def test_older_spec_version_is_told_what_changed(spec):
    """A module built for an older release learns, from the spec's changelog, what changed."""
    older = [c for c in spec.standard.changelog if c.version == spec.version]
    assert older, "the spec's changelog has no entry for its own version"
    message = compatible("0.1.0", spec.version, spec.standard.changelog)
    assert message is not None and "Changed since 0.1.0" in message
    assert all(c.change.split()[0] in message for c in older)
    assert f"declare spec_version {spec.version}" in message
    assert "Changed since" not in (compatible("0.1.0", spec.version) or "")


ACCEPTED = [
    # (id, old, new): packs and settings real products have, at and near every bound
    ("small pack, one sensor", "cell_count: 96, temperature_sensor_count: 24",
     "cell_count: 4, temperature_sensor_count: 1"),
    ("a sensor per cell", "cell_count: 96, temperature_sensor_count: 24",
     "cell_count: 24, temperature_sensor_count: 24"),
    ("largest nmc pack", "cell_count: 96", "cell_count: 357"),
    ("largest lfp pack", "chemistry: nmc, cell_count: 96", "chemistry: lfp, cell_count: 422"),
    ("largest lto pack", "chemistry: nmc, cell_count: 96", "chemistry: lto, cell_count: 535"),
    ("largest other pack, simulated as nmc", "chemistry: nmc, cell_count: 96, "
     "temperature_sensor_count: 24", "chemistry: other, cell_count: 357, "
     "temperature_sensor_count: 357"),
    ("current limit at 100 C", "capacity_Ah: 50.0", "capacity_Ah: 3.0"),
    ("largest capacity", "capacity_Ah: 50.0", "capacity_Ah: 10000"),
    ("shortest timeout", "timeout_s: 1.0", "timeout_s: 0.05"),
    ("no timeout", "timeout_s: 1.0", "timeout_s: null"),
]


def _bench_of(path, manifest, spec):
    """The bench ``obsa certify`` would build for this manifest (raises when it cannot)."""
    from conformance.session import Certification

    cert = Certification(manifest_path=path, out_dir=path.parent, spec=spec, manifest=manifest)
    return cert._bench()


@pytest.mark.parametrize("case", ACCEPTED, ids=[c[0] for c in ACCEPTED])
def test_configurations_products_have_are_accepted(tmp_path, spec, case):
    _, old, new = case
    path = edited(tmp_path, old, new)
    manifest, issues = load_manifest(path, spec)
    assert manifest is not None and issues == [], [str(i) for i in issues]
    _bench_of(path, manifest, spec)


def _sensor_bounds():
    """(component, parameter, value) at both ends of the spec range of every parameter of
    the measuring hardware, which sizes the bench's sensor errors and cycles."""
    spec = load_spec()
    for component in ("cell_monitor", "current_sensor", "isolation_monitor"):
        for p in spec.interfaces[component].parameters:
            for value in (p.range.min, p.range.max) if p.range else ():
                marks = []
                if p.name == "measurement_cycle_s" and value < 0.01:
                    marks = [pytest.mark.xfail(strict=True, reason=(
                        "BenchConfig refuses a cell monitor cycle shorter than the bench step "
                        "(0.01 s) that the spec allows down to 0.005 s; the bench could take "
                        "one sample per step"))]
                yield pytest.param(component, p.name, value, marks=marks,
                                   id=f"{p.name}={value:g}")


@pytest.mark.parametrize("component,name,value", list(_sensor_bounds()))
def test_sensor_parameters_at_their_spec_bounds_run_on_the_bench(tmp_path, spec, component,
                                                                 name, value):
    text = REFERENCE_TEXT
    old = re.search(rf"\n    {name}: [^\n]+", text)
    assert old is not None, f"{name} is not declared in the reference manifest"
    path = edited(tmp_path, old[0], f"\n    {name}: {value!r}")
    if name == "voltage_accuracy_V":  # a precharge tolerance consistent with it (checked)
        path.write_text(re.sub(r"precharge_voltage_tolerance_V: [0-9.]+",
                               f"precharge_voltage_tolerance_V: {value + 0.5!r}",
                               path.read_text()))
    manifest, issues = load_manifest(path, spec)
    assert manifest is not None and issues == [], [str(i) for i in issues]
    _bench_of(path, manifest, spec)


def test_smallest_capacity_with_currents_to_match(tmp_path, spec):
    path = edited(tmp_path, "capacity_Ah: 50.0", "capacity_Ah: 0.001")
    text = path.read_text()
    for name in ("charge_current_max", "discharge_current_max"):
        for level, value in (("mol", 0.02), ("rsl", 0.05), ("msl", 0.1)):
            text = re.sub(rf"{name}_{level}_A: [0-9.]+", f"{name}_{level}_A: {value}", text)
    path.write_text(text)
    manifest, issues = load_manifest(path, spec)
    assert manifest is not None and issues == [], [str(i) for i in issues]


def test_a_spec_default_current_limit_points_at_the_capacity(tmp_path, spec):
    path = edited(tmp_path, "    discharge_current_max_msl_A: 300.0\n", "")
    path.write_text(path.read_text().replace("capacity_Ah: 50.0", "capacity_Ah: 2.0"))
    _, issues = load_manifest(path, spec)
    issue = _one(issues, "pack.capacity_Ah")
    assert issue.line == line_of(path.read_text(), "pack:")
    assert "(150 C, the spec default)" in issue.message


def test_a_mistake_repeated_is_reported_a_bounded_number_of_times(tmp_path, spec):
    from conformance.spec.loader import MAX_SCHEMA_ISSUES

    repeated = ", ".join(["bmu_safety_core"] * (MAX_SCHEMA_ISSUES + 101))
    path = edited(tmp_path, "profiles: [bmu_safety_core]", f"profiles: [{repeated}]")
    manifest, issues = load_manifest(path, spec)
    assert manifest is not None and len(issues) == MAX_SCHEMA_ISSUES + 1
    assert all("listed twice" in i.message for i in issues[:-1])
    assert issues[-1].message.startswith("... and 100 more problems")


def test_a_crashing_check_refuses_with_the_file(tmp_path, spec, monkeypatch):
    from conformance.manifest import check as check_module

    def crash(m, s):  # type: ignore[no-untyped-def]
        raise ZeroDivisionError("boom")
        yield

    monkeypatch.setattr(check_module, "_claims", crash)
    path = edited(tmp_path, "cell_count: 96", "cell_count: 96")
    manifest, issues = load_manifest(path, spec)
    (issue,) = issues
    assert issue.file == str(path) and issue.line == 1
    assert "internal error while checking this manifest: ZeroDivisionError: boom" in issue.message


def test_a_feature_not_claimed_takes_no_parameters(tmp_path, spec):
    """A module without a deep-discharge lockout does not claim the feature and declares
    none of its parameters; the configure() values then leave them out."""
    text = REFERENCE_TEXT.replace("weld_detection, deep_discharge_lockout]", "weld_detection]")
    kept = tmp_path / "declared.yaml"
    kept.write_text(text, encoding="utf-8")
    manifest, issues = load_manifest(kept, spec)
    assert [i.field for i in issues] == [
        "configuration.safety_supervisor.deep_discharge_voltage_V",
        "configuration.safety_supervisor.deep_discharge_delay_s"]
    assert all("feature 'deep_discharge_lockout'" in i.message for i in issues)
    assert issues[0].line == line_of(text, "deep_discharge_voltage_V")
    lines = [ln for ln in text.splitlines(keepends=True) if "deep_discharge_" not in ln]
    dropped = tmp_path / "dropped.yaml"
    dropped.write_text("".join(lines), encoding="utf-8")
    manifest, issues = load_manifest(dropped, spec)
    assert issues == []
    params = manifest.effective_parameters(spec, "safety_supervisor")
    assert "deep_discharge_voltage_V" not in params and "deep_discharge_delay_s" not in params
    assert "insulation_error_ohm" in params  # a claimed feature keeps its parameters


def test_a_short_circuit_level_below_the_over_current_limit_is_refused(tmp_path, spec):
    """The front end's cut would always act first: the over-current limit could not."""
    from tests.faulty.protection_faults import BASIC_MANIFEST

    text = BASIC_MANIFEST.read_text(encoding="utf-8")
    assert "short_circuit_A: 300.0" in text
    path = tmp_path / "basic.yaml"
    path.write_text(text.replace("short_circuit_A: 300.0", "short_circuit_A: 90.0"),
                    encoding="utf-8")
    _, issues = load_manifest(path, spec)
    assert [i.field for i in issues] == ["configuration.protection.short_circuit_A"]
    assert "above the discharge over-current limit discharge_overcurrent_A = 100 A, found 90 A" \
        in issues[0].message
    _, issues = load_manifest(BASIC_MANIFEST, spec)
    assert issues == []


@pytest.mark.parametrize("threshold,hysteresis,refused", [
    (0.2, 0.2, False), (0.01, 0.005, False), (0.01, None, True), (0.05, 0.06, True)])
def test_a_balancing_hysteresis_above_its_threshold_is_refused(tmp_path, spec, threshold,
                                                               hysteresis, refused):
    """OBSA-BAL-008: a cell would have to fall below the lowest cell to stop balancing
    (the default hysteresis, 0.2 V, counts when only a smaller threshold is declared)."""
    import yaml

    data = yaml.safe_load(REFERENCE_TEXT)
    data["profiles"] = ["full_bms"]
    data["configuration"]["balancing"] = {"balancing_threshold_V": threshold}
    if hysteresis is not None:
        data["configuration"]["balancing"]["balancing_hysteresis_V"] = hysteresis
    path = tmp_path / "full.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    _, issues = load_manifest(path, spec)
    found = [i for i in issues if i.field and i.field.startswith("configuration.balancing")]
    if not refused:
        assert found == []
        return
    assert len(found) == 1 and "OBSA-BAL-008" in found[0].message, [str(i) for i in issues]
    assert found[0].field == ("configuration.balancing.balancing_hysteresis_V"
                              if hysteresis is not None else "configuration.balancing")


@pytest.mark.parametrize("declared,refused", [
    ({}, None),  # the spec's defaults: 5 < 10 < 35 < 40 °C
    ({"heating_on_temperature_degC": -5.0, "heating_off_temperature_degC": 0.0,
      "cooling_off_temperature_degC": 44.0, "cooling_on_temperature_degC": 45.0}, None),
    ({"heating_off_temperature_degC": 4.0}, "heating_off_temperature_degC"),
    ({"cooling_off_temperature_degC": 9.0}, "cooling_off_temperature_degC"),
    ({"cooling_on_temperature_degC": 35.0}, "cooling_on_temperature_degC"),
])
def test_unordered_thermal_thresholds_are_refused(tmp_path, spec, declared, refused):
    """OBSA-THERM-007: heating on < heating off < cooling off < cooling on, the spec's
    defaults standing for what is not declared; the refusal names the threshold out of
    order and the one it must exceed."""
    import yaml

    data = yaml.safe_load(REFERENCE_TEXT)
    data["profiles"] = ["full_bms"]
    data["configuration"]["thermal_manager"] = dict(declared)
    path = tmp_path / "full.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    _, issues = load_manifest(path, spec)
    found = [i for i in issues if i.field and i.field.startswith("configuration.thermal")]
    if refused is None:
        assert found == [], [str(i) for i in found]
        return
    assert len(found) == 1 and "OBSA-THERM-007" in found[0].message, [str(i) for i in found]
    assert found[0].field == f"configuration.thermal_manager.{refused}"
