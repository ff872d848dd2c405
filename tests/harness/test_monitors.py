"""The always-on monitors on scripted traces: each invariant is broken once and kept once,
and the fairness rules hold (unit delay between components, inputs the test case drives
itself, the tolerance the spec allows).

The components here are scripts: each returns, per step, what a module would. End-to-end,
tests/faulty/test_certify_catalogue.py certifies the faulty modules of monitor_faults.py
that only the monitors and the newer test cases catch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from conformance.harness.context import Harness, standard_channels
from conformance.harness.loop import ClosedLoop
from conformance.harness.monitors import Watch, violations
from conformance.manifest import safety_core_manifest_path
from conformance.report.model import TestResult
from conformance.session import Certification

from .fakes import RestingBench

SUP, CM, DIAG = "safety_supervisor", "contactor_manager", "diagnostics"
Script = Callable[[float, dict[str, Any]], dict[str, Any]]


class _Adapter:
    def __init__(self, scripts: dict[str, Script]) -> None:
        self.scripts = scripts

    def step(self, component: str, t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        return self.scripts[component](t, inputs)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory):
    c = Certification.prepare(safety_core_manifest_path(), None,
                              tmp_path_factory.mktemp("monitors"))
    assert c.session is not None and not c.refused
    yield c
    c.close()


@pytest.fixture
def h(cert: Certification) -> Harness:
    assert cert.session is not None
    return Harness(cert.session, "t::case", [])


def _run(h: Harness, scripts: dict[str, Script], seconds: float = 0.3,
         bench: RestingBench | None = None, every: Callable[[ClosedLoop], None] | None = None
         ) -> tuple[ClosedLoop, Watch]:
    components = list(scripts)
    watch = Watch(h.spec, components)
    assert h.session.dimensions
    loop = ClosedLoop(h.spec, bench or RestingBench(), _Adapter(scripts), components,
                      h.session.dimensions, standard_channels() + watch.channels())
    loop.run(seconds, every=every)
    return loop, watch


def _found(h: Harness, loop: ClosedLoop, watch: Watch) -> dict[str, float]:
    return {v.requirement: v.t_s for v in violations(h, loop, watch)}


def _supervisor(h: Harness, *, fault_at: float, zero_limits: bool = True,
                clear_at: float | None = None, nominal_A: float = 100.0) -> Script:
    bit = h.bit(SUP, "cell_overvoltage")

    def step(t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        faulted = t >= fault_at - 1e-9 and (clear_at is None or t < clear_at - 1e-9)
        limit = 0.0 if faulted and zero_limits else nominal_A
        return {"safety_fault_flags": bit if faulted else 0, "contactor_open_request": faulted,
                "charge_current_limit_A": limit, "discharge_current_limit_A": limit}

    return step


def test_a_latched_fault_with_current_limits_fails_safe_016(h: Harness) -> None:
    loop, watch = _run(h, {SUP: _supervisor(h, fault_at=0.1, zero_limits=False)})
    found = violations(h, loop, watch)
    assert [v.requirement for v in found] == ["OBSA-SAFE-016"]
    assert found[0].t_s == pytest.approx(0.1)
    assert found[0].message().startswith("always-on monitor:")
    assert "charge/discharge limit = 100 / 100 A" in found[0].message()
    loop, watch = _run(h, {SUP: _supervisor(h, fault_at=0.1)})
    assert _found(h, loop, watch) == {}


def test_a_fault_clearing_without_reset_fails_safe_013(h: Harness) -> None:
    loop, watch = _run(h, {SUP: _supervisor(h, fault_at=0.05, clear_at=0.2)})
    assert _found(h, loop, watch) == {"OBSA-SAFE-013": pytest.approx(0.2)}

    def reset_pulse(lp: ClosedLoop) -> None:  # a reset 0.05 s before the fault clears
        lp.set("fault_reset_request", 0.15 - 1e-9 <= lp.t < 0.17)

    loop, watch = _run(h, {SUP: _supervisor(h, fault_at=0.05, clear_at=0.2)},
                       every=reset_pulse)
    assert _found(h, loop, watch) == {}


def test_reset_while_present_is_judged_with_the_spec_tolerance(h: Harness) -> None:
    msl = float(h.param(SUP, "cell_voltage_max_msl_V"))
    hyst = float(h.param(SUP, "cell_voltage_max_hysteresis_V"))
    tol = float(h.spec.requirements["OBSA-SAFE-001"].acceptance[0].value or 0.0)

    def reset(lp: ClosedLoop) -> None:
        lp.set("fault_reset_request", lp.t >= 0.2 - 1e-9)

    for healed_by, expected in ((tol / 2, {}), (2 * tol, {"OBSA-SAFE-014"})):
        level = msl - hyst + healed_by
        def voltage(t: float, level: float = level) -> float:
            return msl + 0.1 if t < 0.1 else level

        bench = RestingBench(voltage=voltage)
        # (limits derated: the voltage stays above the RSL)
        loop, watch = _run(h, {SUP: _supervisor(h, fault_at=0.05, clear_at=0.2, nominal_A=0.0)},
                           bench=bench, every=reset)
        assert set(_found(h, loop, watch)) == set(expected), healed_by


def _manager(closes_at: float) -> Script:
    def step(t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        closed = t >= closes_at - 1e-9
        return {"main_negative_close_cmd": closed, "main_positive_close_cmd": False,
                "precharge_close_cmd": False, "contactor_fault_flags": 0}

    return step


def _opener(at: float) -> Script:
    def step(t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"contactor_open_request": t >= at - 1e-9, "safety_fault_flags": 0,
                "charge_current_limit_A": 0.0, "discharge_current_limit_A": 0.0}

    return step


def test_an_input_from_a_later_component_is_judged_one_step_late(h: Harness) -> None:
    """The manager steps before the component raising the open request: it sees the request
    one step later, so a close command in that very step is no violation — one step after,
    it is."""
    loop, watch = _run(h, {CM: _manager(closes_at=0.1), SUP: _opener(at=0.1)})
    assert "OBSA-CONT-010" not in _found(h, loop, watch)
    loop, watch = _run(h, {CM: _manager(closes_at=0.11), SUP: _opener(at=0.1)})
    assert _found(h, loop, watch)["OBSA-CONT-010"] == pytest.approx(0.11)
    # in the profile's order the manager sees the request in the same step
    loop, watch = _run(h, {SUP: _opener(at=0.1), CM: _manager(closes_at=0.1)})
    assert _found(h, loop, watch)["OBSA-CONT-010"] == pytest.approx(0.1)


def test_a_component_run_alone_is_judged_on_the_inputs_the_test_case_drives(
        h: Harness) -> None:
    """The fault memory alone, the flags written by the test case: the supervisor's
    invariants are not checked (its outputs are the test case's), the memory's are."""
    bit = h.bit(SUP, "cell_overvoltage")
    counts = iter([0] * 10 + [1] * 10 + [0] * 100)

    def memory(t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        n = len(h.spec.dtc_table)
        occurrences = np.zeros(n)
        occurrences[h.dtc_row(SUP, "cell_overvoltage")] = next(counts)
        return {"dtc_status": np.zeros(n), "dtc_occurrences": occurrences,
                "dtc_first_time_s": np.full(n, -1.0), "dtc_last_time_s": np.full(n, -1.0)}

    def flags(lp: ClosedLoop) -> None:
        lp.set("safety_fault_flags", bit if lp.t >= 0.1 - 1e-9 else 0)

    loop, watch = _run(h, {DIAG: memory}, every=flags)
    found = _found(h, loop, watch)
    # a flag without open request is not the supervisor's; the counter falling back is
    assert "OBSA-SAFE-016" not in found
    assert found["OBSA-DIAG-001"] == pytest.approx(0.2)


def test_a_monitor_failure_replaces_the_test_cases_own_pass(h: Harness) -> None:
    loop, watch = _run(h, {SUP: _supervisor(h, fault_at=0.1, zero_limits=False)})
    h.loop = loop
    req = h.spec.requirements["OBSA-SAFE-016"]
    h.record(TestResult(test_case=h.test_case, requirement="OBSA-SAFE-016", title=req.title,
                        level=req.level, verdict="pass"))
    h.watched = [(loop, watch)]
    h.apply_monitors()
    assert [(r.requirement, r.verdict) for r in h.results] == [("OBSA-SAFE-016", "fail")]
    assert h.results[0].evidence.message.startswith("always-on monitor:")
    assert h.results[0].evidence.events == {"always-on monitor": pytest.approx(0.1)}
    h.apply_monitors()  # once only: the loops were consumed
    assert len(h.results) == 1


def test_a_monitor_failure_adds_to_the_test_cases_own_failure(h: Harness) -> None:
    loop, watch = _run(h, {SUP: _supervisor(h, fault_at=0.1, zero_limits=False)})
    h.loop = loop
    h.judge("OBSA-SAFE-016", {"open_request_delay_s": 0.5,
                              "current_limit_while_faulted_A": 100.0}, message="measured")
    h.watched = [(loop, watch)]
    h.apply_monitors()
    assert [(r.requirement, r.verdict) for r in h.results] == [("OBSA-SAFE-016", "fail")]
    assert h.results[0].evidence.message.startswith("measured; always-on monitor:")
    assert h.results[0].criteria  # the test case's own measurements stay


def test_opening_late_is_cont_006_and_closing_again_is_cont_010(h: Harness) -> None:
    def manager(closed_between: list[tuple[float, float]]) -> Script:
        def step(t: float, inputs: dict[str, Any]) -> dict[str, Any]:
            closed = any(a - 1e-9 <= t < b - 1e-9 for a, b in closed_between)
            return {"main_negative_close_cmd": closed, "main_positive_close_cmd": False,
                    "precharge_close_cmd": False, "contactor_fault_flags": 0}

        return step

    # opens at once on the request (0.1 s), closes again 0.05 s later while it stands
    loop, watch = _run(h, {SUP: _opener(at=0.1), CM: manager([(0.0, 0.1), (0.15, 1.0)])})
    assert set(_found(h, loop, watch)) == {"OBSA-CONT-010"}
    # stays closed: open 0.15 s after the request, beyond OBSA-CONT-006's 0.1 s
    loop, watch = _run(h, {SUP: _opener(at=0.1), CM: manager([(0.0, 0.25)])})
    found = _found(h, loop, watch)
    assert set(found) == {"OBSA-CONT-006"} and found["OBSA-CONT-006"] == pytest.approx(0.21)
    loop, watch = _run(h, {SUP: _opener(at=0.1), CM: manager([(0.0, 0.2)])})
    assert _found(h, loop, watch) == {}


def test_the_fault_memory_is_recorded_as_it_was_at_each_step(h: Harness) -> None:
    """The watch records an unchanged memory by sharing its rows, yet a list changed in
    place after many identical steps, a tuple or an array in its stead, and the flags the
    memory reads, are recorded at the step they change."""
    n = len(h.spec.dtc_table)
    status, occ, first, last = [0] * n, [0] * n, [-1.0] * n, [-1.0] * n
    calls = [0]

    def memory(t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        k = calls[0]
        calls[0] += 1
        if k == 50:
            occ[2], first[2] = 1, t  # in place: the very lists of every step before
        if k == 80:
            occ[2] = 2
        reply: dict[str, Any] = {"dtc_status": status, "dtc_occurrences": occ,
                                 "dtc_first_time_s": first, "dtc_last_time_s": last}
        if 60 <= k < 70:
            reply["dtc_status"] = tuple(status)
        if 70 <= k < 75:
            reply["dtc_last_time_s"] = np.full(n, t)
        return reply

    watch = Watch(h.spec, [DIAG])
    assert h.session.dimensions
    loop = ClosedLoop(h.spec, RestingBench(), _Adapter({DIAG: memory}), [DIAG],
                      h.session.dimensions, standard_channels() + watch.channels())
    expected: dict[str, list[np.ndarray]] = {name: [] for name in watch.dtc_names}
    flags: list[int] = []
    bit = h.bit(SUP, "cell_overvoltage")
    for k in range(120):
        loop.set("safety_fault_flags", bit if 30 <= k < 40 else 0)
        loop.step()
        for name, rows in expected.items():
            rows.append(np.array(loop.pool[name], dtype=float))
        flags.append(int(loop.pool["safety_fault_flags"]))
    recorded = watch.dtc
    for name, rows in expected.items():
        assert len(recorded[name]) == len(rows)
        for k, (got, want) in enumerate(zip(recorded[name], rows, strict=True)):
            assert np.array_equal(got, want), (name, k)
    assert watch.flags["safety_fault_flags"] == flags
    total = loop.channel("dtc_occurrences_total")
    assert list(total) == [float(r.sum()) for r in expected["dtc_occurrences"]]
    assert calls[0] > 80  # the memory stepped past every change
