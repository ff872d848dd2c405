"""report.json compact: sample arrays on one line, at the resolution of the measurement,
still valid against its schema and read back by every reader."""

from __future__ import annotations

import json
import re

import jsonschema
import numpy as np
import pytest

from conformance.paths import schemas_dir
from conformance.report import Channel, Evidence, Report, TestResult, read_json, render_json
from conformance.report.samples import json_array, round_significant, round_times

from .test_report_writers import sample_report


def _long_report(n: int = 3000):
    """A run with the noise of a real bench: every double's 17 digits in use."""
    rng = np.random.default_rng(7)
    t = np.arange(n) * 0.01  # 0.35000000000000003 and friends
    ev = Evidence(message="long", t_s=t.tolist(), events={"fault": 12.0}, channels=[
        Channel(name="cell_voltage_max_V", unit="V", values=(3.7 + 1e-3 * rng.random(n)).tolist()),
        Channel(name="pack_voltage_V", unit="V", values=(360 + rng.random(n)).tolist()),
        Channel(name="insulation_resistance_ohm", unit="ohm",
                values=(5e6 + 1e4 * rng.random(n)).tolist()),
        Channel(name="safety_fault_flags", unit="1", values=(t >= 12.0).astype(float).tolist()),
        Channel(name="pack_current_A", unit="A",
                values=[None if k % 500 == 0 else float(x) for k, x in
                        enumerate(rng.normal(0, 20, n))]),
    ])
    results = [TestResult(test_case=f"t.py::test_{k}", requirement="OBSA-SAFE-001",
                          verdict="pass", evidence=ev) for k in range(3)]
    return sample_report().model_copy(update={"results": results})


def test_round_significant_keeps_six_digits_and_short_decimals():
    values = np.array([3.771509696835295, 5399077.1144110635, -0.024437271436743815, 0.0,
                       np.nan, np.inf, 1.0000004, 123456789.0, 2.5e-12])
    got = round_significant(values)
    assert [repr(float(v)) for v in got[:4]] == ["3.77151", "5399080.0", "-0.0244373", "0.0"]
    assert np.isnan(got[4]) and got[5] == np.inf
    assert got[6] == 1.0 and got[7] == 123457000.0 and got[8] == 2.5e-12
    assert round_times([0.35000000000000003, 1e-7]).tolist() == [0.35, 0.0]


def test_arrays_write_null_for_missing_and_whole_numbers_without_decimals():
    assert json_array(np.array([0.0, 1.0, 2.0])) == b"[0,1,2]"
    assert json_array(np.array([0.5, np.nan, -np.inf])) == b"[0.5,null,null]"
    assert json_array(np.array([1.0, np.nan])) == b"[1.0,null]"
    assert json_array(np.array([])) == b"[]"


def test_sample_arrays_are_one_line_each_and_rounded():
    text = render_json(_long_report())
    lines = text.splitlines()
    arrays = [line for line in lines if re.search(r'"(values|t_s)": \[', line)]
    assert len(arrays) == 3 * 6  # t_s and 5 channels per result, each on its line
    assert all(line.rstrip(",").endswith("]") for line in arrays)
    data = json.loads(text)
    ev = data["results"][0]["evidence"]
    assert ev["t_s"][35] == 0.35
    by_name = {c["name"]: c["values"] for c in ev["channels"]}
    assert set(by_name["safety_fault_flags"]) == {0, 1}
    assert '"values": [0,0,0' in text  # flags without decimals
    assert all(v is None or len(repr(v).replace("-", "").replace(".", "").lstrip("0")) <= 6
               for v in by_name["pack_current_A"])
    assert by_name["pack_current_A"][0] is None


def test_compact_report_is_a_fraction_of_the_full_precision_one():
    report = _long_report()
    full = report.model_dump_json(indent=2)
    compact = render_json(report)
    assert len(compact) < len(full) / 4, (len(compact), len(full))


def test_compact_report_is_schema_valid_and_reads_back():
    report = _long_report()
    text = render_json(report)
    schema = json.loads((schemas_dir() / "report.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(json.loads(text))
    back = Report.model_validate_json(text)
    ev, orig = back.results[0].evidence, report.results[0].evidence
    assert ev.t_s == pytest.approx(orig.t_s, abs=1e-6)
    for got, want in zip(ev.channels, orig.channels, strict=True):
        assert got.name == want.name and got.unit == want.unit
        assert [v is None for v in got.values] == [v is None for v in want.values]
        assert [v for v in got.values if v is not None] == pytest.approx(
            [v for v in want.values if v is not None], rel=1e-5)
    # rounding twice changes nothing: a report read back renders to the same text
    assert render_json(back) == text


def test_the_written_file_reads_back(tmp_path):
    path = tmp_path / "report.json"
    path.write_text(render_json(_long_report()), encoding="utf-8")
    assert len(read_json(path).results) == 3
