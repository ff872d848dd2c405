"""obsa requirements, obsa show, obsa --version."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conformance.report.model import Report
from conformance.spec.loader import load_spec
from conformance.suite.cases import all_cases

from .helpers import assert_one_line_error, run

SPEC = load_spec()


def test_table_of_a_profile(capsys) -> None:
    code, out, err = run(capsys, "requirements", "--profile", "bmu_basic_protection")
    assert code == 0, err
    rows = [ln for ln in out.splitlines() if ln.startswith("OBSA-")]
    expected = [r.id for r in SPEC.requirements_of_profile("bmu_basic_protection")]
    assert [r.split()[0] for r in rows] == expected
    counts = {rid: sum(rid in c.requirements for c in all_cases().values())
              for rid in expected}
    for row in rows:
        rid = row.split()[0]
        assert row.split()[-1] == str(counts[rid])
        assert SPEC.requirements[rid].level in row
    assert out.splitlines()[0].split() == ["ID", "title", "level", "verification", "cases"]
    assert f"{len(expected)} requirements" in out


def test_table_filters(capsys) -> None:
    code, out, _ = run(capsys, "requirements", "--area", "safe", "--component",
                       "safety_supervisor")
    assert code == 0
    ids = [ln.split()[0] for ln in out.splitlines() if ln.startswith("OBSA-")]
    assert ids and all(i.startswith("OBSA-SAFE-") for i in ids)
    code, out, _ = run(capsys, "requirements")
    assert len([ln for ln in out.splitlines() if ln.startswith("OBSA-")]) == \
        len(SPEC.requirements)


@pytest.mark.parametrize("argv, fragment", [
    (["--profile", "nope"], "unknown profile 'nope'"),
    (["--area", "XYZ"], "unknown area 'XYZ'"),
    (["--component", "toaster"], "unknown component 'toaster'"),
])
def test_table_bad_input(capsys, argv: list[str], fragment: str) -> None:
    code, out, err = run(capsys, "requirements", *argv)
    assert_one_line_error(code, err, fragment)
    assert out == ""


def test_show(capsys) -> None:
    code, out, err = run(capsys, "show", "OBSA-SAFE-001")
    assert code == 0, err
    req = SPEC.requirements["OBSA-SAFE-001"]
    assert out.startswith(f"OBSA-SAFE-001  {req.title}")
    for heading in ("Statement:", "Acceptance criteria", "Rationale", "Test cases",
                    "Scenarios"):
        assert heading in out
    assert "trip_threshold_error_V <= 0.005 V (fixed by the spec)" in out
    assert "safety_supervisor.cell_voltage_max_fault_delay_s (declared in the manifest; " \
           "spec default 0.2 s)" in out
    assert "foxBMS" in out  # the rationale's sources
    assert "defined in spec/requirements/safety.yaml:" in out
    assert "test_safety_supervisor::test_msl_fault[cell_overvoltage]" in out
    assert "features/safety_supervisor_limits.feature:" in out
    assert "When the cell voltage is swept up across the declared" in out


def test_show_says_a_draft_is_in_no_profile_yet(capsys, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """OBSA-CAN-001 made a draft in a copy of the spec (the spec has no draft now)."""
    import shutil

    from conformance.paths import spec_dir

    root = tmp_path / "spec"
    shutil.copytree(spec_dir(), root)
    can_file = root / "requirements" / "can.yaml"
    text = can_file.read_text(encoding="utf-8")
    can_file.write_text(text.replace("    profiles: [cmu_can, bms_can]\n", "    status: draft\n",
                                     1), encoding="utf-8")
    monkeypatch.setattr("conformance.spec.loader.spec_dir", lambda: root)
    code, out, err = run(capsys, "show", "OBSA-CAN-001")
    assert code == 0, err
    assert "\nprofiles: none yet (status draft: no profile holds it, so no run judges it)\n" in out
    code, out, err = run(capsys, "show", "OBSA-SAFE-001")
    assert "\nprofiles: bmu_safety_core, full_bms\n" in out


def test_show_with_a_manifest(capsys, tmp_path: Path) -> None:
    text = Path("reference_impl/manifest.yaml").read_text(encoding="utf-8")
    path = tmp_path / "m.yaml"
    path.write_text(text.replace("cell_voltage_max_fault_delay_s: 0.2",
                                 "cell_voltage_max_fault_delay_s: 0.35"), encoding="utf-8")
    code, out, err = run(capsys, "show", "OBSA-SAFE-001", "--manifest", str(path))
    assert code == 0, err
    assert f"= 0.35 s in {path}" in out
    assert "not applicable" not in out
    code, out, _ = run(capsys, "show", "obsa-safe-001", "--manifest",
                       "reference_impl/manifest_basic_protection.yaml")
    assert code == 0 and "claims none of this requirement's profiles" in out


def test_show_condition_false(capsys, tmp_path: Path) -> None:
    text = Path("reference_impl/manifest.yaml").read_text(encoding="utf-8")
    path = tmp_path / "m.yaml"
    path.write_text(text.replace(
        "features: [insulation_monitoring, weld_detection, deep_discharge_lockout]",
        "features: [insulation_monitoring, deep_discharge_lockout]"), encoding="utf-8")
    code, out, _ = run(capsys, "show", "OBSA-CONT-008", "--manifest", str(path))
    assert code == 0
    assert "condition 'weld_detection' is false" in out


@pytest.mark.parametrize("argv, fragment", [
    (["OBSA-SAFE-999"], "unknown requirement 'OBSA-SAFE-999'; did you mean OBSA-SAFE-"),
    (["nonsense"], "unknown requirement 'nonsense'"),
    (["OBSA-SAFE-001", "--manifest", "/no/such/manifest.yaml"], "cannot be used"),
])
def test_show_bad_input(capsys, argv: list[str], fragment: str) -> None:
    code, out, err = run(capsys, "show", *argv)
    assert_one_line_error(code, err, fragment)
    assert out == ""


def test_version() -> None:
    proc = subprocess.run([sys.executable, "-m", "conformance", "--version"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("obsa ")
    assert lines[1] == f"spec {SPEC.version}"
    assert lines[2] == f"report format {Report.model_fields['obsa_report'].default}"
