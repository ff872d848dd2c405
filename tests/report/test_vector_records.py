"""The report's test vectors: each vector judged named with its origin and SHA-256, the
numbers measured on it per requirement (report.json ``vectors``, the "Vectors" section of
report.html with a link to each evidence plot, ``obsa report summary``), and the sensor errors
each replay drew (:mod:`conformance.report.replays`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from conformance.paths import vectors_dir
from conformance.report import Channel, Evidence, ModuleInfo, Report, TestResult, render_html
from conformance.report.json_report import render_json
from conformance.report.model import CriterionResult
from conformance.report.replays import (
    on_vector,
    record_sensor_errors,
    sensor_errors,
    vector_record,
)
from conformance.tools.reports import summary
from conformance.vectors import load_vector
from conformance.vectors.discovery import extra_vectors

from ..vectors.vendor import vendor_dir
from .test_html_page import Page

DRAWN = dict(current_gain_error=0.0031, current_offset_A=-0.012, current_noise_A=0.006,
             cell_voltage_noise_V=0.0016, cell_temperature_noise_K=0.8,
             pack_voltage_noise_V=0.4)


class _Harness:
    """What the recording needs of a harness: its results (and a weak reference)."""

    def __init__(self, results: list[TestResult]) -> None:
        self.results = results


def _result(case: str, rid: str, measured: float, limit: float, suite: str = "pytest"
            ) -> TestResult:
    c = CriterionResult(name="cell_soc_rmse", comparison="<=", limit=limit, limit_source="spec",
                        unit="1", measured=measured, passed=measured <= limit)
    return TestResult(test_case=f"{suite}:{case}", suite=suite,  # type: ignore[arg-type]
                      case=case, requirement=rid, verdict="pass" if c.passed else "fail",
                      criteria=[c], evidence=Evidence(
                          message="m", t_s=[0.0, 1.0],
                          channels=[Channel(name="cell_soc_min", unit="1", values=[0.5, 0.6])]))


def _report(vectors: dict[str, object], results: list[TestResult]) -> Report:
    return Report(spec_version="0.3.0", module=ModuleInfo(vendor="ACME", name="SoC", version="1"),
                  manifest="m.yaml", profiles=["state_estimation"], features=[],
                  started="2026-11-30T00:00:00+00:00", duration_s=1.0, outcome="not-certified",
                  summary={}, vectors=vectors, results=results)  # type: ignore[arg-type]


def test_a_replay_marks_its_results_with_the_vector_and_the_sensor_errors_drawn() -> None:
    h = _Harness([_result("k", "OBSA-SOC-002", 0.01, 0.03)])
    assert sensor_errors(h, "nmc-wltc-25c") is None
    drawn = record_sensor_errors(h, "nmc-wltc-25c", **DRAWN)
    assert sensor_errors(h, "nmc-wltc-25c") == drawn
    on_vector(h, "nmc-wltc-25c")
    assert h.results[0].evidence.vector == "nmc-wltc-25c"
    assert h.results[0].evidence.sensor_errors == drawn
    on_vector(h, "other")  # marked once: a result is judged on one vector
    assert h.results[0].evidence.vector == "nmc-wltc-25c"


def test_sensor_errors_must_be_complete_and_named_as_the_model_names_them() -> None:
    h = _Harness([])
    with pytest.raises(ValidationError, match="pack_voltage_noise_V"):
        record_sensor_errors(h, "v", **{k: v for k, v in DRAWN.items()
                                        if k != "pack_voltage_noise_V"})
    with pytest.raises(ValidationError, match="gain"):
        record_sensor_errors(h, "v", gain=1.003, **DRAWN)
    with pytest.raises(ValidationError, match="current_noise_A"):
        record_sensor_errors(h, "v", **{**DRAWN, "current_noise_A": -0.1})


def test_a_vector_is_recorded_with_its_origin(tmp_path: Path) -> None:
    shipped = load_vector(vectors_dir() / "nmc-wltc-25c.json").info
    rec = vector_record("nmc-wltc-25c", shipped.sha256)
    assert (rec.source, rec.path, rec.profile, rec.drive_cycle) == (
        "shipped", "vectors/nmc-wltc-25c.json", "wltc3b", True)
    assert rec.characterization == shipped.characterization
    assert rec.characterization_sha256 is not None and len(rec.characterization_sha256) == 64
    # other arrays than the ones this process knows under that id: not claimed as shipped
    assert vector_record("nmc-wltc-25c", "0" * 64).source == "unknown"
    assert vector_record("no-such-vector", shipped.sha256).source == "unknown"
    path = vendor_dir(tmp_path)
    vendor = load_vector(path).info
    with extra_vectors([tmp_path]):
        rec = vector_record(vendor.id, vendor.sha256)
    assert (rec.source, rec.path, rec.profile) == ("vendor", str(path.resolve()), "drive-city")


def test_the_report_tabulates_every_vector_with_its_numbers(tmp_path: Path) -> None:
    path = vendor_dir(tmp_path)
    vendor = load_vector(path).info
    shipped = load_vector(vectors_dir() / "nmc-wltc-25c.json").info
    key = "test_soc_estimator::test_soc_on_a_drive_cycle"
    h = _Harness([_result(f"{key}[acme-drive-25c]", "OBSA-SOC-002", 0.0107,
                                         0.03)])
    record_sensor_errors(h, vendor.id, **DRAWN)
    on_vector(h, vendor.id)
    g = _Harness([_result(f"{key}[nmc-wltc-25c]", "OBSA-SOC-002", 0.041, 0.03,
                                         "gherkin")])
    on_vector(g, shipped.id)  # no sensor errors recorded
    other = _result("test_x::test_y", "OBSA-SAFE-001", 0.1, 1.0)
    with extra_vectors([tmp_path]):  # a run records a bare SHA-256 per vector replayed
        report = _report({vendor.id: vendor.sha256, shipped.id: shipped.sha256},
                         [*h.results, *g.results, other])
    records = report.vector_records
    assert [(j.requirement, j.suite, j.verdict) for j in records[vendor.id].judged] == [
        ("OBSA-SOC-002", "pytest", "pass")]
    assert records[vendor.id].judged[0].criteria[0].measured == 0.0107
    assert records[vendor.id].judged[0].sensor_errors is not None
    assert records[shipped.id].judged[0].verdict == "fail"
    assert records[shipped.id].judged[0].sensor_errors is None

    # report.json carries it whole, and reads back as it was (no discovery needed then)
    again = Report.model_validate_json(render_json(report))
    assert again.vector_records == records
    assert again.results[0].evidence.sensor_errors == records[vendor.id].judged[0].sensor_errors

    page = render_html(report)
    assert Page(page).problems == []  # well formed, every id once
    section = page[page.index('<h2 id="vectors">Vectors</h2>'):page.index("<h2>Requirements")]
    assert f"{vendor.id} <span class=\"muted\">— vendor, profile drive-city (a drive " \
           "cycle)" in section
    assert str(path.resolve()) in section and vendor.sha256 in section
    assert "current gain +0.31 %, offset -0.012 A, noise ±0.006 A; cell voltage ±1.6 mV; " \
           "temperature ±0.8 K; pack voltage ±0.4 V" in section
    assert section.count("not recorded") == 1  # the shipped vector's replay
    assert '<a href="#evidence-0">plot</a>' in section  # the vendor vector's test case
    assert '<a href="#evidence-1">plot</a>' in section
    assert 'id="evidence-0"' in page and 'id="evidence-1"' in page
    assert "OBSA-SAFE-001" not in section

    out = tmp_path / "report.json"
    out.write_text(render_json(report), encoding="utf-8")
    lines = summary(out)
    start = lines.index("vectors  2 judged (id, origin, SHA-256 of the arrays, file)")
    assert lines[start + 1] == (f"  {vendor.id}  vendor, profile drive-city  {vendor.sha256}  "
                                f"{path.resolve()}")
    assert lines[start + 2] == f"    {key}[acme-drive-25c]"
    assert lines[start + 3].startswith("      sensor errors drawn: current gain +0.31 %")
    assert lines[start + 4].strip() == "temperature ±0.8 K; pack voltage ±0.4 V"
    assert lines[start + 5] == ("      OBSA-SOC-002  pass          cell_soc_rmse 0.0107 <= "
                                "0.03")
    assert lines[start + 6] == (f"  {shipped.id}  shipped, profile wltc3b  {shipped.sha256}  "
                                "vectors/nmc-wltc-25c.json")
    assert lines[start + 7] == f"    {key}[nmc-wltc-25c]"  # one suite in this report
    assert lines[start + 8] == "      OBSA-SOC-002  fail          cell_soc_rmse 0.041 <= 0.03"


def test_a_report_of_bare_hashes_still_reads() -> None:
    shipped = load_vector(vectors_dir() / "nmc-wltc-25c.json").info
    report = Report.model_validate_json(
        _report({}, []).model_dump_json().replace(
            '"vectors":{}', f'"vectors":{{"nmc-wltc-25c":"{shipped.sha256}"}}'))
    assert report.vector_records["nmc-wltc-25c"].source == "shipped"
    assert report.vector_records["nmc-wltc-25c"].judged == []
    assert "No result names this vector." in render_html(report)
