"""The harness on its own: wiring by signal name, trace recording, judging, selection."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conformance.harness.context import Harness, Session
from conformance.harness.loop import ClosedLoop, TraceChannel
from conformance.manifest import safety_core_manifest_path
from conformance.report.model import compare
from conformance.session import Certification, unjudged_verdict
from conformance.spec import load_spec


class _Bench:
    """A minimal plant: time, one measured array that changes every 3 steps, commands seen."""

    class config:  # noqa: N801 - mirrors BenchConfig's attribute access
        dt_s = 0.01

    def __init__(self) -> None:
        from conformance.bench.clock import Clock

        self.clock = Clock(0.01)
        self.applied: list[bool] = []
        self._v = np.full(4, 3.7)

    @property
    def t(self) -> float:
        return self.clock.t

    def measurements(self) -> dict[str, Any]:
        if self.clock.step % 3 == 0:
            self._v = np.full(4, 3.7 + 0.001 * self.clock.step)
        return {"cell_voltage_V": self._v, "pack_current_A": 1.0}

    def apply(self, pool: dict[str, Any]) -> None:
        self.applied.append(bool(pool["contactor_open_request"]))

    def advance(self) -> None:
        self.clock.tick()


class _Adapter:
    """Two fake components: the supervisor echoes a count; diagnostics reads it."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, dict[str, Any]]] = []

    def step(self, component: str, t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        self.calls.append((component, t, dict(inputs)))
        if component == "safety_supervisor":
            return {"contactor_open_request": t >= 0.02, "safety_fault_flags": int(t * 100)}
        return {}


@pytest.fixture(scope="module")
def spec():
    return load_spec()


def test_components_are_wired_by_signal_name_in_profile_order(spec) -> None:
    adapter = _Adapter()
    loop = ClosedLoop(spec, _Bench(), adapter, ["safety_supervisor", "diagnostics"],
                      {"cell": 4, "temperature_sensor": 2, "dtc": len(spec.dtc_table)}, [])
    loop.run(0.05)
    sup = [c for c in adapter.calls if c[0] == "safety_supervisor"]
    diag = [c for c in adapter.calls if c[0] == "diagnostics"]
    assert len(sup) == len(diag) == 5
    # exactly the interface's inputs, measurements from the bench
    assert set(sup[0][2]) == {p.signal for p in spec.interfaces["safety_supervisor"].inputs}
    assert sup[0][2]["pack_current_A"] == 1.0
    # diagnostics (later in the order) sees the supervisor's output of the same step
    assert [c[2]["safety_fault_flags"] for c in diag] == [int(c[1] * 100) for c in diag]
    # the bench receives the commands of the step
    assert loop.bench.applied == [False, False, True, True, True]


def test_trace_recorder_reduces_arrays_and_reads_scalars(spec) -> None:
    channels = [TraceChannel("vmax", "V", "cell_voltage_V", "max"),
                TraceChannel("i", "A", "pack_current_A"),
                TraceChannel("open", "1", "contactor_open_request"),
                TraceChannel("custom", "1", read=lambda pool: 7.0)]
    loop = ClosedLoop(spec, _Bench(), _Adapter(), ["safety_supervisor"],
                      {"cell": 4, "temperature_sensor": 2, "dtc": len(spec.dtc_table)}, channels)
    loop.run(0.06)
    assert loop.channel("vmax").tolist() == pytest.approx(
        [3.7, 3.7, 3.7, 3.703, 3.703, 3.703])
    assert loop.channel("i").tolist() == [1.0] * 6
    assert loop.channel("open").tolist() == [0, 0, 1, 1, 1, 1]
    assert loop.channel("custom").tolist() == [7.0] * 6
    assert loop.t_s == pytest.approx([0.0, 0.01, 0.02, 0.03, 0.04, 0.05])


def test_run_stops_at_the_condition_and_rounds_durations_up(spec) -> None:
    loop = ClosedLoop(spec, _Bench(), _Adapter(), ["safety_supervisor"],
                      {"cell": 4, "temperature_sensor": 2, "dtc": len(spec.dtc_table)}, [])
    t = loop.run(1.0, until=lambda pool: bool(pool["contactor_open_request"]))
    assert t == pytest.approx(0.02) and loop.steps == 3
    loop.run(0.025)  # 2.5 steps → 3
    assert loop.steps == 6
    with pytest.raises(KeyError, match="not a signal"):
        loop.set("no_such_signal", 1)


@pytest.fixture
def cert(tmp_path: Path):
    c = Certification.prepare(safety_core_manifest_path(), None, tmp_path)
    assert c.session is not None and not c.refused
    yield c
    c.close()


def _harness(cert: Certification) -> Harness:
    assert cert.session is not None
    return Harness(cert.session, "t::case", ["OBSA-SAFE-001"])


def test_judge_takes_limits_from_spec_and_manifest(cert: Certification) -> None:
    h = _harness(cert)
    r = h.judge("OBSA-SAFE-001", {"trip_threshold_error_V": 0.004, "reaction_time_s": 0.3})
    assert r.verdict == "fail"
    by = {c.name: c for c in r.criteria}
    error = by["trip_threshold_error_V"]
    assert error.passed and error.limit_source == "spec"
    assert not by["reaction_time_s"].passed
    assert by["reaction_time_s"].limit == 0.2
    assert by["reaction_time_s"].limit_source == (
        "manifest:safety_supervisor.cell_voltage_max_fault_delay_s")
    ok = h.judge("OBSA-SAFE-001", {"trip_threshold_error_V": 0.0, "reaction_time_s": 0.19})
    assert ok.verdict == "pass"
    unseen = h.judge("OBSA-SAFE-001", {"trip_threshold_error_V": None, "reaction_time_s": 0.1})
    assert unseen.verdict == "fail" and unseen.criteria[0].note == "not observed"


def test_judge_refuses_a_test_case_that_measures_something_else(cert: Certification) -> None:
    h = _harness(cert)
    with pytest.raises(RuntimeError, match="defines"):
        h.judge("OBSA-SAFE-001", {"reaction_time_s": 0.1})
    with pytest.raises(RuntimeError, match="defines"):
        h.judge("OBSA-SAFE-001", {"trip_threshold_error_V": 0, "reaction_time_s": 0, "x": 1})


def test_a_time_seen_over_a_bus_is_allowed_the_frame_lag_unless_on_pins(
        cert: Certification) -> None:
    """Over a bus a reaction shows up to a frame period after the decision: an upper bound on
    a time ending at a frame is judged with that period taken off; one measured up to a
    contactor command, which the bench reads from the module's pin at the step it changes,
    is judged as measured (else a node 0.1 s late on a pin would pass)."""
    h = _harness(cert)

    class Loop:  # the one attribute criteria() reads of a loop over CAN
        observation_lag_s = 0.105

    measured = {"order_violations": 0, "negative_open_delay_s": 0.1}  # declared: 0.02 s
    assert not h.criteria("OBSA-CONT-007", measured)[1].passed  # in process: no lag
    h.loop = Loop()  # type: ignore[assignment]
    late = h.criteria("OBSA-CONT-007", measured)[1]
    assert late.passed and "seen over the bus up to 0.105 s" in late.note
    on_pins = h.criteria("OBSA-CONT-007", measured, on_pins=("negative_open_delay_s",))[1]
    assert not on_pins.passed and on_pins.note == ""
    with pytest.raises(RuntimeError, match=r"on pins \['negative_open_delay'\]"):
        h.criteria("OBSA-CONT-007", measured, on_pins=("negative_open_delay",))


def test_compare_allows_float_time_sums_but_not_more() -> None:
    assert compare(2.0000000000000004, "<=", 2.0)
    assert not compare(2.001, "<=", 2.0)
    assert not compare(math.nan, "<=", 2.0) and not compare(None, "<=", 2.0)
    assert compare(0, "==", 0) and not compare(1, "==", 0)


def test_selection_by_profile_level_and_feature(cert: Certification) -> None:
    assert cert.applicable(["OBSA-SAFE-001", "OBSA-SAFE-025", "OBSA-SOC-002"]) == [
        "OBSA-SAFE-001", "OBSA-SAFE-025"]  # SOC is not in the claimed profile
    cert.manifest = cert.manifest.model_copy(update={"features": []})  # type: ignore[union-attr]
    assert cert.applicable(["OBSA-SAFE-025", "OBSA-CONT-008"]) == []  # conditional, unclaimed


def test_unjudged_verdicts() -> None:
    from conformance.adapters import AdapterError
    from conformance.harness.context import PreconditionFailed

    assert unjudged_verdict(AdapterError("boom", component="x", call="step"))[0] == "error"
    assert unjudged_verdict(PreconditionFailed("no fault"))[0] == "inconclusive"
    assert unjudged_verdict(ValueError("bug"))[0] == "error"
    assert unjudged_verdict(None)[1].endswith("recorded no verdict for this requirement")


def test_harness_reads_spec_facts(cert: Certification) -> None:
    h = _harness(cert)
    assert isinstance(h.session, Session)
    assert h.bit("safety_supervisor", "cell_undervoltage") == 2
    assert h.enum("contactor_state", "closed") == 2
    assert h.dtc_row("safety_supervisor", "cell_overvoltage") == 0
    with pytest.raises(KeyError):
        h.bit("safety_supervisor", "no_such_fault")


def test_a_bench_override_of_the_pack_sizes_the_unproduced_arrays(cert: Certification) -> None:
    """A loop on a bench of another pack size than the manifest's (a benchmark's 9600 cells)
    starts the arrays nobody produces yet at the bench's size, so the plant takes them."""
    h = _harness(cert)
    loop = h.run(n_cells=12, n_temp_sensors=3)
    assert len(loop.pool["balancing_cmd"]) == 12
    assert len(loop.pool["cell_voltage_V"]) == 12
    loop.run(0.05)  # the bench applies balancing_cmd every step
    assert loop.bench.config.n_cells == 12
