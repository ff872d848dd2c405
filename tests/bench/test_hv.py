"""HV circuit: contactor delays and feedback, exact precharge RC, load path, HV faults."""

import math

import pytest

from conformance.bench import Bench, BenchConfig, FailToClose, OpenResistor, ShortedLink, Welded

from .bench_helpers import CLOSED, OPEN, PRECHARGE, close_path


def _precharge_done_time(bench: Bench, limit_s: float = 3.0) -> float | None:
    """First time with |V_link − V_pack| < 1 V (true values), or None within ``limit_s``."""
    bench.apply(PRECHARGE)
    while bench.t < limit_s:
        bench.advance()
        tr = bench.truth(arrays=False)
        if abs(tr["true_link_voltage_V"] - tr["true_pack_voltage_V"]) < 1.0:
            return bench.t
    return None


def test_precharge_follows_the_exact_rc_solution() -> None:
    cfg = BenchConfig()
    bench = Bench(cfg)
    e = bench.truth(arrays=False)["true_pack_voltage_V"]  # at rest: the source voltage
    r_pack = cfg.n_cells * bench.cells.r0_ohm
    r_s = cfg.precharge_resistance_ohm + r_pack
    r_b = cfg.bleeder_resistance_ohm
    tau = cfg.link_capacitance_F * r_s * r_b / (r_s + r_b)
    v_inf = e * r_b / (r_b + r_s)
    # |V_link − V_pack| = ((E − V_inf) + V_inf·e^(−s/τ)) · R_pre / R_s  <  1 V
    s = tau * math.log(v_inf / (r_s / cfg.precharge_resistance_ohm - (e - v_inf)))
    expected = cfg.contactor_close_delay_s + s
    done = _precharge_done_time(bench)
    assert done is not None
    assert expected - 1e-9 <= done < expected + cfg.dt_s + 1e-9
    assert 0.4 < done < 0.6  # the design target: about half a second at ~360 V


def test_precharge_current_is_the_capacitor_charging_current() -> None:
    cfg = BenchConfig()
    bench = Bench(cfg)
    bench.apply(PRECHARGE)
    bench.run(cfg.contactor_close_delay_s)
    tr = bench.truth(arrays=False)
    e = tr["true_pack_voltage_V"] - tr["true_pack_current_A"] * bench.cells.pack_r0_ohm
    r_s = cfg.precharge_resistance_ohm + bench.cells.pack_r0_ohm
    assert tr["true_pack_current_A"] == pytest.approx(-e / r_s, rel=1e-9)  # link at 0 V
    assert -5.0 < tr["true_pack_current_A"] < -4.0


def test_open_precharge_resistor_never_completes() -> None:
    bench = Bench()
    bench.inject(OpenResistor(signal="precharge"))
    assert _precharge_done_time(bench) is None
    tr = bench.truth(arrays=False)
    assert tr["true_link_voltage_V"] == 0.0 and tr["true_pack_current_A"] == 0.0
    assert tr["true_precharge_closed"]  # the contactor itself works


def test_shorted_link_holds_the_link_at_zero() -> None:
    cfg = BenchConfig()
    bench = Bench(cfg)
    bench.inject(ShortedLink(signal="precharge"))
    assert _precharge_done_time(bench) is None
    tr = bench.truth(arrays=False)
    assert tr["true_link_voltage_V"] == 0.0
    assert tr["true_pack_current_A"] < -4.0  # the resistor carries the short


def test_contactors_follow_commands_after_their_delays() -> None:
    cfg = BenchConfig(contactor_close_delay_s=0.03, contactor_open_delay_s=0.02)
    bench = Bench(cfg)
    bench.run(0.1)
    bench.apply({"main_negative_close_cmd": True})
    t_cmd = bench.t
    seen = []
    for _ in range(6):
        m = bench.measurements()
        seen.append((round(bench.t - t_cmd, 9), m["main_negative_closed_fb"]))
        truth = bench.truth(arrays=False)
        assert m["main_negative_closed_fb"] == truth["true_main_negative_closed"]
        bench.advance()
    assert seen == [(0.0, False), (0.01, False), (0.02, False), (0.03, True), (0.04, True),
                    (0.05, True)]
    bench.apply({"main_negative_close_cmd": False})
    bench.advance()
    assert bench.measurements()["main_negative_closed_fb"]
    bench.advance()
    assert not bench.measurements()["main_negative_closed_fb"]
    m = bench.measurements()
    assert not m["main_positive_closed_fb"] and not m["precharge_closed_fb"]


def test_a_command_withdrawn_before_the_delay_does_not_close() -> None:
    bench = Bench()
    bench.apply({"precharge_close_cmd": True})
    bench.advance()
    bench.apply({"precharge_close_cmd": False})
    bench.run(0.2)
    assert not bench.truth(arrays=False)["true_precharge_closed"]


def test_closed_path_carries_the_load_and_opening_stops_it() -> None:
    bench = Bench()
    close_path(bench)
    bench.set_load_current(-120.0)
    bench.advance()
    tr = bench.truth(arrays=False)
    assert tr["true_pack_current_A"] == -120.0
    assert tr["true_link_voltage_V"] == tr["true_pack_voltage_V"]
    assert len(bench.main_path_closings) == 1
    assert abs(bench.main_path_closings[0].voltage_step_V) < 1.0
    bench.apply(OPEN)
    bench.run(0.1)
    tr = bench.truth(arrays=False)
    assert tr["true_pack_current_A"] == 0.0
    v_link = tr["true_link_voltage_V"]
    assert 0.9 * tr["true_pack_voltage_V"] < v_link < tr["true_pack_voltage_V"]
    bench.run(100.0)  # the bleeder: τ = 100 kΩ · 1 mF = 100 s
    assert bench.truth(arrays=False)["true_link_voltage_V"] == pytest.approx(
        v_link * math.exp(-100.0 / 100.0), rel=0.01)


def test_closing_without_precharge_is_logged_with_the_full_voltage_step() -> None:
    bench = Bench()
    bench.apply(CLOSED)
    bench.run(0.1)
    (closing,) = bench.main_path_closings
    assert closing.link_voltage_V == 0.0
    assert closing.voltage_step_V > 300.0
    assert closing.t_s == pytest.approx(0.03)


def test_welded_contactor_stays_closed_after_open_command() -> None:
    bench = Bench()
    close_path(bench)
    bench.inject(Welded(signal="main_positive"))
    bench.apply(OPEN)
    bench.run(0.5)
    m, tr = bench.measurements(), bench.truth(arrays=False)
    assert m["main_positive_closed_fb"] and tr["true_main_positive_closed"]
    assert not m["main_negative_closed_fb"]
    assert tr["true_pack_current_A"] == 0.0  # main negative opened: no path


def test_welded_fault_window_ends() -> None:
    bench = Bench()
    close_path(bench)
    bench.inject(Welded(signal="main_negative", start_s=0.0, end_s=bench.t + 0.3))
    bench.apply(OPEN)
    bench.run(0.2)
    assert bench.truth(arrays=False)["true_main_negative_closed"]
    bench.run(0.2)
    assert not bench.truth(arrays=False)["true_main_negative_closed"]


def test_fail_to_close_contactor_never_closes() -> None:
    bench = Bench()
    bench.inject(FailToClose(signal="main_negative"))
    bench.apply(PRECHARGE)
    bench.run(1.0)
    m, tr = bench.measurements(), bench.truth(arrays=False)
    assert not m["main_negative_closed_fb"] and not tr["true_main_negative_closed"]
    assert m["precharge_closed_fb"]
    assert tr["true_link_voltage_V"] == 0.0
