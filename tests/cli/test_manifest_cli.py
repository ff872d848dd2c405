"""obsa manifest init / check: what init writes is accepted by check as written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from conformance.bench.chemistry import CHEMISTRIES
from conformance.manifest import load_manifest
from conformance.spec.loader import load_spec

from .helpers import assert_one_line_error, run

SPEC = load_spec()


@pytest.mark.parametrize("chemistry", ["nmc", "lfp"])
@pytest.mark.parametrize("profile", sorted(SPEC.profiles))
def test_init_writes_a_manifest_check_accepts(capsys, tmp_path: Path, profile: str,
                                              chemistry: str) -> None:
    out = tmp_path / "manifest.yaml"
    code, stdout, err = run(capsys, "manifest", "init", profile, "--chemistry", chemistry,
                            "--out", str(out))
    assert code == 0, err
    assert f"wrote {out}" in stdout
    data = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert data["profiles"] == [profile]
    assert data["pack"]["chemistry"] == chemistry
    assert data["spec_version"] == SPEC.version
    # every parameter of every component of the profile, declared
    for component in SPEC.profiles[profile].components:
        declared = data["configuration"].get(component, {})
        for param in SPEC.interfaces[component].parameters:
            if param.feature is None or param.feature in data["features"]:
                assert param.name in declared, (component, param.name)
        assert component in data["adapter"]["components"]
    code, stdout, err = run(capsys, "manifest", "check", str(out))
    assert code == 0, stdout + err
    assert "accepted" in stdout
    manifest, issues = load_manifest(out, SPEC)
    assert manifest is not None and issues == []


@pytest.mark.parametrize("chemistry", ["nmc", "lfp", "lto"])
@pytest.mark.parametrize("profile", ["bmu_safety_core", "bmu_basic_protection"])
def test_cell_voltages_within_the_chemistry(capsys, tmp_path: Path, profile: str,
                                            chemistry: str) -> None:
    out = tmp_path / "m.yaml"
    assert run(capsys, "manifest", "init", profile, "--chemistry", chemistry,
               "--out", str(out))[0] == 0
    config = yaml.safe_load(out.read_text(encoding="utf-8"))["configuration"]
    limits = CHEMISTRIES[chemistry].limits
    volts = {name: v for c in ("safety_supervisor", "protection")
             for name, v in config.get(c, {}).items()
             if name.startswith("cell_") and name.endswith("_V") and "hysteresis" not in name
             and "accuracy" not in name}
    assert volts
    for name, value in volts.items():
        assert limits.under_voltage_fault_V <= value <= limits.over_voltage_fault_V, name


@pytest.mark.parametrize("profile", ["bmu_safety_core", "bmu_basic_protection"])
def test_init_without_features_comments_them_out(capsys, tmp_path: Path, profile: str) -> None:
    out = tmp_path / "m.yaml"
    assert run(capsys, "manifest", "init", profile, "--no-features", "--chemistry", "lfp",
               "--cells", "16", "--out", str(out))[0] == 0
    text = out.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert data["features"] == []
    assert "# - " in text  # the features, listed as comments
    assert run(capsys, "manifest", "check", str(out))[0] == 0


def test_init_comments_every_parameter(capsys) -> None:
    code, stdout, _ = run(capsys, "manifest", "init", "bmu_safety_core")
    assert code == 0
    line = next(ln for ln in stdout.splitlines()
                if ln.strip().startswith("cell_voltage_max_msl_V:"))
    assert "# V; range 1.5 … 4.8; spec default" in line
    assert "maximum safety limit (fault)" in stdout
    for transport in ("type: process", "type: tcp", "type: fmu"):
        assert f"#   {transport}" in stdout
    assert "insulation_monitoring" in stdout and "turns on OBSA-SAFE-025" in stdout
    yaml.safe_load(stdout)


def test_init_pack_options(capsys, tmp_path: Path) -> None:
    out = tmp_path / "m.yaml"
    assert run(capsys, "manifest", "init", "bmu_basic_protection", "--chemistry", "lfp",
               "--cells", "8", "--temperature-sensors", "2", "--capacity", "20",
               "--out", str(out))[0] == 0
    pack = yaml.safe_load(out.read_text(encoding="utf-8"))["pack"]
    assert pack == {"chemistry": "lfp", "cell_count": 8, "temperature_sensor_count": 2,
                    "capacity_Ah": 20.0}


@pytest.mark.parametrize("profile, hardware", [
    ("cmu_can", {"cell_monitor"}),  # a CMU board has no current sensor
    ("bms_can", {"cell_monitor", "current_sensor"}),
    ("bmu_safety_core", {"cell_monitor", "current_sensor"}),
])
def test_init_declares_the_node_s_hardware(capsys, profile: str, hardware: set[str]) -> None:
    """A CAN node declares the measurement hardware whose values its buses carry; a block
    profile every one the bench models."""
    code, stdout, err = run(capsys, "manifest", "init", profile)
    assert code == 0, err
    config = yaml.safe_load(stdout)["configuration"]
    assert {c for c in ("cell_monitor", "current_sensor") if c in config} == hardware


@pytest.mark.parametrize("argv, fragment", [
    (["nope"], "unknown profile 'nope'"),
    (["bmu_safety_core", "--chemistry", "lead"], "unknown chemistry 'lead'"),
    (["bmu_safety_core", "--cells", "0"], "expected 1 to 1000 series cells"),
    (["bmu_safety_core", "--capacity", "nan"], "capacity"),
])
def test_init_bad_input(capsys, argv: list[str], fragment: str) -> None:
    code, out, err = run(capsys, "manifest", "init", *argv)
    assert_one_line_error(code, err, fragment)
    assert out == ""


def test_init_refuses_to_overwrite(capsys, tmp_path: Path) -> None:
    out = tmp_path / "m.yaml"
    out.write_text("mine\n", encoding="utf-8")
    code, _, err = run(capsys, "manifest", "init", "bmu_safety_core", "--out", str(out))
    assert_one_line_error(code, err, "exists")
    assert out.read_text(encoding="utf-8") == "mine\n"
    assert run(capsys, "manifest", "init", "bmu_safety_core", "--out", str(out),
               "--force")[0] == 0


def test_init_unwritable_out(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "manifest", "init", "bmu_safety_core",
                       "--out", str(tmp_path / "no" / "such" / "dir.yaml"))
    assert_one_line_error(code, err, "cannot be written")


def test_init_pack_the_check_refuses(capsys, tmp_path: Path) -> None:
    out = tmp_path / "m.yaml"
    code, _, err = run(capsys, "manifest", "init", "bmu_safety_core", "--cells", "1000",
                       "--out", str(out))
    assert code == 2
    assert "pack.cell_count: expected at most" in err
    assert "Traceback" not in err


def test_check_reference(capsys) -> None:
    code, out, _ = run(capsys, "manifest", "check", "reference")
    assert code == 0 and "accepted" in out


def _broken(tmp_path: Path) -> Path:
    path = tmp_path / "bad.yaml"
    text = Path("reference_impl/manifest_basic_protection.yaml").read_text(encoding="utf-8")
    text = text.replace("cell_overvoltage_V: 3.65", "cell_overvoltage_V: 9.5")
    text = text.replace("short_circuit_A: 300.0", "short_circuit_A: 50.0")
    path.write_text(text, encoding="utf-8")
    return path


def test_check_refuses_with_located_messages(capsys, tmp_path: Path) -> None:
    path = _broken(tmp_path)
    code, out, err = run(capsys, "manifest", "check", str(path))
    assert code == 2
    lines = out.strip().splitlines()
    assert len(lines) == 2
    lines_of = {ln.split(": ")[1]: ln for ln in lines}
    over = lines_of["configuration.protection.cell_overvoltage_V"]
    assert over.startswith(f"{path}:")
    assert "expected a value in [1.5, 4.8] V (spec range), found 9.5" in over
    assert "configuration.protection.short_circuit_A" in lines_of
    assert_one_line_error(code, err, "refused (2 problems)")


def test_check_json(capsys, tmp_path: Path) -> None:
    path = _broken(tmp_path)
    code, out, _ = run(capsys, "manifest", "check", str(path), "--json")
    assert code == 2
    items = json.loads(out)
    assert {tuple(sorted(i)) for i in items} == {("field", "file", "line", "message")}
    assert all(i["file"] == str(path) and isinstance(i["line"], int) for i in items)
    code, out, _ = run(capsys, "manifest", "check", "reference", "--json")
    assert code == 0 and json.loads(out) == []


@pytest.mark.parametrize("what", ["missing", "directory", "not yaml", "not a mapping"])
def test_check_unreadable(capsys, tmp_path: Path, what: str) -> None:
    path = tmp_path / "m.yaml"
    if what == "directory":
        path.mkdir()
    elif what == "not yaml":
        path.write_text("a: [1, 2\n", encoding="utf-8")
    elif what == "not a mapping":
        path.write_text("- 1\n", encoding="utf-8")
    code, out, err = run(capsys, "manifest", "check", str(path))
    assert_one_line_error(code, err, str(path))
    assert out.strip() and "Traceback" not in out
