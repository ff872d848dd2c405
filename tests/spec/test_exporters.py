"""The exporters render correct, strict and deterministic artefacts from the spec."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest

from conformance.spec import check_spec, load_spec
from conformance.spec.exporters import (
    CHECKED_IN,
    EXPORTERS,
    drift,
    export_all,
    needs,
    pytyping,
    records,
    regenerate,
    run_export,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spec():
    return load_spec()


@pytest.fixture(scope="module")
def schemas(spec) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c, r): s for c, itf in spec.interfaces.items()
            for r, s in records.record_schemas(spec, itf).items()}


# ---------------------------------------------------------------------------- samples
def sample_value(schema: dict[str, Any]) -> Any:
    """A value the schema accepts, built from its default, enum or range."""
    if schema["type"] == "array":
        return [sample_value(schema["items"]) for _ in range(schema.get("minItems", 3))]
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][-1]
    if schema["type"] == "boolean":
        return True
    lo, hi = schema.get("minimum"), schema.get("maximum")
    if lo is not None and hi is not None:
        mid = (lo + hi) / 2
        return int(mid) if schema["type"] == "integer" else mid
    value = lo if lo is not None else hi if hi is not None else 0
    return int(value) if schema["type"] == "integer" else float(value)


def sample_record(schema: dict[str, Any]) -> dict[str, Any]:
    return {name: sample_value(prop) for name, prop in schema["properties"].items()}


def errors(schema: dict[str, Any], record: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(schema)
    return [e.message for e in validator.iter_errors(record)]


def _props(schemas, predicate) -> list[tuple[tuple[str, str], str]]:
    found = [(key, name) for key, s in schemas.items()
             for name, prop in s["properties"].items() if predicate(prop)]
    assert found, "the spec has no property of this kind to test with"
    return found


# ---------------------------------------------------------------------------- record schemas
def test_every_record_schema_is_a_valid_2020_12_schema(schemas):
    for schema in schemas.values():
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["additionalProperties"] is False


def test_a_sample_record_built_from_defaults_and_ranges_is_accepted(schemas):
    for key, schema in schemas.items():
        assert errors(schema, sample_record(schema)) == [], key


def test_every_port_is_required_and_no_parameter_is(spec, schemas):
    for c, itf in spec.interfaces.items():
        assert schemas[(c, "inputs")]["required"] == [p.signal for p in itf.inputs]
        assert schemas[(c, "outputs")]["required"] == [p.signal for p in itf.outputs]
        assert schemas[(c, "parameters")]["required"] == []
        assert errors(schemas[(c, "parameters")], {}) == []


def test_a_wrong_type_is_rejected(schemas):
    for key, name in _props(schemas, lambda p: p["type"] in ("number", "integer", "boolean")):
        record = sample_record(schemas[key])
        record[name] = "not a value"
        assert errors(schemas[key], record), (key, name)


def test_a_boolean_is_not_a_number_and_a_fraction_not_an_integer(schemas):
    for key, name in _props(schemas, lambda p: p["type"] == "number"):
        record = sample_record(schemas[key])
        record[name] = True
        assert errors(schemas[key], record), (key, name)
    for key, name in _props(schemas, lambda p: p["type"] == "integer"):
        record = sample_record(schemas[key])
        record[name] = 0.5
        assert errors(schemas[key], record), (key, name)


def test_a_value_out_of_range_is_rejected(schemas):
    for key, name in _props(schemas, lambda p: "maximum" in p):
        record = sample_record(schemas[key])
        record[name] = schemas[key]["properties"][name]["maximum"] + 1
        assert errors(schemas[key], record), (key, name)
    for key, name in _props(schemas, lambda p: "minimum" in p):
        record = sample_record(schemas[key])
        record[name] = schemas[key]["properties"][name]["minimum"] - 1
        assert errors(schemas[key], record), (key, name)


def test_an_enum_value_outside_the_enum_is_rejected(schemas):
    for key, name in _props(schemas, lambda p: "enum" in p):
        record = sample_record(schemas[key])
        record[name] = max(schemas[key]["properties"][name]["enum"]) + 1
        assert errors(schemas[key], record), (key, name)


def test_flags_take_32_bits(schemas):
    for key, name in _props(schemas, lambda p: "x-obsa-flags" in p):
        record = sample_record(schemas[key])
        record[name] = 2**32 - 1
        assert errors(schemas[key], record) == [], (key, name)
        record[name] = 2**32
        assert errors(schemas[key], record), (key, name)


def test_a_missing_port_is_rejected(schemas):
    for key, schema in schemas.items():
        if key[1] == "parameters" or not schema["required"]:
            continue
        for name in schema["required"]:
            record = sample_record(schema)
            del record[name]
            assert errors(schema, record), (key, name)


def test_an_extra_field_is_rejected(schemas):
    for key, schema in schemas.items():
        record = sample_record(schema)
        record["not_in_the_spec"] = 1
        assert errors(schema, record), key


def test_a_wrong_array_item_type_is_rejected(schemas):
    for key, name in _props(schemas, lambda p: p["type"] == "array"):
        record = sample_record(schemas[key])
        record[name] = ["x"] * len(record[name])
        assert errors(schemas[key], record), (key, name)
        record[name] = sample_value(schemas[key]["properties"][name]["items"])
        assert errors(schemas[key], record), f"{key} {name}: a scalar instead of an array"


def test_the_dtc_dimension_has_one_entry_per_fault_code(spec, schemas):
    n_faults = sum(len(itf.fault_codes) for itf in spec.interfaces.values())
    found = _props(schemas, lambda p: p.get("x-obsa-dimension") == records.DTC_DIMENSION)
    for key, name in found:
        prop = schemas[key]["properties"][name]
        assert prop["minItems"] == prop["maxItems"] == n_faults
        record = sample_record(schemas[key])
        record[name] = record[name][:-1]
        assert errors(schemas[key], record), (key, name)


def test_enum_and_flags_schemas_carry_the_spec_names(spec, schemas):
    for key, name in _props(schemas, lambda p: "x-obsa-flags" in p):
        component = spec.signals[name].flags_of
        bits = {str(f.bit): f.name for f in spec.interfaces[component].fault_codes}
        assert schemas[key]["properties"][name]["x-obsa-flags"] == bits
    for key, name in _props(schemas, lambda p: "x-obsa-enum" in p.get("items", p)):
        prop = schemas[key]["properties"][name]
        prop = prop.get("items", prop)
        enum = spec.enums[prop["x-obsa-enum"]["id"]]
        assert prop["enum"] == [v.value for v in enum.values]


def test_every_parameter_default_is_valid(spec, schemas):
    for c in spec.interfaces:
        schema = schemas[(c, "parameters")]
        defaults = {n: p["default"] for n, p in schema["properties"].items() if "default" in p}
        assert errors(schema, defaults) == [], c


def test_index_lists_every_component(spec):
    index = json.loads(records.render(spec)["index.json"])
    assert index["spec_version"] == spec.version
    assert set(index["components"]) == set(spec.interfaces)
    for c, entry in index["components"].items():
        assert entry["step_period_s"] == spec.interfaces[c].step_period_s
        assert entry["inputs"] == f"{c}.inputs.schema.json"


# ---------------------------------------------------------------------------- typing
@pytest.fixture(scope="module")
def typing_module(spec, tmp_path_factory) -> ModuleType:
    path = tmp_path_factory.mktemp("typing") / "obsa_interfaces_under_test.py"
    path.write_text(pytyping.render(spec)[pytyping.FILE], encoding="utf-8")
    mod_spec = importlib.util.spec_from_file_location("obsa_interfaces_under_test", path)
    assert mod_spec is not None and mod_spec.loader is not None
    module = importlib.util.module_from_spec(mod_spec)
    sys.modules[mod_spec.name] = module
    mod_spec.loader.exec_module(module)
    yield module
    del sys.modules[mod_spec.name]


def test_typing_enums_match_the_spec(spec, typing_module):
    assert typing_module.SPEC_VERSION == spec.version
    for e in spec.dictionary.enums:
        cls = getattr(typing_module, pytyping.camel(e.id))
        assert {m.name: m.value for m in cls} == {v.name.upper(): v.value for v in e.values}


def test_typing_fault_flags_and_dtc_table_match_the_spec(spec, typing_module):
    expected = []
    for c, itf in spec.interfaces.items():
        if not itf.fault_codes:
            assert not hasattr(typing_module, pytyping.camel(c) + "Fault")
            continue
        cls = typing_module.FAULTS[c]
        assert cls.__name__ == pytyping.camel(c) + "Fault"
        assert {m.name: m.value for m in cls} == {f.name.upper(): 1 << f.bit
                                                  for f in itf.fault_codes}
        expected += [(f.dtc, c, f.name, f.bit, f.severity) for f in itf.fault_codes]
    table = [tuple(row) for row in typing_module.DTC_TABLE]
    assert table == sorted(expected)
    assert [row.dtc for row in typing_module.DTC_TABLE] == sorted(r[0] for r in expected)


def test_typing_records_and_tables_match_the_spec(spec, typing_module):
    for c, itf in spec.interfaces.items():
        name = pytyping.camel(c)
        params = getattr(typing_module, f"{name}Parameters")
        assert params.__optional_keys__ == {p.name for p in itf.parameters}
        assert params.__required_keys__ == frozenset()
        assert getattr(typing_module, f"{name}Inputs").__required_keys__ == {
            p.signal for p in itf.inputs}
        assert getattr(typing_module, f"{name}Outputs").__required_keys__ == {
            p.signal for p in itf.outputs}
        assert typing_module.STEP_PERIOD_S[c] == itf.step_period_s
        assert set(typing_module.PARAMETER_DEFAULTS[c]) == {
            p.name for p in itf.parameters if p.default is not None}
    flags = {s.name: s.flags_of for s in spec.dictionary.signals if s.flags_of}
    assert typing_module.FLAGS_SIGNALS == flags


def test_typing_module_is_ruff_clean(spec, tmp_path):
    ruff = shutil.which("ruff") or shutil.which("ruff", path=str(Path(sys.executable).parent))
    if ruff is None:
        pytest.skip("ruff is not installed")
    path = tmp_path / "interfaces.py"
    path.write_text(pytyping.render(spec)[pytyping.FILE], encoding="utf-8")
    done = subprocess.run([ruff, "check", "--no-cache", "--config", str(REPO / "pyproject.toml"),
                           str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_docstring_and_literals_survive_awkward_text():
    lines = pytyping.docstring('a "quoted" \\ path with """ inside and a long tail ' * 4, "    ")
    text = "\n".join(["def f():", *lines])
    namespace: dict[str, Any] = {}
    exec(text, namespace)  # noqa: S102 - the generated text must be valid Python
    assert '"""' in namespace["f"].__doc__
    assert all(len(line) <= pytyping.WIDTH for line in lines)
    assert eval(pytyping.literal('say "hi" \\ now')) == 'say "hi" \\ now'


# ---------------------------------------------------------------------------- needs
def test_needs_json_has_one_need_per_requirement_and_interface(spec):
    doc = json.loads(needs.render(spec)[needs.FILE])
    version = doc["versions"][doc["current_version"]]
    found = version["needs"]
    assert version["needs_amount"] == len(found)
    reqs = {k: v for k, v in found.items() if v["type"] == "req"}
    assert set(reqs) == set(spec.requirements)
    assert {k for k, v in found.items() if v["type"] == "spec"} == {
        needs.interface_need_id(c) for c in spec.interfaces}
    for rid, need in reqs.items():
        req = spec.requirements[rid]
        assert need["id"] == rid and need["title"] == req.title
        assert need["level"] == req.level and need["component"] == req.component
        assert all(link in found for link in need["links"])
        assert len(need["acceptance"].splitlines()) == len(req.acceptance)
        assert set(need) - set(needs.EXTRA_OPTIONS) <= {"id", "type", "type_name", "title",
                                                   "description", "tags", "links"}


def test_a_parameter_limit_reads_as_declared():
    from conformance.spec.models import Criterion

    fixed = Criterion(name="error_V", comparison="<=", value=0.005, unit="V", description="d")
    declared = Criterion(name="t_s", comparison="<=", parameter="delay_s", unit="s",
                         description="d")
    assert needs.criterion_text(fixed) == "error_V <= 0.005 V: d"
    assert needs.criterion_text(declared) == "t_s <= declared delay_s (s): d"


# ---------------------------------------------------------------------------- all exporters
def test_rendering_is_deterministic_and_ends_with_a_newline(spec):
    again, issues = check_spec()  # a second, independent load of the same files
    assert again is not None and not issues
    for name, exporter in EXPORTERS.items():
        first = exporter.render(spec)
        assert first == exporter.render(again), name
        assert list(first) == sorted(first), name
        for file, text in first.items():
            assert text.endswith("\n") and not text.endswith("\n\n"), (name, file)


def test_export_all_writes_every_rendered_file(spec, tmp_path):
    written = export_all(spec, tmp_path)
    expected = {tmp_path / CHECKED_IN[n].directory / f
                for n, e in EXPORTERS.items() for f in e.render(spec)}
    assert set(written) == expected
    assert drift(spec, tmp_path) == []


def test_regenerate_removes_stale_files_and_fixes_drift(spec, tmp_path):
    export_all(spec, tmp_path)
    stale = tmp_path / CHECKED_IN["records"].directory / "retired.inputs.schema.json"
    stale.write_text("{}\n", encoding="utf-8")
    edited = tmp_path / CHECKED_IN["pytyping"].directory / pytyping.FILE
    edited.write_text("# edited by hand\n", encoding="utf-8")
    problems = drift(spec, tmp_path)
    assert len(problems) == 2 and any("stale" in p for p in problems)
    changed, removed = regenerate(spec, tmp_path)
    assert changed == [edited] and removed == [stale]
    assert drift(spec, tmp_path) == []


def test_run_export_exit_codes(tmp_path, capsys):
    assert run_export(None, tmp_path / "out") == 0
    assert (tmp_path / "out" / "reference_impl" / "interfaces.py").is_file()
    assert run_export(str(tmp_path / "no_such_spec"), tmp_path / "out2") == 2
    assert "no such file" in capsys.readouterr().err
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "standard.yaml").write_text("kind: standard\nname: OBSA\n", encoding="utf-8")
    assert run_export(str(broken), tmp_path / "out3") == 1
    err = capsys.readouterr().err
    assert "standard.yaml:1:" in err and "nothing written" in err
    assert not (tmp_path / "out3").exists()


def test_obsa_spec_export_command(tmp_path):
    done = subprocess.run([sys.executable, "-m", "conformance", "spec", "export",
                           "--out", str(tmp_path)], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "schemas" / "generated" / "index.json").is_file()
    assert (tmp_path / "docs" / "_generated" / "needs.json").is_file()
