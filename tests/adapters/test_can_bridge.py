"""The safety-core test cases over CAN (conformance/adapters/can_bridge.py): the blocks of a
claimed block profile run on the BMU node, and the closed loop reaches them only through the
node's buses and pins. The over- and under-voltage MSL cases give the reference BMU node the
verdicts and the measured values the in-process reference safety core gets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.adapters.can import parse_settings
from conformance.adapters.can_bridge import on_the_bus
from conformance.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = ("safety_supervisor", "contactor_manager", "diagnostics")
#: the vehicle sees a fault when bms_faults comes: one period plus tolerance of it (100 ms
#: + 5 ms) is the most the bus may add to a reaction time, and one step of the cell
#: voltage's 1 mV field to a threshold
REACTION_TOLERANCE_S = 0.105
THRESHOLD_TOLERANCE_V = 0.001


def _can_manifest(tmp_path: Path) -> Path:
    data = yaml.safe_load((ROOT / "reference_impl" / "manifest_can_bmu.yaml")
                          .read_text(encoding="utf-8"))
    data["profiles"] = ["bms_can", "bmu_safety_core"]
    node = data["adapter"]["components"]["can_stack"]
    for block in BLOCKS:
        data["adapter"]["components"][block] = node
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _certify(manifest: Path, out: Path, select: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "conformance", "certify", str(manifest),
                           "--out", str(out), "--no-html", "--no-progress", "-k", select],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    report = out / "report.json"
    assert report.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return dict(json.loads(report.read_text(encoding="utf-8")))


def _judged(report: dict[str, Any], requirement: str) -> dict[str, Any]:
    return next(r for r in report["results"] if r["requirement"] == requirement and r["case"])


@pytest.mark.slow
def test_voltage_faults_over_can_as_in_process(tmp_path: Path) -> None:
    select = "test_msl_fault and voltage"
    over_can = _certify(_can_manifest(tmp_path), tmp_path / "can", select)
    in_process = _certify(ROOT / "reference_impl" / "manifest.yaml", tmp_path / "ip", select)
    for rid in ("OBSA-SAFE-001", "OBSA-SAFE-002"):
        can, ip = _judged(over_can, rid), _judged(in_process, rid)
        assert can["verdict"] == ip["verdict"] == "pass", (can["evidence"]["message"],
                                                           ip["evidence"]["message"])
        measured = {c["name"]: c["measured"] for c in can["criteria"]}
        expected = {c["name"]: c["measured"] for c in ip["criteria"]}
        assert abs(measured["reaction_time_s"] - expected["reaction_time_s"]) \
            <= REACTION_TOLERANCE_S
        assert abs(measured["trip_threshold_error_V"] - expected["trip_threshold_error_V"]) \
            <= THRESHOLD_TOLERANCE_V + 1e-12


def test_the_blocks_on_the_bus_are_what_the_bmu_sends() -> None:
    carried = on_the_bus(load_spec())
    assert {"safety_state", "safety_fault_flags", "contactor_state",
            "charge_current_limit_A", "main_positive_close_cmd"} <= carried
    assert "contactor_open_request" not in carried  # no frame carries it


def test_a_block_elsewhere_than_on_the_node_is_refused() -> None:
    spec = load_spec()
    data = yaml.safe_load((ROOT / "reference_impl" / "manifest_can_bmu.yaml")
                          .read_text(encoding="utf-8"))
    settings = data["adapter"]
    settings["components"]["safety_supervisor"] = "vendor.blocks:Supervisor"
    parsed, problems = parse_settings(settings, spec)
    assert parsed is None
    assert problems == [(("adapter", "components", "safety_supervisor"),
                         "expected 'reference_impl.nodes.can_bmu:CanBmu' (a block of a claimed "
                         "profile runs on the CAN node, the 'can_stack' entry), found "
                         "'vendor.blocks:Supervisor'")]
