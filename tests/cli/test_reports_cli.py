"""obsa report summary / diff, on small reports made from the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.report.json_report import write_json
from conformance.report.model import CriterionResult, ModuleInfo, Report, TestResult

from .helpers import assert_one_line_error, run


def _result(rid: str, verdict: str, measured: float | None = 0.1,
            case: str = "test_x::test_y") -> TestResult:
    passed = verdict == "pass"
    return TestResult(
        test_case=case, case=case, requirement=rid, title=f"title of {rid}",
        level="mandatory", verdict=verdict,  # type: ignore[arg-type]
        criteria=[CriterionResult(name="reaction_time_s", comparison="<=", limit=0.2,
                                  limit_source="manifest:safety_supervisor.x", unit="s",
                                  measured=measured, passed=passed)])


def _report(*results: TestResult, outcome: str = "certified") -> Report:
    summary = {v: 0 for v in ("pass", "fail", "inconclusive", "not-applicable", "error")}
    for r in results:
        summary[r.verdict] += 1
    return Report(spec_version="0.3.0", module=ModuleInfo(vendor="ACME", name="BMS",
                                                          version="1.0"),
                  manifest="m.yaml", profiles=["bmu_safety_core"], features=[],
                  started="2026-11-30T00:00:00+00:00", duration_s=1.0,
                  outcome=outcome, summary=summary,  # type: ignore[arg-type]
                  results=list(results))


def _write(tmp_path: Path, name: str, report: Report) -> Path:
    directory = tmp_path / name
    directory.mkdir()
    write_json(report, directory / "report.json")
    return directory


def test_summary(capsys, tmp_path: Path) -> None:
    rep = _report(_result("OBSA-SAFE-001", "pass"), _result("OBSA-SAFE-002", "fail", 0.5),
                  outcome="not-certified")
    directory = _write(tmp_path, "r", rep)
    code, out, err = run(capsys, "report", "summary", str(directory))
    assert code == 0, err
    assert "module   ACME BMS 1.0" in out
    rows = {ln.split()[0]: ln for ln in out.splitlines() if ln.startswith("OBSA-")}
    assert rows["OBSA-SAFE-001"].split()[1] == "pass"
    assert rows["OBSA-SAFE-002"].split()[1] == "fail"
    assert "reaction_time_s: measured 0.5 s <= limit 0.2 s → fail" in out
    assert "outcome  NOT-CERTIFIED" in out
    assert "results  1 pass, 1 fail, 0 error, 0 inconclusive, 0 not-applicable" in out
    # the report.json file itself works too
    assert run(capsys, "report", "summary", str(directory / "report.json"))[0] == 0


def test_summary_of_a_real_run(capsys, tmp_path: Path) -> None:
    from conformance.cli import main

    out_dir = tmp_path / "run"
    assert main(["certify", "reference", "--out", str(out_dir), "--no-html", "--no-progress",
                 "-k", "msl_fault and overvoltage", "--in-process"]) in (0, 1)
    capsys.readouterr()
    code, out, _ = run(capsys, "report", "summary", str(out_dir))
    assert code == 0
    rows = {ln.split()[0]: ln.split() for ln in out.splitlines() if ln.startswith("OBSA-")}
    assert rows["OBSA-SAFE-001"][1] == "pass"
    assert "IN PROCESS" in out
    # one line per claimed profile under the outcome, at most six blocking ids named
    profiles = [ln for ln in out.splitlines() if ln.startswith("  profile ")]
    assert [ln.split()[1] for ln in profiles] == [
        "bmu_safety_core:", "cell_monitoring_unit:", "state_estimation:", "full_bms:"]
    assert all("NOT-CERTIFIED" in ln and " more)" in ln for ln in profiles if "full_bms" in ln)


def test_diff(capsys, tmp_path: Path) -> None:
    old = _write(tmp_path, "old", _report(
        _result("OBSA-SAFE-001", "pass", 0.1), _result("OBSA-SAFE-002", "pass", 0.1),
        _result("OBSA-SAFE-003", "pass", 0.1)))
    same = _write(tmp_path, "same", _report(
        _result("OBSA-SAFE-001", "pass", 0.1 * (1 + 1e-9)), _result("OBSA-SAFE-002", "pass"),
        _result("OBSA-SAFE-003", "pass", 0.1)))
    code, out, _ = run(capsys, "report", "diff", str(old), str(same))
    assert code == 0
    assert "verdicts changed (0)" in out and "relative (0)" in out
    new = _write(tmp_path, "new", _report(
        _result("OBSA-SAFE-001", "pass", 0.15), _result("OBSA-SAFE-002", "fail", 0.3),
        _result("OBSA-SAFE-004", "pass"), outcome="not-certified"))
    code, out, _ = run(capsys, "report", "diff", str(old), str(new / "report.json"))
    assert code == 1
    assert "outcome certified -> not-certified" in out
    assert "OBSA-SAFE-002   pass -> fail" in out
    assert "requirements only in new (1):\n  OBSA-SAFE-004   pass" in out
    assert "requirements only in old (1):\n  OBSA-SAFE-003   pass" in out
    assert "OBSA-SAFE-001  test_x::test_y  reaction_time_s: 0.1 s -> 0.15 s" in out
    assert "OBSA-SAFE-002  test_x::test_y  reaction_time_s: 0.1 s -> 0.3 s" in out
    # a value that could not be measured any more is a change too
    gone = _write(tmp_path, "gone", _report(
        _result("OBSA-SAFE-001", "pass", None), _result("OBSA-SAFE-002", "pass"),
        _result("OBSA-SAFE-003", "pass")))
    code, out, _ = run(capsys, "report", "diff", str(old), str(gone))
    assert code == 0
    assert "reaction_time_s: 0.1 s -> not measured" in out


@pytest.mark.parametrize("what, fragment", [
    ("missing", "no such file or directory"),
    ("empty dir", "no report.json in this directory"),
    ("not json", "not an OBSA report"),
    ("other json", "not an OBSA report"),
])
def test_bad_report(capsys, tmp_path: Path, what: str, fragment: str) -> None:
    target = tmp_path / "r"
    if what == "empty dir":
        target.mkdir()
    elif what == "not json":
        target.mkdir()
        (target / "report.json").write_text("{not json", encoding="utf-8")
    elif what == "other json":
        target.mkdir()
        (target / "report.json").write_text('{"a": 1}', encoding="utf-8")
    code, out, err = run(capsys, "report", "summary", str(target))
    assert_one_line_error(code, err, fragment)
    assert out == ""
    good = _write(tmp_path, "good", _report(_result("OBSA-SAFE-001", "pass")))
    for argv in ([str(good), str(target)], [str(target), str(good)]):
        code, out, err = run(capsys, "report", "diff", *argv)
        assert_one_line_error(code, err, fragment)
