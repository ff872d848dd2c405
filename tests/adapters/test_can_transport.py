"""The ``can`` transport: its manifest settings, a Python node in a child process in
simulated time, and a device on a bus paced on the wall clock."""

from __future__ import annotations

import os
import threading
import uuid
from pathlib import Path
from typing import Any

import can
import numpy as np
import pytest
import yaml

from conformance.adapters import AdapterError, open_adapter
from conformance.adapters.can import CanAdapter
from conformance.adapters.can_rig import CanRig
from conformance.bench import Bench, BenchConfig
from conformance.manifest import load_manifest
from conformance.spec import load_spec
from conformance.spec.loader import Spec
from reference_impl.nodes.can_cmu import CanCmu
from reference_impl.nodes.can_timing import RealtimeRun, run_realtime

ROOT = Path(__file__).resolve().parents[2]
CMU_MANIFEST = ROOT / "reference_impl" / "manifest_can_cmu.yaml"


@pytest.fixture(scope="module")
def spec() -> Spec:
    return load_spec()


def _manifest(tmp_path: Path, edit: Any) -> Path:
    data = yaml.safe_load(CMU_MANIFEST.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _set(path: tuple[str, ...], value: Any) -> Any:
    def edit(data: dict[str, Any]) -> None:
        node = data
        for key in path[:-1]:
            node = node[key]
        if value is KeyError:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return edit


@pytest.mark.parametrize(("edit", "field", "message"), [
    (_set(("adapter", "options", "node"), "vcu"), "adapter.options.node",
     "expected the catalog's node the module is (bmu, cmu), found 'vcu'"),
    (_set(("adapter", "options", "module"), 12), "adapter.options.module",
     "expected a module index 0 … 11"),
    (_set(("adapter", "options", "buses"), {}), "adapter.options.buses",
     "expected bus 'internal_can' (node cmu sends or receives on it), found none"),
    (_set(("adapter", "options", "buses", "internal_can", "bitrate"), 250000),
     "adapter.options.buses.internal_can.bitrate",
     "expected the catalog's 500000 bit/s for 'internal_can', found 250000"),
    (_set(("adapter", "options", "buses", "internal_can", "interface"), "socketcan"),
     "adapter.options.buses.internal_can.interface", "expected 'virtual' for a Python node"),
    (_set(("adapter", "options", "buses", "body_can"),
          {"interface": "virtual", "channel": "x"}),
     "adapter.options.buses.body_can", "expected a bus of the CAN catalog"),
    (_set(("adapter", "components", "can_stack"), "cmu"), "adapter.components.can_stack",
     "expected 'device' or 'package.module:Class', found 'cmu'"),
    (_set(("adapter", "options", "speed"), 1), "adapter.options.speed",
     "expected an option of the can transport (buses, module, node), found 'speed'"),
])
def test_bad_settings_refuse_the_manifest(spec: Spec, tmp_path: Path, edit: Any, field: str,
                                          message: str) -> None:
    manifest, issues = load_manifest(_manifest(tmp_path, edit), spec)
    found = [str(i) for i in issues]
    assert any(message in text and field in text for text in found), found


def test_the_reference_manifests_are_accepted(spec: Spec) -> None:
    for name in ("manifest_can_cmu.yaml", "manifest_can_bmu.yaml"):
        manifest, issues = load_manifest(ROOT / "reference_impl" / name, spec)
        assert manifest is not None and not issues, issues


class Crashes(CanCmu):
    """A node that fails at its first step."""

    def step(self, t: float) -> None:
        raise ZeroDivisionError("boom")


def test_a_failing_python_node_is_an_adapter_error_naming_it(spec: Spec, tmp_path: Path
                                                             ) -> None:
    path = _manifest(tmp_path, _set(("adapter", "components", "can_stack"),
                                    f"{__name__}:Crashes"))
    manifest, issues = load_manifest(path, spec)
    assert manifest is not None and not issues
    with open_adapter(manifest, spec, manifest.dimensions(spec)) as adapter:
        assert isinstance(adapter, CanAdapter) and not adapter.realtime
        rig = CanRig(adapter, spec, Bench(BenchConfig(n_cells=16, n_temp_sensors=8)), manifest)
        with pytest.raises(AdapterError, match="the node failed: ZeroDivisionError: boom"):
            rig.step()
        # the host lives on: a power-on builds the node anew
        rig.power_on()


def test_in_process_a_python_node_runs_in_the_bench_s_process(spec: Spec, tmp_path: Path
                                                              ) -> None:
    """``--in-process``: the node's host is in this process (no child), its failures are
    the same adapter errors, and the node's store is the adapter's while it is open."""
    from conformance.adapters.can import InProcessCanAdapter
    from reference_impl.services.nvm import NVM_VARIABLE

    path = _manifest(tmp_path, _set(("adapter", "components", "can_stack"),
                                    f"{__name__}:Crashes"))
    manifest, _ = load_manifest(path, spec)
    assert manifest is not None
    before = os.environ.get(NVM_VARIABLE)
    with open_adapter(manifest, spec, manifest.dimensions(spec), in_process=True) as adapter:
        assert isinstance(adapter, InProcessCanAdapter) and adapter.proc is None
        assert os.environ[NVM_VARIABLE] == str(adapter.nvm_dir)
        rig = CanRig(adapter, spec, Bench(BenchConfig(n_cells=16, n_temp_sensors=8)), manifest)
        with pytest.raises(AdapterError, match="the node failed: ZeroDivisionError: boom"):
            rig.step()
    assert os.environ.get(NVM_VARIABLE) == before


class Interrupted(CanCmu):
    """A node whose step is where the bench's own stop (Ctrl-C) lands."""

    def step(self, t: float) -> None:
        raise KeyboardInterrupt


def test_in_process_the_bench_s_stop_is_no_failure_of_the_node(spec: Spec, tmp_path: Path
                                                               ) -> None:
    """A stop of the bench that lands in the node's step stops the run: in process it is
    not made a reply of the node's failure, as it is in the node's own host process."""
    path = _manifest(tmp_path, _set(("adapter", "components", "can_stack"),
                                    f"{__name__}:Interrupted"))
    manifest, _ = load_manifest(path, spec)
    assert manifest is not None
    with open_adapter(manifest, spec, manifest.dimensions(spec), in_process=True) as adapter:
        rig = CanRig(adapter, spec, Bench(BenchConfig(n_cells=16, n_temp_sensors=8)), manifest)
        with pytest.raises(KeyboardInterrupt):
            rig.step()


def test_in_process_a_device_is_refused_naming_it(spec: Spec, tmp_path: Path) -> None:
    path = _manifest(tmp_path, _set(("adapter", "components", "can_stack"), "device"))
    manifest, issues = load_manifest(path, spec)
    assert manifest is not None and not issues
    with pytest.raises(AdapterError) as err:
        open_adapter(manifest, spec, manifest.dimensions(spec), in_process=True)
    assert err.value.field == "adapter.components.can_stack"
    assert "a board on a bus cannot run in process" in err.value.message


def test_a_python_node_runs_in_a_child_in_simulated_time(spec: Spec) -> None:
    manifest, _ = load_manifest(CMU_MANIFEST, spec)
    assert manifest is not None
    with open_adapter(manifest, spec, manifest.dimensions(spec)) as adapter:
        assert isinstance(adapter, CanAdapter)
        assert adapter.proc is not None and adapter.proc.pid > 0
        rig = CanRig(adapter, spec, Bench(BenchConfig(n_cells=16, n_temp_sensors=8)), manifest)
        rig.balancing = np.zeros(16, dtype=bool)
        rig.balancing[[0, 15]] = True
        rig.run(1.0)
        status = rig.sent("cmu_status")
        # simulated time: every frame at its step, status every 100 ms from the first step
        assert [round(c.t, 2) for c in status] == [round(0.1 * i, 2) for i in range(10)]
        assert status[-1].values["balancing_active"] == 1
        assert rig.bench.cells.balancing[[0, 15]].all()  # the switches act on the plant


def test_a_device_is_paced_on_the_wall_clock(spec: Spec, tmp_path: Path) -> None:
    """A 'device': the reference CMU stepped in real time by a thread of its own on a
    virtual bus (as a board would be on its bus); the bench reaches it only through the
    bus, stamps frames with their arrival and keeps to the wall clock."""
    channel = f"can-device-{uuid.uuid4().hex}"
    path = _manifest(tmp_path, lambda d: (
        _set(("adapter", "components", "can_stack"), "device")(d),
        _set(("adapter", "options", "buses", "internal_can", "channel"), channel)(d)))
    manifest, issues = load_manifest(path, spec)
    assert manifest is not None and not issues
    stop = threading.Event()
    board_bus = can.Bus(interface="virtual", channel=channel)
    board = CanCmu(board_bus, 0, lambda t: (np.full(16, 3.6), np.full(8, 25.0)))
    thread = threading.Thread(target=run_realtime, args=([board], 30.0),
                              kwargs={"stop": stop.is_set}, daemon=True)
    try:
        with open_adapter(manifest, spec, manifest.dimensions(spec)) as adapter:
            assert isinstance(adapter, CanAdapter) and adapter.realtime
            thread.start()
            rig = CanRig(adapter, spec, Bench(BenchConfig(n_cells=16, n_temp_sensors=8)),
                         manifest)
            import time
            start = time.monotonic()
            rig.run(1.5)
            assert time.monotonic() - start >= 1.45  # paced on the wall clock
            status = rig.sent("cmu_status")
            assert 12 <= len(status) <= 17
            intervals = np.diff([c.t for c in status])
            assert abs(float(intervals.mean()) - 0.1) < 0.005
            assert board.synchronised_conversions > 0  # it heard the emulated master
    finally:
        stop.set()
        thread.join(timeout=5)
        board_bus.shutdown()


def test_the_bench_crc_matches_the_published_check_values() -> None:
    """The bench's own CRC-8 (not the reference's): the CRC catalogue's check values over
    the ASCII bytes "123456789" — CRC-8/SAE-J1850 0x4B, and 0x37 for the start-0x00,
    no-XOR variant of AUTOSAR E2E profile 1 (CRC-8/GSM-A)."""
    from conformance.adapters.can_frames import crc8

    assert crc8(b"123456789", "crc8_sae_j1850") == 0x4B
    assert crc8(b"123456789", "crc8_sae_j1850_zero") == 0x37


def _socketcan(channel: str) -> bool:
    try:
        can.Bus(interface="socketcan", channel=channel).shutdown()
    except Exception:
        return False
    return True


@pytest.mark.skipif(not _socketcan("vcan0"), reason="no SocketCAN vcan0 on this machine "
                                                    "(the kernel has no CAN)")
def test_a_device_on_socketcan(spec: Spec, tmp_path: Path) -> None:
    """The same device path on SocketCAN's vcan0, where the kernel has it: the bench opens
    the bus and the reference CMU, in a thread, answers on it."""
    path = _manifest(tmp_path, lambda d: (
        _set(("adapter", "components", "can_stack"), "device")(d),
        _set(("adapter", "options", "buses", "internal_can"),
             {"interface": "socketcan", "channel": "vcan0", "bitrate": 500000})(d)))
    manifest, issues = load_manifest(path, spec)
    assert manifest is not None and not issues
    stop = threading.Event()
    board_bus = can.Bus(interface="socketcan", channel="vcan0")
    board = CanCmu(board_bus, 0, lambda t: (np.full(16, 3.6), np.full(8, 25.0)))
    thread = threading.Thread(target=run_realtime, args=([board], 30.0),
                              kwargs={"stop": stop.is_set}, daemon=True)
    try:
        with open_adapter(manifest, spec, manifest.dimensions(spec)) as adapter:
            thread.start()
            rig = CanRig(adapter, spec, Bench(BenchConfig(n_cells=16, n_temp_sensors=8)),
                         manifest)
            rig.run(1.0)
            assert len(rig.sent("cmu_status")) >= 8
    finally:
        stop.set()
        thread.join(timeout=5)
        board_bus.shutdown()


_NOT_PASS_HERE = {"OBSA-CAN-002", "OBSA-CAN-003"}
"""What the device test below does not expect to pass (its docstring says why)."""
DEVICE_SLACK_S = 0.005
"""How late the device test's own 'device' may start a step before a failure may be its
host's and not the bench's: the tolerance of most of the catalog's 100 ms frames (5 ms)."""


@pytest.mark.slow
def test_the_can_test_cases_judge_a_device_in_real_time(spec: Spec, tmp_path: Path) -> None:
    """The suite's CAN test cases on a 'device': the reference CMU stepped by run_realtime in
    a thread on a virtual bus, reached by the bench only through the bus (about 35 s). Each
    passes, but OBSA-CAN-003's values, which need the plant to drive the board's cells
    (inconclusive), and OBSA-CAN-002, whose 99th percentile here measures this test's own
    Python board sharing the process (its mean must hold)."""
    from conformance.harness.context import Harness, Session
    from conformance.suite import test_can

    channel = f"can-rt-{uuid.uuid4().hex}"
    path = _manifest(tmp_path, lambda d: (
        _set(("adapter", "components", "can_stack"), "device")(d),
        _set(("adapter", "options", "buses", "internal_can", "channel"), channel)(d)))
    manifest, issues = load_manifest(path, spec)
    assert manifest is not None and not issues
    board_bus = can.Bus(interface="virtual", channel=channel)
    board = CanCmu(board_bus, 0, lambda t: (3.6 + 0.01 * np.arange(16), np.full(8, 25.0)),
                   cell_monitor=manifest.effective_parameters(spec, "cell_monitor"))
    stop = threading.Event()
    timing = RealtimeRun()
    thread = threading.Thread(target=run_realtime, args=([board], 600.0),
                              kwargs={"stop": stop.is_set, "run": timing}, daemon=True)
    thread.start()
    results = {}
    late: dict[str, float] = {}  # case → how late the 'device' was in its last try, s
    try:
        with open_adapter(manifest, spec, manifest.dimensions(spec)) as adapter:
            session = Session(spec=spec, manifest=manifest, adapter=adapter,
                              components=["can_stack"], dimensions=manifest.dimensions(spec),
                              bench_factory=lambda **kw: Bench(BenchConfig(
                                  n_cells=16, n_temp_sensors=8, seed=kw.get("seed", 0))))
            for case in (test_can.test_traffic, test_can.test_bad_frames_are_discarded,
                         test_can.test_lost_frame_reaction,
                         test_can.test_malformed_frames_survived):
                for _ in range(3):
                    timing.max_lateness_s = 0.0
                    h = Harness(session, case.__name__, [], seed=7)
                    case(h)
                    late[case.__name__] = timing.max_lateness_s
                    # the 'device' is a thread of this process: on a machine loaded by others
                    # it can miss its own send times (e.g. under OBSA-CAN-007's flood). A case
                    # that fails while the device was late by more than a frame's tolerance
                    # gets another try; one that fails with the device on time is a defect
                    # of the bench, and fails the test
                    if all(r.verdict == "pass" or r.requirement in _NOT_PASS_HERE
                           for r in h.results) or timing.max_lateness_s <= DEVICE_SLACK_S:
                        break
                results.update({r.requirement: r for r in h.results})
    finally:
        stop.set()
        thread.join(timeout=5)
        board_bus.shutdown()
    verdicts = {rid: r.verdict for rid, r in results.items()}
    failed = {rid: (v, results[rid].evidence.message[:300]) for rid, v in verdicts.items()
              if v != "pass" and rid not in _NOT_PASS_HERE}
    if failed and all(late[results[rid].test_case] > DEVICE_SLACK_S for rid in failed):
        pytest.skip(f"this machine kept the test's own 'device' thread from its send times "
                    f"(late by up to {max(late.values()) * 1000:.0f} ms in three tries of "
                    f"each case that failed): {failed}")
    assert verdicts.pop("OBSA-CAN-003") == "inconclusive"
    cycle = results["OBSA-CAN-002"].criteria
    assert cycle[0].name == "mean_interval_error_ratio" and cycle[0].passed
    verdicts.pop("OBSA-CAN-002")
    assert set(verdicts.values()) == {"pass"}, {
        rid: (v, results[rid].evidence.message[:300]) for rid, v in verdicts.items() if v != "pass"}


@pytest.mark.parametrize(("profile", "node", "buses"), [
    ("cmu_can", "cmu", {"internal_can"}), ("bms_can", "bmu", {"internal_can", "vehicle_can"})])
def test_manifest_init_writes_the_can_transport(spec: Spec, tmp_path: Path, profile: str,
                                                node: str, buses: set[str]) -> None:
    from conformance.cli import main

    out = tmp_path / "m.yaml"
    assert main(["manifest", "init", profile, "--out", str(out)]) == 0
    manifest, issues = load_manifest(out, spec)
    assert manifest is not None and not issues, issues
    assert manifest.adapter.type == "can" and manifest.adapter.components == {
        "can_stack": "device"}
    assert manifest.adapter.options["node"] == node
    assert set(manifest.adapter.options["buses"]) == buses


def test_a_bus_that_cannot_be_opened_is_an_error_naming_it(spec: Spec, tmp_path: Path) -> None:
    path = _manifest(tmp_path, lambda d: (
        _set(("adapter", "components", "can_stack"), "device")(d),
        _set(("adapter", "options", "buses", "internal_can", "interface"), "no_such_if")(d)))
    manifest, issues = load_manifest(path, spec)
    assert manifest is not None and not issues
    with pytest.raises(AdapterError, match=r"cannot open bus 'internal_can' \(no_such_if, "
                                           r"channel obsa-internal\)") as err:
        open_adapter(manifest, spec, manifest.dimensions(spec))
    assert err.value.field == "adapter.options.buses.internal_can"


def test_the_report_hashes_a_python_node_and_nothing_for_a_device() -> None:
    settings = {"components": {"can_stack": "reference_impl.nodes.can_cmu:CanCmu"}}
    assert [p.name for p in CanAdapter.judged_files(settings)] == ["can_cmu.py"]
    assert CanAdapter.judged_files({"components": {"can_stack": "device"}}) == []


@pytest.mark.slow
def test_a_cmu_past_the_first_module_is_certified(tmp_path: Path) -> None:
    """Module 2 of a 40-cell pack with 20 sensors: a partial module (8 cells, 4 sensors).
    Its values are judged against its own cells of the pack (they were once held against
    module 0's: OBSA-CAN-003 failed), and the bus load against every group of its module,
    the empty ones it sends invalid included (the catalog's sizing: OBSA-CAN-008 failed at
    1.73)."""
    import json
    import subprocess
    import sys

    def edit(data: dict[str, Any]) -> None:
        data["pack"].update(cell_count=40, temperature_sensor_count=20)
        data["adapter"]["options"]["module"] = 2

    path = _manifest(tmp_path, edit)
    proc = subprocess.run([sys.executable, "-m", "conformance", "certify", str(path),
                           "--out", str(tmp_path / "out"), "--no-html", "--no-progress"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert report["outcome"] == "certified", [
        (r["requirement"], r["verdict"], r["evidence"]["message"][:300])
        for r in report["results"] if r["verdict"] != "pass"] or proc.stdout[-2000:]
