"""report.json, junit.xml and report.html from one sample report."""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET

import jsonschema
import numpy as np
import pytest

from conformance.paths import schemas_dir
from conformance.report import (
    Channel,
    CriterionResult,
    Evidence,
    ModuleInfo,
    Report,
    TestResult,
    read_json,
    render_html,
    render_junit,
    write_all,
)
from conformance.report.plots import MAX_POINTS, envelope, trace_png

SCHEMA_FILE = "report.schema.json"

HOSTILE = "<script>alert('x')</script> & \x01"


def _trace(n: int = 300) -> Evidence:
    t = np.arange(n) * 0.01
    fault = (t >= 1.7).astype(float)
    return Evidence(
        message="fault latched 0.20 s after the first sample above the MSL",
        t_s=t.tolist(),
        channels=[
            Channel(name="cell_voltage_max_V", unit="V", values=(4.2 + 0.1 * (t > 1.5)).tolist()),
            Channel(name="cell_voltage_min_V", unit="V", values=[4.1] * (n - 1) + [None]),
            Channel(name="pack_voltage_V", unit="V", values=(390 + 0 * t).tolist()),
            Channel(name="safety_fault_flags", unit="1", values=fault.tolist()),
            Channel(name="contactor_state", unit="1", values=(2 - 2 * fault).tolist()),
        ],
        events={"violation": 1.5, "fault": 1.7},
    )


def _criterion(name, measured, comparison, limit, unit, passed, source="spec"):
    return CriterionResult(name=name, comparison=comparison, limit=limit, limit_source=source,
                           unit=unit, measured=measured, passed=passed)


def sample_report(outcome: str = "not-certified") -> Report:
    results = [
        TestResult(test_case="test_safety.py::test_cell_overvoltage", requirement="OBSA-SAFE-001",
                   title="Cell over-voltage fault", level="mandatory", verdict="pass",
                   criteria=[_criterion("reaction_time_s", 0.19, "<=", 0.2, "s", True,
                                        "manifest:safety_supervisor.cell_voltage_max_fault_delay_s"),
                             _criterion("trip_threshold_error_V", 0.001, "<=", 0.005, "V", True)],
                   evidence=_trace(), duration_s=0.4, simulated_s=3.0),
        TestResult(test_case="test_contactors.py::test_precharge", requirement="OBSA-CONT-002",
                   title="Precharge " + HOSTILE, level="mandatory", verdict="fail",
                   criteria=[_criterion("precharge_time_s", 2.5, "<=", 2.0, "s", False)],
                   evidence=Evidence(message="took too long " + HOSTILE)),
        TestResult(test_case="test_diag.py::test_dtc", requirement="OBSA-DIAG-001",
                   verdict="error", evidence=Evidence(message="safety_supervisor.step: boom")),
        TestResult(test_case="test_safety.py::test_insulation", requirement="OBSA-SAFE-011",
                   verdict="not-applicable", level="conditional",
                   evidence=Evidence(message="feature insulation_monitoring not claimed")),
        TestResult(test_case="test_safety.py::test_plausibility", requirement="OBSA-SAFE-020",
                   verdict="inconclusive",
                   criteria=[_criterion("x_V", float("nan"), "<=", 1.0, "V", False)]),
    ]
    summary = {v: sum(r.verdict == v for r in results)
               for v in ("pass", "fail", "error", "inconclusive", "not-applicable")}
    return Report(spec_version="0.1.0",
                  module=ModuleInfo(vendor="ACME", name="BMS " + HOSTILE, version="1.2.3"),
                  manifest="acme.yaml", profiles=["bmu_safety_core"], features=["weld_detection"],
                  started="2026-01-01T00:00:00+00:00", duration_s=12.5, outcome=outcome,
                  summary=summary, results=results,
                  manifest_issues=["acme.yaml:3: spec_version: bad"] if outcome == "refused"
                  else [], environment={"python": "3.11"})


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    return write_all(sample_report(), out)


def test_write_all_writes_three_files(written):
    assert [p.name for p in written] == ["report.json", "junit.xml", "report.html"]
    assert all(p.stat().st_size > 0 for p in written)


# ---------------------------------------------------------------------------- json
def test_json_validates_against_the_schema(written):
    schema = json.loads((schemas_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))
    data = json.loads(written[0].read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    inconclusive = data["results"][4]["criteria"][0]
    assert inconclusive["measured"] is None  # NaN is not JSON: null
    assert data["results"][0]["evidence"]["channels"][1]["values"][-1] is None


def test_json_round_trips(written):
    again = read_json(written[0])
    assert again.results[0].criteria[0].measured == 0.19
    assert again.module.name == sample_report().module.name


def test_schema_rejects_a_broken_report():
    schema = json.loads((schemas_dir() / SCHEMA_FILE).read_text(encoding="utf-8"))
    data = json.loads(sample_report().model_dump_json())
    data["results"][0]["verdict"] = "maybe"
    assert not jsonschema.Draft202012Validator(schema).is_valid(data)


# ---------------------------------------------------------------------------- junit
def test_junit_parses_and_carries_the_verdicts(written):
    root = ET.parse(written[1]).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "5", "1", "1", "2")
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 5
    first = cases[0]
    assert first.get("classname") == "OBSA.SAFE"
    assert "OBSA-SAFE-001" in first.get("name") and "test_cell_overvoltage" in first.get("name")
    props = {p.get("name"): p.get("value") for p in first.findall("./properties/property")}
    assert props["requirement"] == "OBSA-SAFE-001" and props["verdict"] == "pass"
    assert props["criterion.reaction_time_s.measured"] == "0.19"
    assert props["criterion.reaction_time_s.limit"] == "0.2"
    assert props["criterion.reaction_time_s.unit"] == "s"
    assert props["criterion.reaction_time_s.limit_source"].startswith("manifest:")
    assert cases[1].find("failure") is not None
    assert "precharge_time_s" in cases[1].find("failure").get("message")
    assert cases[2].find("error") is not None
    assert cases[3].find("skipped").get("message").startswith("not-applicable")
    assert cases[4].find("skipped").get("message").startswith("inconclusive")
    assert first.find("failure") is None and first.find("skipped") is None


def test_junit_for_a_refused_module_is_red():
    root = ET.fromstring(render_junit(sample_report("refused")).split("\n", 1)[1])
    manifest_case = root.find("./testsuite/testcase[@classname='OBSA.MANIFEST']")
    assert manifest_case is not None
    assert "spec_version: bad" in manifest_case.find("failure").text


# ---------------------------------------------------------------------------- html
def test_html_has_the_table_and_one_plot(written):
    html = written[2].read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert "<table" in html and "OBSA-SAFE-001" in html and "OBSA-CONT-002" in html
    assert len(re.findall(r'<figure id="evidence-\d+"', html)) == 1
    assert 'href="#evidence-0"' in html and 'id="evidence-0"' in html
    assert "0.19 s" in html and "&lt;= 0.2 s" in html  # measured vs limit with unit
    assert "<img" not in html  # the browser draws the plots


def test_html_escapes_module_text(written):
    html = written[2].read_text(encoding="utf-8")
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html


def test_html_is_self_contained(written):
    html = written[2].read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(?!data:|#)', html)
    assert "<link" not in html and "@import" not in html


def test_html_lists_manifest_issues_of_a_refused_module():
    html = render_html(sample_report("refused"), plots=False)
    assert "Manifest issues" in html and "spec_version: bad" in html


# ---------------------------------------------------------------------------- plots
def test_plot_is_a_png(capsys):
    evidence = _trace(3000)
    trace_png(_trace(50))  # first use imports matplotlib
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        png = trace_png(evidence, "OBSA-SAFE-001")
        best = min(best, time.perf_counter() - start)
    assert png is not None and png.startswith(b"\x89PNG")
    with capsys.disabled():
        print(f"\n  evidence plot, 5 channels x 3000 samples: {best * 1000:.0f} ms")


def test_no_plot_without_channels():
    assert trace_png(Evidence(message="nothing recorded")) is None


def test_envelope_keeps_spikes_and_bounds_points():
    t = np.arange(100_000) * 0.001
    v = np.zeros_like(t)
    v[54_321] = 5.0
    v[77_777] = -3.0
    v[1000:1010] = np.nan
    tt, vv = envelope(t, v)
    assert len(tt) <= MAX_POINTS
    assert np.nanmax(vv) == 5.0 and np.nanmin(vv) == -3.0
    assert np.all(np.diff(tt) > 0)


def test_flat_trace_is_still_plotted():
    flat = Evidence(t_s=[0.0, 0.1, 0.2],
                    channels=[Channel(name="pack_current_A", unit="A", values=[1.0, 1.0, 1.0])])
    assert trace_png(flat) is not None
