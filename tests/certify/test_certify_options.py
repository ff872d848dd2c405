"""``obsa certify`` options a vendor uses while developing: ``--list`` (what would run, and
why the rest would not; nothing started), ``--fail-fast`` (stop at the first verdict that is
not a pass) and the progress lines (the time left and colour on a terminal only)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from conformance.manifest import safety_core_manifest_path
from conformance.report.model import Evidence, TestResult
from conformance.session import colour_wanted, progress_line

ROOT = Path(__file__).resolve().parents[2]


def _obsa(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=600)


def _manifest(tmp_path: Path, **edits: object) -> Path:
    data = yaml.safe_load(safety_core_manifest_path().read_text(encoding="utf-8"))
    data.update(edits)
    if "deep_discharge_lockout" not in data["features"]:  # its parameters go with it
        supervisor = data["configuration"]["safety_supervisor"]
        for name in ("deep_discharge_voltage_V", "deep_discharge_delay_s"):
            supervisor.pop(name, None)
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_list_names_what_runs_and_why_the_rest_does_not(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path, features=["insulation_monitoring"])
    proc = _obsa("certify", str(manifest), "--list")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "test_safety_supervisor::test_msl_fault[cell_overvoltage]" in out
    # weld detection and the deep-discharge lockout are not declared: their requirements
    # do not apply, with the condition that says why
    assert "requirements not applicable:" in out
    assert "OBSA-SAFE-017" in out.split("not applicable:")[1]
    assert "condition 'deep_discharge_lockout' is false" in out
    assert "profile bmu_basic_protection not claimed" in out
    assert not (tmp_path / "out").exists()


def test_list_with_a_selection_plans_what_it_selects() -> None:
    """``--list -k``: the requirements the selection judges, with the selected test cases
    only; the others counted as not selected, and out of scope by the profile they need."""
    proc = _obsa("certify", "reference", "--list", "-k", "test_start_threshold or stop_thr")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.startswith("2 requirements judged by 2 test cases")
    assert "test_balancing::test_start_threshold" in out and "test_rest" not in out
    assert "requirements not selected by -k 'test_start_threshold or stop_thr'" in out
    assert "× profile cmu_can, bms_can not claimed" in out and "× profile  not claimed" not in out
    bad = _obsa("certify", "reference", "--list", "-k", "start and (")
    assert bad.returncode == 2 and "expected words joined by" in bad.stderr


def test_a_selected_run_counts_its_own_test_cases(tmp_path: Path) -> None:
    """The progress lines count the selected results, and no progress letter of pytest's
    starts a line."""
    proc = _obsa("certify", "reference", "--out", str(tmp_path / "out"), "--no-html",
                 "--in-process", "-k", "test_start_threshold or test_stop_threshold")
    lines = [ln for ln in proc.stdout.splitlines() if "OBSA-BAL-00" in ln and "pass" in ln
             and not ln.startswith("OBSA:")]
    assert [ln[:10] for ln in lines] == ["[  1/  2] ", "[  2/  2] "], proc.stdout


def test_list_of_a_refused_manifest_says_why(tmp_path: Path) -> None:
    proc = _obsa("certify", str(_manifest(tmp_path, profiles=["no_such_profile"])), "--list")
    assert proc.returncode == 2
    assert "refused" in proc.stderr and "no_such_profile" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_certify_without_out_says_what_is_missing() -> None:
    proc = _obsa("certify", "reference")
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("obsa certify: --out DIR is required (where the report "
                                   "goes), unless --list")


def test_fail_fast_stops_at_the_first_failure(tmp_path: Path) -> None:
    """A contactor manager that leaves precharge closed fails in the first test file; the
    run stops there, and what did not run says so."""
    data = yaml.safe_load(safety_core_manifest_path().read_text(encoding="utf-8"))
    data["adapter"]["components"]["contactor_manager"] = (
        "tests.faulty.contactor_diag_faults:PrechargeLeftClosed")
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    proc = _obsa("certify", str(manifest), "--out", str(tmp_path / "out"), "--no-html",
                 "--in-process", "--fail-fast")
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    judged = [r for r in report["results"] if r["case"]]
    assert judged and judged[-1]["verdict"] in ("fail", "error", "inconclusive")
    assert sum(r["verdict"] != "pass" for r in judged) >= 1
    stopped = [r for r in report["results"] if "--fail-fast stopped the run"
               in r["evidence"]["message"]]
    assert len(stopped) >= 30  # most of the suite did not run
    assert report["outcome"] == "not-certified"


def _result(verdict: str) -> TestResult:
    return TestResult(test_case="t", requirement="OBSA-SAFE-001", title="Over-voltage",
                      verdict=verdict, evidence=Evidence(message="why"))  # type: ignore[arg-type]


def test_progress_lines_are_plain_unless_on_a_terminal(monkeypatch) -> None:
    plain = progress_line(3, 10, _result("fail"))
    assert plain.startswith("[  3/ 10] OBSA-SAFE-001   fail ") and "\x1b" not in plain
    rich = progress_line(3, 10, _result("fail"), eta_s=12.4, colour=True)
    assert rich.startswith("[  3/ 10 ~12 s left] OBSA-SAFE-001   \x1b[31mfail")

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert colour_wanted(Tty()) and not colour_wanted(object())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour_wanted(Tty())


def test_a_bad_selection_expression_is_refused_before_anything_runs(tmp_path: Path) -> None:
    proc = _obsa("certify", "reference", "--out", str(tmp_path / "out"), "--suite", "both",
                 "-k", "msl and (")
    assert proc.returncode == 2
    assert proc.stderr.startswith("obsa certify: the suite could not run as asked: "
                                  "-k 'msl and (': expected words joined by")
    assert len(proc.stderr.strip().splitlines()) == 1
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["outcome"] == "refused" and not report["results"]
