"""``obsa spec validate``: every class of error is caught, located and explained.

Each case copies the real spec, breaks it with a targeted textual edit and expects
exactly one new issue (compared with the unedited spec), naming the right file, line
and field, with a message that says what was expected and what was found.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conformance.spec import check_spec
from conformance.spec import validate as validate_module

from .helpers import (
    SPEC_DIR,
    Edit,
    Printed,
    apply,
    copy_spec,
    generic,
    line_of,
    printed_issues,
    validate,
)

ARCH = "architecture.yaml"
DICT = "dictionary.yaml"
PROF = "profiles.yaml"
STD = "standard.yaml"
CM = "interfaces/contactor_manager.yaml"
CD = "interfaces/contactor_driver.yaml"
CS = "interfaces/current_sensor.yaml"
CELL = "interfaces/cell_monitor.yaml"
SS = "interfaces/safety_supervisor.yaml"
R_SAFE = "requirements/safety.yaml"
R_DIAG = "requirements/diagnostics.yaml"


@dataclass(frozen=True)
class Case:
    """A broken spec and the one issue it must produce.

    ``line`` is text on the line the issue must name (default: the first line of the
    last edit's new text), searched after ``line_after`` in the file the issue names.
    ``field`` is the issue's field with list indices written as ``[*]``.
    """

    name: str
    edits: tuple[Edit, ...]
    field: str
    message: str
    file: str = ""
    line: str | None = None
    line_after: str | None = None
    semantic: bool = True

    @property
    def where(self) -> str:
        return self.file or self.edits[-1].file

    @property
    def line_text(self) -> str:
        return self.line if self.line is not None else self.edits[-1].new.splitlines()[0]

    @property
    def search_after(self) -> str | None:
        if self.line_after is not None or self.file:
            return self.line_after
        return self.edits[-1].after


def case(name: str, path: str, old: str | None, new: str, fld: str, message: str, *,
         after: str | None = None, extra: tuple[Edit, ...] = (), **kw: object) -> Case:
    """A case whose last edit replaces ``old`` (after ``after``) by ``new`` in ``path``."""
    edits = extra + (Edit(path, old, new, after),)
    return Case(name, edits, fld, message, **kw)  # type: ignore[arg-type]


def insert(path: str, section: str, item: str, fld: str, message: str, **kw: object) -> Case:
    """Insert ``item`` as the first entry of the YAML list that follows ``section``."""
    name = str(kw.pop("name"))
    return case(name, path, section, section + item, fld, message, **kw)  # type: ignore[arg-type]


CASES: list[Case] = [
    # ---- unique ids ------------------------------------------------------------------
    insert(ARCH, "layers:\n", "  - {id: functions, title: X, order: 9, description: X}\n",
           "layers[*].id", "unique layer id", name="duplicate_layer_id",
           line="  - id: functions"),
    insert(ARCH, "  nodes:\n",
           '    - {id: gateway, title: X, role: gateway, multiplicity: "0..1", description: X}\n',
           "topology.nodes[*].id", "unique topology node id", name="duplicate_node_id",
           line="    - id: gateway"),
    insert(ARCH, "components:\n",
           "  - {id: diagnostics, title: X, layer: platform_services, node: bmu, description: X}\n",
           "components[*].id", "unique component id", name="duplicate_component_id",
           line="  - id: diagnostics"),
    insert(DICT, "units:\n", "  - {symbol: K, quantity: x, description: x}\n",
           "units[*].symbol", "unique unit symbol", name="duplicate_unit_symbol",
           line="  - {symbol: K, quantity: temperature"),
    insert(DICT, "dimensions:\n", "  - {id: dtc, description: X}\n",
           "dimensions[*].id", "unique dimension id", name="duplicate_dimension_id",
           line="  - id: dtc\n"),
    insert(DICT, "enums:\n",
           "  - {id: dtc_status, description: X, values: [{name: a, value: 0, description: X}]}\n",
           "enums[*].id", "unique enum id", name="duplicate_enum_id", line="  - id: dtc_status"),
    case("duplicate_enum_value_name", DICT, "{name: stored, value: 2,", "{name: active, value: 2,",
         "enums[*].values[*].name", "unique value name in enum 'dtc_status'",
         after="id: dtc_status"),
    case("duplicate_enum_value", DICT, "{name: stored, value: 2,", "{name: stored, value: 1,",
         "enums[*].values[*].value", "unique value in enum 'dtc_status', found 1 again",
         after="id: dtc_status"),
    insert(DICT, "signals:\n", '  - {name: close_request, type: bool, unit: "1", description: X}\n',
           "signals[*].name", "unique signal name", name="duplicate_signal_name",
           line="  - name: close_request"),
    insert(PROF, "features:\n", "  - {id: weld_detection, title: X, description: X}\n",
           "features[*].id", "unique feature id", name="duplicate_feature_id",
           line="  - id: weld_detection"),
    insert(PROF, "\nprofiles:\n",
           "  - {id: cell_monitoring_unit, title: X, description: X, components: [cell_monitor]}\n",
           "profiles[*].id", "unique profile id", name="duplicate_profile_id",
           line="  - id: cell_monitoring_unit"),
    case("duplicate_profile_component", PROF, "components: [cell_monitor]",
         "components: [cell_monitor, cell_monitor]", "profiles[*].components[*]",
         "each component once"),
    case("duplicate_requirement_id", R_DIAG, "id: OBSA-DIAG-004", "id: OBSA-DIAG-003",
         "requirements[*].id", "unique requirement id, found 'OBSA-DIAG-003' again",
         file=R_DIAG, line="id: OBSA-DIAG-003", line_after="id: OBSA-DIAG-003"),
    insert(CD, "parameters:\n",
           '  - {name: coil_economiser, type: bool, unit: "1", default: false, description: X}\n',
           "parameters[*].name", "unique parameter name in the interface of 'contactor_driver'",
           name="duplicate_parameter_name", line="  - name: coil_economiser"),
    insert(CM, "inputs:\n", "  - signal: close_request\n", "inputs[*].signal",
           "unique port signal", name="duplicate_port", file=CM,
           line="  - signal: close_request", line_after="  - signal: close_request"),
    insert(CM, "fault_codes:\n",
           "  - {name: precharge_failed, bit: 30, dtc: 0x0FF0, severity: fault, description: X}\n",
           "fault_codes[*].name", "unique fault code name", name="duplicate_fault_code_name",
           line="  - {name: precharge_failed, bit: 0,"),
    insert(CM, "fault_codes:\n",
           "  - {name: extra_fault, bit: 0, dtc: 0x0FF0, severity: fault, description: X}\n",
           "fault_codes[*].bit", "unique fault code bit", name="duplicate_fault_code_bit",
           line="  - {name: precharge_failed, bit: 0,"),
    insert(CM, "fault_codes:\n",
           "  - {name: extra_fault, bit: 30, dtc: 0x0101, severity: fault, description: X}\n",
           "fault_codes[*].dtc", "unique DTC number across all interfaces, found 0x0101 again",
           name="duplicate_dtc_across_interfaces", line="  - {name: extra_fault"),
    case("duplicate_criterion_name", R_DIAG, "{name: active_cleared,", "{name: history_lost,",
         "requirements[*].acceptance[*].name", "unique criterion name in OBSA-DIAG-004",
         file=R_DIAG, line="{name: history_lost,", line_after="{name: history_lost,"),
    case("duplicate_limit_set", SS, "  - quantity: cell_voltage_min\n",
         "  - quantity: cell_voltage_max\n", "limit_sets[*].quantity",
         "unique limit set quantity", file=SS, line="  - quantity: cell_voltage_max",
         line_after="  - quantity: cell_voltage_max"),
    # ---- references ------------------------------------------------------------------
    case("component_layer_unknown", ARCH, "layer: platform_services", "layer: platform_service",
         "components[*].layer", "found 'platform_service'", after="  - id: diagnostics"),
    case("component_node_unknown", ARCH, "node: bmu", "node: bms", "components[*].node",
         "expected a topology node id", after="  - id: isolation_monitor"),
    case("link_source_unknown", ARCH, "    - source: bmu\n      target: gateway",
         "    - source: bmx\n      target: gateway", "topology.links[*].source", "found 'bmx'"),
    case("link_target_unknown", ARCH, "target: cmu", "target: cmx", "topology.links[*].target",
         "found 'cmx'"),
    insert(ARCH, "components:\n",
           "  - {id: balancer, title: X, layer: functions, node: cmu, description: X}\n",
           "components[*].id", "expected an interface file for component 'balancer'",
           name="component_without_interface", line="  - {id: balancer"),
    case("interface_without_component", "interfaces/ghost.yaml", None,
         "kind: interface\ncomponent: ghost\nstep_period_s: 0.1\ndescription: X\n"
         "outputs:\n  - signal: ghost_output\n",
         "component", "found 'ghost'", line="component: ghost",
         extra=(Edit(STD, "    - interfaces/contactor_manager.yaml\n",
                     "    - interfaces/contactor_manager.yaml\n    - interfaces/ghost.yaml\n"),
                Edit(DICT, "signals:\n", "signals:\n  - {name: ghost_output, type: bool, "
                                         'unit: "1", description: X}\n'))),
    insert(CM, "inputs:\n", "  - signal: no_such_signal_V\n", "inputs[*].signal",
           "expected a signal of the dictionary, found 'no_such_signal_V'",
           name="port_signal_unknown", line="  - signal: no_such_signal_V"),
    case("signal_enum_unknown", DICT, "    enum: contactor_state\n", "    enum: contactor_status\n",
         "signals[*].enum", "found 'contactor_status'"),
    case("flags_of_unknown_component", DICT, "flags_of: contactor_manager",
         "flags_of: contactor_mgr", "signals[*].flags_of", "found 'contactor_mgr'"),
    case("flags_of_component_without_fault_codes", DICT, "flags_of: contactor_manager",
         "flags_of: contactor_driver", "signals[*].flags_of",
         "expected a component with fault codes, found 'contactor_driver'"),
    case("signal_dimension_unknown", DICT, "dimension: dtc\n", "dimension: dtcs\n",
         "signals[*].dimension", "found 'dtcs'", after="name: dtc_last_time_s"),
    insert(CD, "parameters:\n",
           '  - {name: drive_mode, type: enum, enum: drive_modes, unit: "1", description: X}\n',
           "parameters[*].enum", "found 'drive_modes'", name="parameter_enum_unknown",
           line="  - {name: drive_mode"),
    insert(CD, "parameters:\n",
           '  - {name: drive_mode, type: enum, unit: "1", description: X}\n',
           "parameters[*].type", "expected 'enum'", name="parameter_enum_missing",
           line="  - {name: drive_mode"),
    case("limit_level_unknown", SS, "mol: cell_voltage_max_mol_V,", "mol: cell_voltage_max_mol_mV,",
         "limit_sets[*].levels.mol", "found 'cell_voltage_max_mol_mV'"),
    case("limit_level_not_float", SS, "rsl: cell_voltage_max_rsl_V,", "rsl: level_V,",
         "limit_sets[*].levels.rsl", "expected a parameter of type 'float'",
         extra=(Edit(SS, "parameters:\n", "parameters:\n  - {name: level_V, type: int, "
                     "unit: V, range: {min: 0, max: 9}, default: 1, description: X}\n"),)),
    case("limit_level_unit_mismatch", SS, "rsl: cell_voltage_max_rsl_V,", "rsl: level_K,",
         "limit_sets[*].levels.rsl", "expected unit 'V'", file=SS,
         line="levels: {mol: cell_voltage_max_mol_V",
         extra=(Edit(SS, "parameters:\n", "parameters:\n  - {name: level_K, type: float, "
                     "unit: K, range: {min: 0, max: 9}, default: 1, description: X}\n"),)),
    case("limit_hysteresis_unknown", SS, "hysteresis: cell_voltage_max_hysteresis_V",
         "hysteresis: cell_voltage_hysteresis_V", "limit_sets[*].hysteresis",
         "found 'cell_voltage_hysteresis_V'"),
    case("limit_delay_not_seconds", SS, "fault_delay: cell_voltage_min_fault_delay_s",
         "fault_delay: cell_voltage_min_hysteresis_V", "limit_sets[*].fault_delay",
         "expected a float parameter in s, found 'cell_voltage_min_hysteresis_V'"),
    case("parameter_feature_unknown", SS, "feature: deep_discharge_lockout",
         "feature: deep_discharge_protection", "parameters[*].feature",
         "found 'deep_discharge_protection'"),
    case("requirement_component_unknown", R_SAFE, "component: safety_supervisor",
         "component: safety_monitor", "requirements[*].component", "found 'safety_monitor'",
         after="id: OBSA-SAFE-027"),
    case("requirement_profile_unknown", R_SAFE, "profiles: [bmu_safety_core",
         "profiles: [bmu_safety_kernel", "requirements[*].profiles[*]",
         "found 'bmu_safety_kernel'", after="id: OBSA-SAFE-027"),
    case("requirement_component_not_in_profile", R_SAFE, "profiles: [bmu_safety_core",
         "profiles: [cell_monitoring_unit", "requirements[*].profiles[*]",
         "expected a profile that contains component 'safety_supervisor'",
         after="id: OBSA-SAFE-027"),
    case("criterion_parameter_unknown", R_SAFE, "parameter: plausibility_fault_delay_s",
         "parameter: plausibility_delay_s", "requirements[*].acceptance[*].parameter",
         "found 'plausibility_delay_s'", after="id: OBSA-SAFE-020"),
    case("profile_component_unknown", PROF, "components: [cell_monitor]",
         "components: [cell_monitor, cell_balancer]", "profiles[*].components[*]",
         "found 'cell_balancer'"),
    case("condition_feature_unknown", R_SAFE, "condition: insulation_monitoring",
         "condition: insulation_monitoring and cell_balancing", "requirements[*].condition",
         "found 'cell_balancing'", after="id: OBSA-SAFE-025"),
    case("condition_syntax", R_SAFE, "condition: insulation_monitoring",
         "condition: insulation_monitoring and (weld_detection", "requirements[*].condition",
         "expected ')'", after="id: OBSA-SAFE-025"),
    case("requirement_area", R_DIAG, "id: OBSA-DIAG-004", "id: OBSA-DIAX-004",
         "requirements[*].id", "expected an id in the file's area OBSA-DIAG-NNN"),
    case("since_after_version", R_DIAG, "since: 0.1.0", "since: 9.0.0",
         "requirements[*].since", "found 9.0.0", after="id: OBSA-DIAG-004"),
    # ---- units -----------------------------------------------------------------------
    case("signal_unit_unknown", DICT, "unit: A", "unit: mA", "signals[*].unit", "found 'mA'",
         after="name: pack_current_A"),
    case("parameter_unit_unknown", CD, 'unit: "1"', 'unit: "%"', "parameters[*].unit",
         "found '%'"),
    case("criterion_unit_unknown", R_DIAG, 'unit: "1", description: "counters or times',
         'unit: "ppm", description: "counters or times', "requirements[*].acceptance[*].unit",
         "found 'ppm'"),
    case("criterion_unit_differs_from_parameter", R_SAFE,
         "parameter: plausibility_fault_delay_s, unit: s",
         "parameter: plausibility_fault_delay_s, unit: V", "requirements[*].acceptance[*].unit",
         "expected unit 's' of parameter plausibility_fault_delay_s, found 'V'",
         after="id: OBSA-SAFE-020"),
    # ---- ranges ----------------------------------------------------------------------
    case("signal_range_reversed", DICT, "range: {min: 0, max: 100}", "range: {min: 100, max: 0}",
         "signals[*].range", "expected min <= max, found min 100 > max 0"),
    case("parameter_range_reversed", CELL, "range: {min: 0.01, max: 0.2}",
         "range: {min: 0.2, max: 0.01}", "parameters[*].range", "expected min <= max"),
    case("default_outside_range", CM, "default: 2.0", "default: 2.5", "parameters[*].default",
         "inside the range [0.1, 2], found 2.5", after="name: precharge_timeout_s"),
    case("default_not_int", CM, "default: 3", "default: 2.5", "parameters[*].default",
         "expected an integer for type 'int', found 2.5", after="name: precharge_max_attempts"),
    case("default_not_bool", CD, "default: false", "default: 0", "parameters[*].default",
         "expected true or false for type 'bool', found 0"),
    insert(CD, "parameters:\n", '  - {name: drive_mode, type: enum, enum: contactor_state, '
           'unit: "1", default: shut, description: X}\n', "parameters[*].default",
           "expected a value of enum 'contactor_state'", name="default_not_enum_value",
           line="  - {name: drive_mode"),
    case("limit_defaults_unordered_upper", SS, "default: 4.2", "default: 4.3",
         "limit_sets[*].levels", "expected defaults MOL < RSL < MSL for a upper limit",
         after="name: cell_voltage_max_rsl_V", file=SS,
         line="levels: {mol: cell_voltage_max_mol_V"),
    case("limit_defaults_unordered_lower", SS, "default: 3.1", "default: 2.9",
         "limit_sets[*].levels", "MOL > RSL > MSL", after="name: cell_voltage_min_rsl_V",
         file=SS, line="levels: {mol: cell_voltage_min_mol_V"),
    case("resolution_wider_than_range", DICT, "resolution: 0.01", "resolution: 5000",
         "signals[*].resolution", "no larger than the range width 4000, found 5000",
         after="name: pack_current_A"),
    # ---- enums and flags -------------------------------------------------------------
    case("enum_signal_with_range", DICT, "    enum: dtc_status\n",
         "    enum: dtc_status\n    range: {min: 0, max: 2}\n", "signals[*].range",
         "expected no range for a signal of type 'enum'", line="    range: {min: 0, max: 2}",
         line_after="    enum: dtc_status"),
    # ---- signal flow -----------------------------------------------------------------
    insert(CM, "outputs:\n", "  - signal: insulation_resistance_ohm\n", "outputs[*].signal",
           "expected exactly one component to output 'insulation_resistance_ohm', found it "
           "also output by 'isolation_monitor'", name="two_producers",
           line="  - signal: insulation_resistance_ohm"),
    case("input_without_producer", SS, "inputs:\n",
         "inputs:\n  - signal: ambient_temperature_degC\n", "inputs[*].signal",
         "found 'ambient_temperature_degC' that no component outputs",
         line="  - signal: ambient_temperature_degC",
         extra=(Edit(DICT, "signals:\n", "signals:\n  - {name: ambient_temperature_degC, "
                     "type: float, unit: degC, description: X}\n"),)),
    insert(SS, "inputs:\n", "  - signal: true_pack_current_A\n", "inputs[*].signal",
           "read only by the hardware abstraction layer", name="plant_signal_read_by_function",
           line="  - signal: true_pack_current_A"),
    insert(CS, "outputs:\n", "  - signal: true_insulation_resistance_ohm\n", "outputs[*].signal",
           "expected no component to output a signal of source 'plant'",
           name="plant_signal_as_output",
           line="  - signal: true_insulation_resistance_ohm"),
    # ---- unit suffixes ---------------------------------------------------------------
    case("signal_suffix_says_other_unit", DICT, "unit: A", "unit: V", "signals[*].unit",
         "expected unit 'A' as the name's suffix _A says (pack_current_A), found 'V'",
         after="name: pack_current_A"),
    insert(CD, "parameters:\n",
           "  - {name: coil_hold_time, type: float, unit: s, default: 1.0, description: X}\n",
           "parameters[*].name", "expected a name ending in _s for unit 's', found "
           "'coil_hold_time'", name="parameter_unit_without_suffix",
           line="  - {name: coil_hold_time"),
    case("criterion_suffix_of_unlisted_unit", "requirements/balancing.yaml",
         "{name: start_threshold_error_V,", "{name: start_threshold_error_mV,",
         "requirements[*].acceptance[*].unit", "expected unit 'mV' as the name's suffix _mV says"),
    # ---- architecture ----------------------------------------------------------------
    case("duplicate_layer_order", ARCH, "    order: 3\n", "    order: 2\n", "layers[*].order",
         "expected a unique layer order, found 2 again", after="id: connectivity"),
    # ---- files of standard.yaml ------------------------------------------------------
    case("listed_file_absolute", STD, "    - requirements/hmi.yaml\n", "    - /etc/hostname\n",
         "files.requirements[*]", "expected a relative path to a .yaml file inside the spec "
         "directory, found '/etc/hostname'", semantic=False),
    case("listed_file_above_spec", STD, "    - requirements/hmi.yaml\n", "    - ../x.yaml\n",
         "files.requirements[*]", "found '../x.yaml'", semantic=False),
    # ---- non-finite numbers (refused by the reader, with the line) --------------------
    case("step_period_infinite", CELL, "step_period_s: 0.01", "step_period_s: .inf",
         "step_period_s", "expected a finite number, found .inf", semantic=False),
    case("range_nan", CELL, "range: {min: 0.0001, max: 0.01}", "range: {min: .nan, max: 0.01}",
         "parameters[*].range.min", "expected a finite number, found .nan", semantic=False),
    case("default_infinite", CELL, "default: 0.002", "default: -.inf",
         "parameters[*].default", "expected a finite number, found -.inf", semantic=False),
    case("criterion_value_nan", "requirements/balancing.yaml", "value: 0.005,", "value: .NaN,",
         "requirements[*].acceptance[*].value", "expected a finite number, found .NaN",
         semantic=False),
    # ---- hostile YAML (refused by the reader, with the line) -------------------------
    case("yaml_alias", PROF, "components: [cell_monitor]", "components: &c [cell_monitor]\n"
         "    extra: *c", "profiles[*].extra", "found the alias *c", semantic=False,
         line="    extra: *c"),
    case("yaml_custom_tag", PROF, "title: Cell monitoring unit", "title: !shout Cell monitoring",
         "profiles[*].title", "expected a plain value", semantic=False),
    case("yaml_bad_int", CELL, "step_period_s: 0.01", "step_period_s: !!int xyz",
         "step_period_s", "expected a value of the tag !!int, found 'xyz'", semantic=False),
    case("yaml_nul_byte", PROF, "title: Cell monitoring unit", "title: Cell\x00monitoring unit",
         "", "expected printable characters, found U+0000 at column 16", semantic=False),
    case("yaml_second_document", PROF, "kind: profiles\n", "kind: profiles\n---\nx: 1\n", "",
         "expected a single YAML document", line="---", semantic=False),
    # ---- structural (meta-schema, models, YAML) --------------------------------------
    case("yaml_syntax", PROF, "title: Cell monitoring unit", "title: Cell: monitoring unit", "",
         "not valid YAML", semantic=False),
    case("yaml_duplicate_key", R_DIAG, "    level: mandatory\n",
         "    level: mandatory\n    level: optional\n", "requirements[*].level",
         "duplicate key 'level'",
         after="id: OBSA-DIAG-004", line="    level: optional", semantic=False),
    case("schema_missing_field", R_DIAG, "    title: Occurrence times\n", "",
         "requirements[*]", "expected the required field 'title'", file=R_DIAG,
         line="  - id: OBSA-DIAG-002", semantic=False),
    case("schema_unexpected_field", R_DIAG, "    title: Occurrence times\n",
         "    title: Occurrence times\n    owner: nobody\n", "requirements[*].owner",
         "unexpected field", line="    owner: nobody", semantic=False),
    case("schema_resolution_not_positive", DICT, "resolution: 0.01", "resolution: 0",
         "signals[*].resolution", "expected a value > 0, found 0", after="name: pack_current_A",
         semantic=False),
    case("schema_fault_bit_too_large", CM, "{name: feedback_mismatch, bit: 4,",
         "{name: feedback_mismatch, bit: 32,", "fault_codes[*].bit",
         "expected a value <= 31, found 32", semantic=False),
    case("model_rule_conditional_without_condition", R_DIAG, "level: mandatory",
         "level: conditional", "requirements[*]", "needs a 'condition'",
         after="id: OBSA-DIAG-004", file=R_DIAG, line="  - id: OBSA-DIAG-004", semantic=False),
]


@pytest.fixture(scope="module")
def baseline() -> Counter[tuple[str, str, str]]:
    """Issues of the unedited spec: a case must add exactly one issue to these.

    The spec may hold problems of its own while it is being written; they are not the
    case's. Keys ignore list indices and line numbers, which an inserted entry shifts.
    """
    _, issues = check_spec(SPEC_DIR)
    return Counter(_key(i.file, i.field, i.message) for i in issues)


def _key(file: str, fld: str, message: str) -> tuple[str, str, str]:
    return (file, generic(fld), re.sub(r"\.yaml:\d+", ".yaml:N", message))


def new_issues(printed: list[Printed], baseline: Counter[tuple[str, str, str]]) -> list[Printed]:
    left = Counter(baseline)
    out = []
    for issue in printed:
        key = _key(issue.file, issue.field, issue.message)
        if left[key] > 0:
            left[key] -= 1
        else:
            out.append(issue)
    return out


def test_case_names_are_unique() -> None:
    names = [c.name for c in CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_broken_spec_is_rejected(case: Case, tmp_path: Path, baseline: Counter) -> None:
    root = copy_spec(tmp_path)
    for edit in case.edits:
        apply(root, edit)
    code, out, err = validate(root)
    assert code == 1, out + err
    assert err == "" and "Traceback" not in out
    new = new_issues(printed_issues(out), baseline)
    assert len(new) == 1, "expected exactly one new issue, found:\n" + "\n".join(map(str, new))
    (issue,) = new
    assert issue.file == case.where
    assert generic(issue.field) == case.field
    assert case.message in issue.message
    assert issue.line == line_of(root, case.where, case.line_text, case.search_after)
    if case.semantic:
        assert "expected" in issue.message and "found" in issue.message


# ---------------------------------------------------------------------------- whole command
def test_the_real_spec_is_valid() -> None:
    code, out, err = validate(None)
    assert code == 0, out + err
    summary = out.strip().splitlines()[-1]
    assert summary.endswith(", valid") and "requirements" in summary and "OBSA" in summary


def test_quiet_prints_only_problems(tmp_path: Path) -> None:
    root = copy_spec(tmp_path)
    apply(root, Edit(DICT, "unit: A", "unit: mA", after="name: pack_current_A"))
    code, out, _ = validate(root, quiet=True)
    assert code == 1
    assert out.strip() and all(": " in line and ".yaml:" in line for line in out.splitlines())


def test_summary_counts_problems(tmp_path: Path) -> None:
    root = copy_spec(tmp_path)
    apply(root, Edit(PROF, "title: Cell monitoring unit", "title: Cell: monitoring unit"))
    code, out, _ = validate(root)
    assert code == 1
    assert out.strip().splitlines()[-1].endswith(": 1 problem")


def test_missing_directory_exits_2(tmp_path: Path) -> None:
    code, out, err = validate(tmp_path / "nowhere")
    assert code == 2 and out == ""
    assert "nowhere" in err and "cannot read" in err and "Traceback" not in err


def test_missing_listed_file_exits_2(tmp_path: Path) -> None:
    root = copy_spec(tmp_path)
    (root / CD).unlink()
    code, _, err = validate(root)
    assert code == 2
    assert "contactor_driver.yaml" in err and "listed in standard.yaml" in err


def test_a_crashing_check_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def check_crashes(spec):  # type: ignore[no-untyped-def]
        for signal in spec.dictionary.signals:
            yield from ()
            raise ZeroDivisionError(f"boom at {signal.name}")

    monkeypatch.setattr(validate_module, "CHECKS", (check_crashes,))
    code, out, err = validate(SPEC_DIR)
    assert code == 1 and err == ""
    (issue,) = printed_issues(out)
    assert issue.file == DICT and issue.field == "signals[0]" and issue.line is not None
    assert "internal error in check_crashes: ZeroDivisionError" in issue.message


def test_issues_are_sorted_by_file_and_line(tmp_path: Path) -> None:
    root = copy_spec(tmp_path)
    apply(root, Edit(DICT, "unit: A", "unit: mA", after="name: pack_current_A"))
    apply(root, Edit(ARCH, "target: cmu", "target: cmx"))
    apply(root, Edit(DICT, "    enum: contactor_state\n", "    enum: contactor_status\n"))
    _, out, _ = validate(root)
    found = [(i.file, i.line or 0) for i in printed_issues(out)]
    assert found == sorted(found) and len(found) >= 3


def test_semver_order() -> None:
    key = validate_module._semver_key
    ordered = ["0.1.0-alpha", "0.1.0-alpha.1", "0.1.0-alpha.beta", "0.1.0-beta.2",
               "0.1.0-beta.11", "0.1.0-rc.1", "0.1.0", "0.2.0", "0.10.0", "1.0.0"]
    assert sorted(ordered, key=key) == ordered


@dataclass
class _Run:
    args: list[str]
    code: int
    stdout_has: list[str] = field(default_factory=list)
    stderr_has: list[str] = field(default_factory=list)


def test_cli_exit_codes_end_to_end(tmp_path: Path) -> None:
    """The installed entry point: 0 valid, 1 invalid, 2 unreadable — and never a traceback."""
    broken = copy_spec(tmp_path)
    apply(broken, Edit(DICT, "unit: A", "unit: mA", after="name: pack_current_A"))
    runs = [
        _Run([], 0, [", valid"]),
        _Run([str(broken)], 1, ["dictionary.yaml:", "found 'mA'", "problem"]),
        _Run([str(tmp_path / "nowhere")], 2, [], ["cannot read"]),
    ]
    root = Path(__file__).resolve().parents[2]
    for run in runs:
        proc = subprocess.run(
            [sys.executable, "-m", "conformance", "spec", "validate", *run.args],
            capture_output=True, text=True, cwd=root, timeout=60,
        )
        assert proc.returncode == run.code, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stdout + proc.stderr
        for text in run.stdout_has:
            assert text in proc.stdout
        for text in run.stderr_has:
            assert text in proc.stderr
