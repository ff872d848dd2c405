"""The telemetry's wire format comes from the spec: the record schema holds the sequence
number, the time stamp and exactly the fields the interface's wire section lists, each with
its dictionary signal's range; a record the reference telemetry publishes is valid; a spec
whose wire section names no output, or a key twice, is refused naming the file and line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from conformance.paths import spec_dir
from conformance.spec import load_spec
from conformance.spec.exporters import telemetry_wire
from reference_impl.connectivity.telemetry import Telemetry

from ..spec.helpers import Edit, apply, copy_spec, line_of, printed_issues, validate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def spec() -> Any:
    return load_spec()


@pytest.fixture(scope="module")
def schema(spec: Any) -> dict[str, Any]:
    return telemetry_wire.record_schema(spec, spec.interfaces["telemetry"])


def _inputs(**over: Any) -> dict[str, Any]:
    return {"uplink_connected": True, "pack_soc": 0.5, "soh_capacity": 0.97,
            "pack_voltage_V": 350.0, "pack_current_A": -12.5,
            "cell_voltage_V": np.array([3.6, 3.7, 3.65]),
            "cell_temperature_degC": np.array([24.0, 26.5]), "safety_state": 1,
            "contactor_state": 2, "charge_current_limit_A": 50.0,
            "discharge_current_limit_A": 120.0} | over


def _record(spec: Any, out: dict[str, Any], seq: int = 0) -> dict[str, Any]:
    wire = spec.interfaces["telemetry"].wire
    return {wire.sequence.name: seq, wire.timestamp.name: 1.7e9,
            **{name: out[name] for name in wire.fields}}


def test_the_record_schema_lists_the_wire_fields(spec: Any, schema: dict[str, Any]) -> None:
    wire = spec.interfaces["telemetry"].wire
    assert schema["required"] == ["seq", "time_unix_s", *wire.fields]
    assert set(schema["properties"]) == set(schema["required"])
    soc = schema["properties"]["telemetry_pack_soc"]
    assert (soc["minimum"], soc["maximum"]) == (0.0, 1.0)
    assert schema["properties"]["telemetry_safety_state"]["enum"] == [0, 1, 2, 3, 4]


def test_a_record_of_the_reference_telemetry_is_valid(spec: Any,
                                                      schema: dict[str, Any]) -> None:
    tel = Telemetry()
    tel.configure({"publish_period_s": 1.0, "buffer_capacity_records": 10})
    out = tel.step(0.0, _inputs())
    assert out["telemetry_record_published"]
    record = _record(spec, out)
    jsonschema.validate(json.loads(json.dumps(record)), schema)
    assert record["telemetry_cell_voltage_min_V"] == 3.6
    assert record["telemetry_cell_temperature_max_degC"] == 26.5


@pytest.mark.parametrize(("change", "where"), [
    (lambda r: r.pop("seq"), "seq"),
    (lambda r: r.update(extra=1), "extra"),
    (lambda r: r.update(telemetry_pack_soc=1.5), "1.5"),
    (lambda r: r.update(telemetry_contactor_state=9), "9"),
], ids=["no_sequence", "unknown_key", "soc_out_of_range", "no_such_state"])
def test_a_bad_record_is_refused(spec: Any, schema: dict[str, Any], change: Any,
                                 where: str) -> None:
    tel = Telemetry()
    tel.configure({"publish_period_s": 1.0, "buffer_capacity_records": 10})
    record = _record(spec, tel.step(0.0, _inputs()))
    change(record)
    with pytest.raises(jsonschema.ValidationError) as err:
        jsonschema.validate(record, schema)
    assert where in str(err.value.message)


def test_the_reference_copy_holds_the_published_documents(spec: Any) -> None:
    copy = json.loads((ROOT / "reference_impl" / "connectivity"
                       / telemetry_wire.REFERENCE_FILE).read_text(encoding="utf-8"))
    published = ROOT / "schemas" / "telemetry"
    assert copy["telemetry"]["record_schema"] == json.loads(
        (published / "telemetry.record.schema.json").read_text(encoding="utf-8"))
    topics = json.loads((published / "telemetry.topics.json").read_text(encoding="utf-8"))
    assert copy["telemetry"]["topics"] == topics["topics"]
    assert topics["topics"]["telemetry"]["qos"] == 1


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("    - telemetry_pack_soc\n", "    - pack_soc\n", "expected an output of telemetry"),
    ("    - telemetry_soh_capacity\n", "    - telemetry_pack_soc\n",
     "found 'telemetry_pack_soc' again"),
    ("      qos: 1\n      retain: false", "      qos: 3\n      retain: false",
     "expected a value <= 2, found 3"),
], ids=["field_not_an_output", "field_twice", "qos_beyond_2"])
def test_a_bad_wire_section_is_refused_by_file(tmp_path: Path, old: str, new: str,
                                               expected: str) -> None:
    root = copy_spec(tmp_path)
    apply(root, Edit("interfaces/telemetry.yaml", old, new, after="wire:"))
    code, out, err = validate(root)
    assert code == 1 and "Traceback" not in out + err, out + err
    issues = [i for i in printed_issues(out) if i.file.endswith("interfaces/telemetry.yaml")]
    assert issues and any(expected in i.message or expected in i.field for i in issues), out
    assert all(i.line is None or i.line >= line_of(root, "interfaces/telemetry.yaml", "wire:")
               for i in issues), out
    assert spec_dir() != root
