"""The safety-core test cases over CAN (conformance/adapters/can_bridge.py): the blocks of a
claimed block profile run on the BMU node, and the closed loop reaches them only through the
node's buses and pins. The over- and under-voltage MSL cases give the reference BMU node the
verdicts and the measured values the in-process reference safety core gets."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from conformance.adapters.can import parse_settings
from conformance.adapters.can_bridge import observability, on_the_bus
from conformance.bench.clock import Clock
from conformance.harness.context import Harness, standard_channels
from conformance.harness.loop import ClosedLoop, NotObservable, PreconditionFailed
from conformance.harness.monitors import Watch, violations
from conformance.manifest import safety_core_manifest_path
from conformance.session import Certification, unjudged_verdict
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


# ------------------------------------------------------------------ what the bus hides
def test_observability_names_what_neither_bus_nor_pins_carry() -> None:
    spec = load_spec()
    hidden, undeliverable = observability(spec, list(BLOCKS))
    assert hidden["contactor_open_request"] == (
        "no frame of the CAN catalog carries contactor_open_request from the BMU (an output "
        "of its safety_supervisor)")
    assert {"dtc_status", "dtc_occurrences", "safety_request_flags",
            "current_sensor_age_s"} <= set(hidden)
    assert "current_sensor_age_s" in undeliverable  # the node's own sensor's age
    # what the bus or the pins carry is judged
    for name in ("safety_fault_flags", "contactor_state", "cell_voltage_V", "pack_current_A",
                 "close_request", "fault_reset_request", "main_positive_close_cmd"):
        assert name not in hidden and name not in undeliverable, name
    # stepped alone, the contactor manager's open request is an input the node never gets
    _, alone = observability(spec, ["contactor_manager"])
    assert "contactor_open_request" in alone


class _Bench:
    """Four healthy cells; commands are ignored."""

    class config:  # noqa: N801 - mirrors BenchConfig's attribute access
        dt_s = 0.01

    def __init__(self) -> None:
        self.clock = Clock(0.01)

    @property
    def t(self) -> float:
        return self.clock.t

    def measurements(self) -> dict[str, Any]:
        return {"cell_voltage_V": np.full(4, 3.7), "cell_voltage_valid": np.ones(4, dtype=bool),
                "cell_temperature_degC": np.full(2, 25.0),
                "cell_temperature_valid": np.ones(2, dtype=bool), "pack_current_A": 0.0,
                "pack_voltage_V": 350.0, "link_voltage_V": 0.0}

    def apply(self, pool: dict[str, Any]) -> None:
        pass

    def advance(self) -> None:
        self.clock.tick()


class _Node:
    """A supervisor whose fault latches at 0.1 s, with its current limits zeroed or not,
    that never raises contactor_open_request; with ``hidden``, over a 'bus' that does not
    carry contactor_open_request and the fault memory."""

    def __init__(self, bit: int, zero_limits: bool, hidden: bool) -> None:
        self.bit, self.zero_limits = bit, zero_limits
        if hidden:
            self.observability = lambda components: observability(load_spec(), components)

    def step(self, component: str, t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        faulted = t >= 0.1 - 1e-9
        limit = 0.0 if faulted and self.zero_limits else 100.0
        return {"safety_fault_flags": self.bit if faulted else 0,
                "contactor_open_request": False, "charge_current_limit_A": limit,
                "discharge_current_limit_A": limit}


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    cert = Certification.prepare(safety_core_manifest_path(), None,
                                 tmp_path_factory.mktemp("hidden"))
    assert cert.session is not None and not cert.refused
    yield Harness(cert.session, "t::case", [])
    cert.close()


def _loop(h: Harness, *, zero_limits: bool, hidden: bool) -> tuple[ClosedLoop, Watch]:
    node = _Node(h.bit("safety_supervisor", "cell_overvoltage"), zero_limits, hidden)
    watch = Watch(h.spec, ["safety_supervisor"])
    loop = ClosedLoop(h.spec, _Bench(), node, ["safety_supervisor"], h.session.dimensions,
                      standard_channels() + watch.channels())
    return loop, watch


def test_a_hidden_signal_is_neither_read_nor_set_and_the_case_is_inconclusive(
        harness: Harness) -> None:
    loop, _ = _loop(harness, zero_limits=True, hidden=True)
    loop.run(0.2)
    why = "no frame of the CAN catalog carries contactor_open_request from the BMU"
    for read in (lambda: loop.channel("contactor_open_request"), lambda: loop.trace,
                 lambda: loop.set("contactor_open_request", True),
                 lambda: loop.run(0.05, until=lambda pool: bool(pool["contactor_open_request"]))):
        with pytest.raises(NotObservable, match=why) as caught:
            read()
        assert isinstance(caught.value, PreconditionFailed)
        assert unjudged_verdict(caught.value)[0] == "inconclusive"
    assert loop.readable("safety_fault_flags") and not loop.readable("contactor_open_request")
    assert loop.channel("safety_fault_flags")[-1] > 0  # what the bus carries reads as ever


def test_in_process_nothing_is_hidden(harness: Harness) -> None:
    loop, _ = _loop(harness, zero_limits=True, hidden=False)
    loop.run(0.05)
    assert loop.hidden == {} and loop.undeliverable == {} and loop.observation_lag_s == 0.0
    assert len(loop.channel("contactor_open_request")) == 5
    loop.set("contactor_open_request", True)


def test_the_monitors_skip_only_what_needs_a_hidden_signal(harness: Harness) -> None:
    found = {}
    for zero_limits in (True, False):
        for hidden in (True, False):
            loop, watch = _loop(harness, zero_limits=zero_limits, hidden=hidden)
            loop.run(0.3)
            found[(zero_limits, hidden)] = {
                v.requirement: v.what for v in violations(harness, loop, watch)}
    # in process, the open request never raised fails OBSA-SAFE-016
    assert "contactor_open_request" in found[(True, False)]["OBSA-SAFE-016"]
    # over the bus it cannot be seen: no failure for it …
    assert "OBSA-SAFE-016" not in found[(True, True)]
    # … but the current limits the bus carries are still judged
    assert "not observable" in found[(False, True)]["OBSA-SAFE-016"]
