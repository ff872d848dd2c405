"""Each fault kind changes exactly what it should, only inside its window and index.

Every test runs two benches with the same seed, one with the fault: the sensors' noise
does not depend on the faults, so any difference between the two is the fault's doing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from conformance.bench import (
    Bench,
    BenchConfig,
    Dropout,
    FailToClose,
    Fault,
    FaultError,
    Gain,
    Noise,
    Offset,
    OpenWire,
    Stuck,
    fault_of,
)

from .bench_helpers import PRECHARGE, differences


def _pair_trace(fault: Fault, duration_s: float = 1.5, cfg: BenchConfig | None = None,
                commands: dict[str, bool] | None = None) -> list[tuple[float, dict, dict]]:
    cfg = cfg or BenchConfig(seed=4)
    ref, dut = Bench(cfg), Bench(cfg)
    dut.inject(fault)
    out: list[tuple[float, dict[str, Any], dict[str, Any]]] = []
    for b in (ref, dut):
        b.apply(commands or PRECHARGE)
    while ref.t < duration_s:
        out.append((ref.t, ref.measurements(), dut.measurements()))
        ref.advance()
        dut.advance()
    return out


def _window(trace, start: float, end: float, cycle: float = 0.0):
    """Split a trace by whether the delivered sample lies in [start, end)."""
    inside, outside = [], []
    for t, a, b in trace:
        t_ref = t - a["cell_monitor_age_s"] if cycle else t
        (inside if start - 1e-9 <= t_ref < end - 1e-9 else outside).append((t, a, b))
    return inside, outside


@pytest.mark.parametrize("signal,kind,params,expect", [
    ("pack_current_A", "offset", {"value": 2.5}, lambda a, t: a + 2.5),
    ("pack_voltage_V", "gain", {"factor": 1.1}, lambda a, t: a * 1.1),
    ("link_voltage_V", "ramp", {"rate": 10.0}, lambda a, t: a + 10.0 * (t - 0.5)),
    ("cell_monitor_age_s", "offset", {"value": 1.0}, lambda a, t: a + 1.0),
    ("precharge_closed_fb", "stuck", {"value": False}, lambda a, t: False),
])
def test_scalar_faults_change_only_their_signal_inside_the_window(signal, kind, params, expect):
    trace = _pair_trace(fault_of(kind, signal=signal, start_s=0.5, end_s=1.0, **params))
    inside, outside = _window(trace, 0.5, 1.0)
    for _, a, b in outside:
        assert not differences(a, b)
    changed = 0
    for t, a, b in inside:
        assert differences(a, b) <= {(signal, None)}
        assert b[signal] == pytest.approx(expect(a[signal], t), rel=1e-12, abs=1e-12)
        changed += bool(differences(a, b))
    assert changed >= len(inside) - 1  # (a ramp starts at zero offset)


def test_noise_fault_has_the_requested_spread() -> None:
    trace = _pair_trace(Noise(signal="pack_voltage_V", std=2.0, start_s=0.2),
                        duration_s=20.0)
    inside, outside = _window(trace, 0.2, 1e9)
    assert all(not differences(a, b) for _, a, b in outside)
    d = np.array([b["pack_voltage_V"] - a["pack_voltage_V"] for _, a, b in inside])
    assert all(differences(a, b) == {("pack_voltage_V", None)} for _, a, b in inside)
    assert d.std() == pytest.approx(2.0, rel=0.1) and abs(d.mean()) < 0.2


def test_stuck_freezes_the_first_affected_value() -> None:
    cfg = BenchConfig(seed=4)
    trace = _pair_trace(Stuck(signal="link_voltage_V", start_s=0.05, end_s=0.3),
                        cfg=cfg)
    inside, outside = _window(trace, 0.05, 0.3)
    frozen = inside[0][1]["link_voltage_V"]
    assert all(b["link_voltage_V"] == frozen for _, _, b in inside)
    assert inside[-1][1]["link_voltage_V"] > frozen + 100  # the real link kept charging
    assert all(not differences(a, b) for _, a, b in outside)


def test_contactor_feedback_dropout_holds_the_feedback() -> None:
    trace = _pair_trace(Dropout(signal="main_negative_closed_fb", end_s=0.5))
    inside, outside = _window(trace, 0.0, 0.5)
    assert all(b["main_negative_closed_fb"] is False for _, _, b in inside)
    assert inside[-1][1]["main_negative_closed_fb"] is True
    assert all(not differences(a, b) for _, a, b in outside)


@pytest.mark.parametrize("signal,kind,params", [
    ("cell_voltage_V", "offset", {"value": 0.05}),
    ("cell_voltage_V", "gain", {"factor": 1.02}),
    ("cell_voltage_V", "ramp", {"rate": 0.1}),
    ("cell_temperature_degC", "offset", {"value": 20.0}),
    ("cell_temperature_degC", "noise", {"std": 3.0}),
    ("cell_voltage_V", "stuck", {}),
    ("cell_voltage_valid", "stuck", {"value": False}),
])
def test_cell_array_faults_change_only_their_index_from_the_sample_in_the_window(
        signal, kind, params):
    index = 3
    trace = _pair_trace(fault_of(kind, signal=signal, index=index, start_s=0.5, end_s=1.05,
                              **params))
    inside, outside = _window(trace, 0.5, 1.05, cycle=0.1)
    assert all(not differences(a, b) for _, a, b in outside)
    assert inside and all(t - a["cell_monitor_age_s"] >= 0.5 - 1e-9 for t, a, _ in inside)
    for t, a, b in inside:
        d = differences(a, b)
        assert d <= {(signal, index)}
        ramp_at_zero = kind == "ramp" and t - a["cell_monitor_age_s"] < 0.5 + 1e-9
        if (kind != "stuck" or signal.endswith("_valid")) and not ramp_at_zero:
            assert d == {(signal, index)}, t
    values = [b[signal][index] for _, _, b in inside]
    t_sample = np.array([t - a["cell_monitor_age_s"] for t, a, _ in inside])
    a_vals = np.array([a[signal][index] for _, a, _ in inside])
    if kind == "offset":
        np.testing.assert_allclose(values, a_vals + params["value"])
    elif kind == "gain":
        np.testing.assert_allclose(values, a_vals * params["factor"])
    elif kind == "ramp":
        np.testing.assert_allclose(values, a_vals + params["rate"] * (t_sample - 0.5))
    elif kind == "stuck" and not signal.endswith("_valid"):
        assert len(set(values)) == 1 and len(set(a_vals)) > 1


def test_open_wire_reads_zero_volt_and_invalid() -> None:
    trace = _pair_trace(OpenWire(signal="cell_voltage_V", index=7, start_s=0.5))
    inside, outside = _window(trace, 0.5, 1e9, cycle=0.1)
    assert all(not differences(a, b) for _, a, b in outside)
    for _, _, b in inside:
        assert b["cell_voltage_V"][7] == 0.0 and not b["cell_voltage_valid"][7]
        assert b["cell_voltage_valid"].sum() == 95
    assert all(differences(a, b) == {("cell_voltage_V", 7), ("cell_voltage_valid", 7)}
               for _, a, b in inside)


def test_open_wire_temperature_reads_minus_50_and_invalid() -> None:
    trace = _pair_trace(OpenWire(signal="cell_temperature_degC", index=0))
    for _, a, b in trace:
        assert b["cell_temperature_degC"][0] == -50.0 and not b["cell_temperature_valid"][0]
        assert differences(a, b) == {("cell_temperature_degC", 0), ("cell_temperature_valid", 0)}


def test_cell_monitor_dropout_holds_every_array_and_ages() -> None:
    bench = Bench(BenchConfig(seed=4))
    bench.inject(Dropout(signal="cell_temperature_degC", start_s=0.5, end_s=1.0))
    bench.run(0.45)
    held = bench.measurements()
    assert held["cell_monitor_age_s"] == pytest.approx(0.05)
    while bench.t < 0.995:
        m = bench.measurements()
        assert m["cell_voltage_V"] is held["cell_voltage_V"]
        assert m["cell_temperature_degC"] is held["cell_temperature_degC"]
        assert m["cell_monitor_age_s"] == pytest.approx(bench.t - 0.4)
        assert m["current_sensor_age_s"] == 0.0  # the other sensors keep sampling
        bench.advance()
    m = bench.measurements()  # t = 1.0: the window has ended, the monitor samples again
    assert m["cell_monitor_age_s"] == 0.0 and m["cell_voltage_V"] is not held["cell_voltage_V"]


def test_current_sensor_dropout_holds_current_and_hv_voltages() -> None:
    bench = Bench(BenchConfig(seed=4))
    bench.apply(PRECHARGE)
    bench.inject(Dropout(signal="pack_current_A", start_s=0.2, end_s=0.4))
    bench.run(0.19)
    held = bench.measurements()
    bench.run(0.1)
    m = bench.measurements()
    for name in ("pack_current_A", "pack_voltage_V", "link_voltage_V"):
        assert m[name] == held[name], name
    assert m["current_sensor_age_s"] == pytest.approx(0.1)
    assert m["cell_monitor_age_s"] < 0.1
    bench.run(0.2)
    m = bench.measurements()
    assert m["current_sensor_age_s"] == 0.0 and m["link_voltage_V"] > held["link_voltage_V"]


def test_insulation_faults_act_on_the_isolation_monitor_sample() -> None:
    bench = Bench(BenchConfig(seed=4))
    r0 = bench.measurements()["insulation_resistance_ohm"]
    bench.inject(Gain(signal="insulation_resistance_ohm", factor=0.01, start_s=0.05))
    bench.run(0.05)
    assert bench.measurements()["insulation_resistance_ohm"] == r0  # sample of t = 0
    bench.run(0.05)
    r1 = bench.measurements()["insulation_resistance_ohm"]
    assert r1 == pytest.approx(0.01 * 5e6, rel=0.1)
    assert bench.truth()["true_insulation_resistance_ohm"] == 5e6


def test_faults_never_touch_the_truth() -> None:
    cfg = BenchConfig(seed=2)
    ref, dut = Bench(cfg), Bench(cfg)
    for f in (Offset(signal="cell_voltage_V", value=1.0),
              Noise(signal="pack_current_A", std=5.0),
              OpenWire(signal="cell_temperature_degC", index=1),
              Stuck(signal="main_negative_closed_fb", value=False)):
        dut.inject(f)
    for b in (ref, dut):
        b.apply(PRECHARGE)
        b.run(1.0)
    tr_ref, tr_dut = ref.truth(), dut.truth()
    assert not differences(tr_ref, tr_dut)


def test_clear_faults_restores_the_healthy_view() -> None:
    cfg = BenchConfig(seed=2)
    ref, dut = Bench(cfg), Bench(cfg)
    dut.inject(Offset(signal="cell_voltage_V", value=0.1, index=0))
    dut.inject(FailToClose(signal="main_positive"))
    assert differences(ref.measurements(), dut.measurements()) == {("cell_voltage_V", 0)}
    dut.clear_faults()
    assert dut.faults == []
    assert not differences(ref.measurements(), dut.measurements())


@pytest.mark.parametrize("kwargs,message", [
    (dict(signal="cell_voltage", kind="offset", value=1), "unknown signal"),
    (dict(signal="pack_current_A", kind="open_wire"), "takes a kind among"),
    (dict(signal="pack_current_A", kind="offset"), "needs a finite number value"),
    (dict(signal="pack_current_A", kind="gain", factor=None), "needs a finite number factor"),
    (dict(signal="pack_current_A", kind="offset", value=1, index=2), "index is only for"),
    (dict(signal="cell_voltage_valid", kind="offset", value=1), "takes a kind among"),
    (dict(signal="main_positive", kind="shorted_link"), "expected a kind among"),
    (dict(signal="cell_monitor_age_s", kind="dropout"), "takes a kind among"),
    (dict(signal="pack_current_A", kind="stuck", start_s=2.0, end_s=1.0), "end_s"),
    (dict(signal="pack_current_A", kind="stuck", value="high"), "value: expected a finite"),
])
def test_bad_faults_are_explained(kwargs, message) -> None:
    with pytest.raises(FaultError, match=message):
        fault_of(**kwargs)


def test_out_of_range_index_is_explained() -> None:
    bench = Bench(BenchConfig(n_cells=8, n_temp_sensors=2))
    with pytest.raises(FaultError, match=r"index: expected 0 … 1, found 2"):
        bench.inject(OpenWire(signal="cell_temperature_degC", index=2))
