"""The safety-core test cases over CAN (conformance/adapters/can_bridge.py): the blocks of a
claimed block profile run on the BMU node, and the closed loop reaches them only through the
node's buses and pins. A subset of one case per kind gives the reference BMU node the
verdicts and the measured values the in-process reference safety core gets, or inconclusive
where it needs a signal no frame carries; a node with a wrong supervisor fails over CAN what
it breaks. What the bus hides is refused by the closed loop and skipped by the monitors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.adapters.can import parse_settings
from conformance.adapters.can_bridge import observability, on_the_bus
from conformance.harness.context import Harness, standard_channels
from conformance.harness.loop import ClosedLoop, NotObservable, PreconditionFailed
from conformance.harness.monitors import Watch, violations
from conformance.manifest import safety_core_manifest_path
from conformance.session import Certification, unjudged_verdict
from conformance.spec import load_spec

from ..faulty.can_faults import SAFETY_OVER_CAN, BriskContactorsBmu, CanFaulty
from ..harness.fakes import RestingBench

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = ("safety_supervisor", "contactor_manager", "diagnostics")
#: the vehicle sees a fault when bms_faults comes: one period plus tolerance of it (100 ms
#: + 5 ms) is the most the bus may add to a time. A threshold is the swept quantity a fault
#: delay before the fault showed: off by what the sweep moves in that time (the MSL cases
#: sweep at 10 mV/s, 0.2 K/s and 5 A/s) and, for a value the node received in a CMU's
#: frame, one step of its field (cell voltage 1 mV, temperature 0.1 K); the pack current
#: reaches the node at a pin, unchanged
REACTION_TOLERANCE_S = 0.105
TOLERANCE = {"s": REACTION_TOLERANCE_S, "V": 0.001 + 0.01 * REACTION_TOLERANCE_S,
             "K": 0.1 + 0.2 * REACTION_TOLERANCE_S, "A": 5.0 * REACTION_TOLERANCE_S}
#: one test case of each kind the bridge makes fair (run over CAN and in process): voltage
#: and temperature MSL (the cell arrays as the node received them), over-current (the
#: reaction shows a frame after the opening ended the current), a reset pulse shorter than
#: the state request's cycle, times measured on the contactor pins (judged as measured: no
#: frame lag), and cases that need a signal no frame carries (the open request, the fault
#: memory: inconclusive)
PINNED = "test_precharge_failure or test_opening_order"
SUBSET = ("test_msl_fault and (voltage or discharge_overtemperature or charge_overcurrent) "
          "or test_insulation_heals_without_hysteresis or test_open_on_request "
          f"or test_reset_keeps_history or {PINNED}")
#: what the safety-core faulty nodes over CAN are certified on
TEETH = f"test_msl_fault and (voltage or discharge_overtemperature) or {PINNED}"


def _can_manifest(tmp_path: Path, node: str | None = None) -> Path:
    data = yaml.safe_load((ROOT / "reference_impl" / "manifest_can_bmu.yaml")
                          .read_text(encoding="utf-8"))
    data["profiles"] = ["bms_can", "bmu_safety_core"]
    if node is not None:
        data["adapter"]["components"]["can_stack"] = node
    node = data["adapter"]["components"]["can_stack"]
    for block in BLOCKS:
        data["adapter"]["components"][block] = node
    path = tmp_path / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _certify(manifest: Path, out: Path, select: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, "-m", "conformance", "certify", str(manifest),
                           "--out", str(out), "--no-html", "--no-progress", "-k", select],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    report = out / "report.json"
    assert report.exists(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return dict(json.loads(report.read_text(encoding="utf-8")))


def _by_case(report: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every judged result of a run by (test case, requirement)."""
    return {(r["case"], r["requirement"]): r for r in report["results"] if r["case"]}


@pytest.fixture(scope="module")
def over_can(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("can")
    return _certify(_can_manifest(tmp), tmp / "out", SUBSET)


@pytest.mark.slow
def test_the_safety_core_over_can_as_in_process(tmp_path: Path,
                                                over_can: dict[str, Any]) -> None:
    """Over CAN, the reference BMU node gets the in-process reference safety core's verdict
    and values (within what the bus adds) or, where a signal no frame carries is needed,
    inconclusive naming it — never a failure."""
    in_process = _by_case(_certify(ROOT / "reference_impl" / "manifest.yaml", tmp_path / "ip",
                                   SUBSET))
    can = _by_case(over_can)
    assert set(can) == set(in_process)
    kinds = set()
    for key, r in can.items():
        ip = in_process[key]
        assert ip["verdict"] == "pass", (key, ip["evidence"]["message"])
        if r["verdict"] == "inconclusive":
            assert "the module over this transport: " in r["evidence"]["message"], key
            kinds.add("inconclusive")
            continue
        assert r["verdict"] == "pass", (key, r["evidence"]["message"][:500])
        kinds.add("pass")
        expected = {c["name"]: c for c in ip["criteria"]}
        for c in r["criteria"]:
            want = expected[c["name"]]["measured"]
            if c["measured"] is None or want is None:
                assert c["measured"] == want, (key, c)
                continue
            assert abs(c["measured"] - want) <= TOLERANCE.get(c["unit"], 0.0) + 1e-9, (key, c,
                                                                                       want)
    assert kinds == {"pass", "inconclusive"}
    requirements = {rid for _, rid in can}
    assert {"OBSA-SAFE-001", "OBSA-SAFE-002", "OBSA-SAFE-003", "OBSA-SAFE-007",
            "OBSA-SAFE-015", "OBSA-CONT-003", "OBSA-CONT-006", "OBSA-CONT-007",
            "OBSA-DIAG-004"} <= requirements


@pytest.mark.slow
@pytest.mark.parametrize("faulty", SAFETY_OVER_CAN, ids=lambda f: f.name)
def test_a_faulty_safety_core_fails_over_can_what_it_breaks(
        tmp_path: Path, over_can: dict[str, Any], faulty: CanFaulty) -> None:
    report = _certify(_can_manifest(tmp_path, f"{faulty.cls.__module__}:{faulty.name}"),
                      tmp_path / "out", TEETH)
    reference = {rid: r["verdict"] for (_, rid), r in _by_case(over_can).items()}
    verdicts = {rid: r["verdict"] for (_, rid), r in _by_case(report).items()}
    failed = {rid for rid, v in verdicts.items() if v != "pass"}
    assert failed == faulty.breaks, verdicts
    assert all(verdicts[rid] == "fail" for rid in faulty.breaks), verdicts
    assert all(reference[rid] == "pass" for rid in verdicts), reference


@pytest.mark.slow
def test_a_correct_node_made_otherwise_passes_over_can(tmp_path: Path) -> None:
    """A BMU node whose contactor manager is brisker than the reference's (precharge given
    up after 60 % of the declared timeout, main negative opened the step after main
    positive) passes every case the faulty nodes are judged on, its pin times measured as
    they are."""
    node = BriskContactorsBmu
    report = _certify(_can_manifest(tmp_path, f"{node.__module__}:{node.__name__}"),
                      tmp_path / "out", TEETH)
    results = _by_case(report)
    assert results and all(r["verdict"] == "pass" for r in results.values()), {
        key: (r["verdict"], r["evidence"]["message"][:300]) for key, r in results.items()}
    measured = {c["name"]: c["measured"] for r in results.values() for c in r["criteria"]}
    timeout = 2.0 * node.PRECHARGE_SHARE  # the manifest's precharge_timeout_s: 2 s
    assert timeout - 0.03 <= measured["attempt_duration_s"] <= timeout, measured
    assert measured["negative_open_delay_s"] <= 1e-9, measured  # the reference: 0.01 s


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
    loop = ClosedLoop(h.spec, RestingBench(), node, ["safety_supervisor"], h.session.dimensions,
                      standard_channels() + watch.channels())
    return loop, watch


def test_a_hidden_signal_is_neither_read_nor_set_and_the_case_is_inconclusive(
        harness: Harness) -> None:
    loop, _ = _loop(harness, zero_limits=True, hidden=True)
    loop.run(0.2)
    why = "no frame of the CAN catalog carries contactor_open_request from the BMU"
    for read in (lambda: loop.channel("contactor_open_request"), lambda: loop.trace,
                 lambda: loop.seen["contactor_open_request"],
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
    assert loop.seen is loop.pool  # the test cases' reads cost nothing in process
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


def _header(manifest: Path) -> list[str]:
    cert = Certification.prepare(manifest, None, Path("/nonexistent"))
    try:
        return cert.header_lines()
    finally:
        cert.close()


def test_the_run_says_first_what_the_bus_keeps_from_the_loop(tmp_path: Path) -> None:
    """Before anything runs, the vendor reads which signals the bus hides from the loop and
    that the block profile cannot be certified over CAN (its requirements that need them are
    inconclusive); a node claiming only its CAN profile gets no such line."""
    said = [line for line in _header(_can_manifest(tmp_path)) if "cannot see" in line]
    assert len(said) == 1
    hidden, undeliverable = observability(load_spec(), list(BLOCKS))
    assert "contactor_open_request" in hidden and "dtc_status" in hidden
    assert all(name in said[0] for name in (*hidden, *undeliverable))
    assert "cannot be certified over this transport" in said[0]
    plain = _header(ROOT / "reference_impl" / "manifest_can_bmu.yaml")
    assert not [line for line in plain if "cannot see" in line]
