"""The reference manifest, the schema, and the structural errors of a manifest."""

from __future__ import annotations

import json

import jsonschema
import pytest

from conformance.manifest import Manifest, load_manifest, read_manifest, safety_core_manifest_path
from conformance.manifest.schema import FILE_NAME
from conformance.paths import schemas_dir
from conformance.spec import load_spec

from .helpers import REFERENCE_TEXT, edited, line_of

FEATURES = "insulation_monitoring, weld_detection, deep_discharge_lockout"


@pytest.fixture(scope="module")
def spec():
    return load_spec()


def test_reference_manifest_is_valid(spec):
    manifest, issues = load_manifest(safety_core_manifest_path(), spec)
    assert issues == [], "\n".join(str(i) for i in issues)
    assert isinstance(manifest, Manifest)
    assert manifest.source == str(safety_core_manifest_path())
    assert {"insulation_monitoring", "weld_detection"} <= set(manifest.features)


def test_reference_manifest_declares_every_safety_core_parameter(spec):
    manifest, _ = load_manifest(safety_core_manifest_path(), spec)
    for component in spec.profiles["bmu_safety_core"].components:
        names = {p.name for p in spec.interfaces[component].parameters}
        assert names <= set(manifest.declared(component)), component


def test_reference_manifest_validates_against_the_published_schema():
    import yaml

    schema = json.loads((schemas_dir() / FILE_NAME).read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(REFERENCE_TEXT))


def test_effective_parameters_overlay_declarations_on_spec_defaults(spec, tmp_path):
    path = edited(tmp_path, "    precharge_timeout_s: 2.0\n", "")
    path.write_text(path.read_text().replace(
        "discharge_temperature_max_hysteresis_K: 5.0",
        "discharge_temperature_max_hysteresis_K: 5", 1))
    manifest, issues = load_manifest(path, spec)
    assert issues == []
    cm = manifest.effective_parameters(spec, "contactor_manager")
    default = next(p.default for p in spec.interfaces["contactor_manager"].parameters
                   if p.name == "precharge_timeout_s")
    assert cm["precharge_timeout_s"] == default  # not declared: the spec default
    assert isinstance(cm["precharge_max_attempts"], int)
    ss = manifest.effective_parameters(spec, "safety_supervisor")
    assert ss["discharge_temperature_max_hysteresis_K"] == 5.0
    assert isinstance(ss["discharge_temperature_max_hysteresis_K"], float)
    assert manifest.effective_parameters(spec, "diagnostics") == {
        p.name: p.default for p in spec.interfaces["diagnostics"].parameters}


def test_dimensions_come_from_the_pack_and_the_spec(spec):
    manifest, _ = load_manifest(safety_core_manifest_path(), spec)
    dims = manifest.dimensions(spec)
    assert dims["cell"] == manifest.pack.cell_count
    assert dims["temperature_sensor"] == manifest.pack.temperature_sensor_count
    assert dims["dtc"] == sum(len(i.fault_codes) for i in spec.interfaces.values())


# ---------------------------------------------------------------------------- structure
STRUCTURAL = [
    # (id, old, new, field, line fragment (None: no line check), message fragment)
    ("wrong type", "cell_count: 96", 'cell_count: "many"', "pack.cell_count",
     "pack:", "expected integer"),
    ("insane pack", "cell_count: 96", "cell_count: 0", "pack.cell_count", "pack:",
     "expected a value >= 1, found 0"),
    ("unknown chemistry", "chemistry: nmc", "chemistry: unobtainium", "pack.chemistry",
     "pack:", "expected one of"),
    ("extra field", "spec_version:", "colour: red\nspec_version:", "colour", "colour: red",
     "unexpected field: Additional properties are not allowed ('colour'"),
    ("missing field", "spec_version: 0.3.0\n", "", "", None, "'spec_version'"),
    ("bad version text", "spec_version: 0.3.0", "spec_version: one", "spec_version",
     "spec_version:", "expected a value matching"),
    ("no profiles", "profiles: [bmu_safety_core]", "profiles: []", "profiles", "profiles:",
     "found []"),
    ("negative timeout", "timeout_s: 1.0", "timeout_s: -1", "adapter.timeout_s",
     "  timeout_s:", "found -1"),
    ("value not scalar", "cell_voltage_max_msl_V: 4.25", "cell_voltage_max_msl_V: [4.25]",
     "configuration.safety_supervisor.cell_voltage_max_msl_V", "cell_voltage_max_msl_V:", ""),
    ("capacity below 1 mAh", "capacity_Ah: 50.0", "capacity_Ah: 5e-324", "pack.capacity_Ah",
     "pack:", "expected a value >= 0.001, found 5e-324"),
    ("timeout below 10 ms", "timeout_s: 1.0", "timeout_s: 1.0e-6", "adapter.timeout_s",
     "  timeout_s:", "expected a value >= 0.05, found 1e-06"),
    ("vendor name too long", "vendor: OBSA", "vendor: " + "O" * 201, "module.vendor",
     "  vendor:", "expected at most 200 characters, found 201: "),
    # the reader's refusals: one line, one field, before any schema
    ("not-a-number capacity", "capacity_Ah: 50.0", "capacity_Ah: .nan", "pack.capacity_Ah",
     "pack:", "expected a finite number, found .nan"),
    ("infinite timeout", "timeout_s: 1.0", "timeout_s: .inf", "adapter.timeout_s",
     "  timeout_s:", "expected a finite number, found .inf"),
    ("bad int tag", "cell_count: 96", "cell_count: !!int xyz", "pack.cell_count", "pack:",
     "expected a value of the tag !!int, found 'xyz'"),
    ("custom tag", "vendor: OBSA", "vendor: !vendor OBSA", "module.vendor", "  vendor:",
     "found the tag !vendor"),
    ("alias", f"features: [{FEATURES}]", f"features: &f [{FEATURES}]\nextra: *f", "extra",
     "extra:", "found the alias *f"),
    ("recursive alias", f"features: [{FEATURES}]",
     "features: &f [insulation_monitoring, *f]", "features[1]", "features:", "alias *f"),
    ("NUL byte", "vendor: OBSA", "vendor: OB\x00SA", "", "  vendor:", "found U+0000"),
]


@pytest.mark.parametrize("case", STRUCTURAL, ids=[c[0] for c in STRUCTURAL])
def test_structural_error_names_file_line_field(tmp_path, case):
    _, old, new, field, fragment, message = case
    path = edited(tmp_path, old, new)
    manifest, issues = read_manifest(path)
    assert manifest is None
    assert issues, "a broken manifest must give issues"
    issue = next((i for i in issues if i.field == field), None)
    assert issue is not None, [str(i) for i in issues]
    assert issue.file == str(path)
    assert message in issue.message, str(issue)
    text = path.read_text()
    if fragment is not None:
        assert issue.line == line_of(text, fragment), str(issue)
    assert str(issue).startswith(f"{path}:")


def test_alias_bomb_and_huge_file_are_refused_before_any_work(tmp_path):
    from tests.spec.helpers import billion_laughs

    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(REFERENCE_TEXT + billion_laughs(9, prefix="bomb_"))
    manifest, issues = read_manifest(bomb)
    assert manifest is None and "alias" in issues[0].message and issues[0].line is not None
    huge = tmp_path / "huge.yaml"
    with huge.open("w") as f:
        f.write(REFERENCE_TEXT)
        f.truncate(50 * 1024 * 1024)  # sparse: 50 MB on disk costs nothing here
    manifest, issues = read_manifest(huge)
    assert manifest is None and len(issues) == 1
    assert "expected a file of at most 1048576 bytes, found 52428800 bytes" in issues[0].message


def test_a_repeated_mistake_is_reported_a_bounded_number_of_times(tmp_path):
    from conformance.spec.loader import MAX_SCHEMA_ISSUES

    wrong = ", ".join(["Not-An-Id"] * (MAX_SCHEMA_ISSUES + 150))
    path = edited(tmp_path, "profiles: [bmu_safety_core]", f"profiles: [{wrong}]")
    _, issues = read_manifest(path)
    assert len(issues) == MAX_SCHEMA_ISSUES + 1
    assert issues[-1].message.startswith("... and 150 more problems")
    assert issues[-1].line == line_of(path.read_text(), "profiles:")
    path = edited(tmp_path, "profiles: [bmu_safety_core]",
                  "profiles: [" + ", ".join(["Not-An-Id"] * MAX_SCHEMA_ISSUES) + "]")
    _, issues = read_manifest(path)
    assert len(issues) == MAX_SCHEMA_ISSUES and "more problems" not in issues[-1].message


def test_yaml_syntax_error_has_a_line(tmp_path):
    path = edited(tmp_path, "profiles: [bmu_safety_core]", "profiles: [bmu_safety_core")
    manifest, issues = read_manifest(path)
    assert manifest is None and len(issues) == 1
    assert "not valid YAML" in issues[0].message and issues[0].line is not None


def test_missing_file_is_an_issue_not_an_exception(tmp_path):
    manifest, issues = load_manifest(tmp_path / "nope.yaml", None)
    assert manifest is None
    assert len(issues) == 1 and "cannot read" in issues[0].message


def test_not_a_mapping(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text("- just\n- a list\n")
    manifest, issues = read_manifest(path)
    assert manifest is None and "expected a mapping" in issues[0].message


def test_bad_key_pattern_is_caught_by_the_model(tmp_path):
    path = edited(tmp_path, "    diagnostics: reference_impl", "    Diagnostics-X: reference_impl")
    manifest, issues = read_manifest(path)
    assert manifest is None
    assert any("Diagnostics-X" in i.field for i in issues), [str(i) for i in issues]
