"""Cell string: coulomb counting, R0 step, thermal model, spread and temperature sensors."""

import math

import numpy as np
import pytest

from conformance.bench import CHEMISTRIES, Bench, BenchConfig

from .bench_helpers import close_path


def test_charging_one_ampere_hour_raises_soc_by_one_over_capacity() -> None:
    cfg = BenchConfig(capacity_Ah=50.0, capacity_spread=0.05, seed=3)
    bench = Bench(cfg)
    close_path(bench)
    soc0 = bench.cell_soc()
    bench.set_load_current(50.0)
    bench.run(72.0)  # 50 A · 72 s = 1 Ah
    dsoc = bench.cell_soc() - soc0
    expected = 3600.0 / bench.cells.capacity_As
    np.testing.assert_allclose(dsoc, expected, rtol=1e-9)
    assert not np.allclose(expected, expected[0])  # the spread is real
    assert bench.cells.capacity_As.mean() == pytest.approx(50 * 3600, rel=0.05)


def test_discharge_lowers_soc_and_open_path_carries_no_current() -> None:
    bench = Bench(BenchConfig(initial_soc=0.8))
    bench.set_load_current(-100.0)
    bench.run(10.0)  # path open: the demand does not flow
    np.testing.assert_array_equal(bench.cell_soc(), 0.8)
    assert bench.truth()["true_pack_current_A"] == 0.0
    close_path(bench)
    soc0 = bench.cell_soc()
    bench.run(36.0)  # -100 A · 36 s = -1 Ah
    np.testing.assert_allclose(bench.cell_soc() - soc0, -1 / 50, rtol=1e-6)


def test_a_current_step_moves_every_cell_by_its_r0_drop() -> None:
    cfg = BenchConfig(resistance_spread=0.1, seed=5)
    bench = Bench(cfg)
    close_path(bench)
    before = bench.truth()["true_cell_voltage_V"]
    bench.set_load_current(100.0)
    after = bench.truth()["true_cell_voltage_V"]
    r0 = bench.cells.r0_ohm * bench.cells.resistance_factor
    np.testing.assert_allclose(after - before, r0 * 100.0, rtol=1e-6)
    tr = bench.truth()
    assert tr["true_pack_voltage_V"] == pytest.approx(tr["true_cell_voltage_V"].sum(), abs=1e-6)
    assert tr["true_link_voltage_V"] == tr["true_pack_voltage_V"]


def test_rest_voltage_is_the_ocv_of_the_soc() -> None:
    for name, chem in CHEMISTRIES.items():
        bench = Bench(BenchConfig(chemistry=name, initial_soc=0.3, soc_spread=0.02, seed=1))
        v = bench.truth()["true_cell_voltage_V"]
        np.testing.assert_allclose(v, chem.ocv_V(bench.cell_soc()), atol=1e-12)


def test_joule_heating_follows_the_lumped_thermal_model() -> None:
    cfg = BenchConfig(cell_r1_ohm=1e-12, ambient_degC=25.0)
    bench = Bench(cfg)
    close_path(bench)
    t_closed = bench.t
    bench.set_load_current(-150.0)
    bench.run(600.0)
    cells = bench.cells
    heat_W = cells.r0_ohm * 150.0**2
    g, c = cells.heat_transfer_W_per_K, cells.thermal_capacity_J_per_K
    duration = bench.t - t_closed
    expected_rise = heat_W / g * (1 - math.exp(-g * duration / c))
    rise = bench.cell_temperatures_degC() - 25.0
    assert expected_rise > 5.0
    # the few precharge steps before t_closed add a negligible amount
    np.testing.assert_allclose(rise, expected_rise, rtol=1e-3)
    bench.set_load_current(0.0)
    bench.run(1800.0)
    decayed = bench.cell_temperatures_degC() - 25.0
    np.testing.assert_allclose(decayed, rise * math.exp(-g * 1800.0 / c), rtol=1e-6)


def test_temperature_sensors_average_their_group_of_cells() -> None:
    bench = Bench(BenchConfig(n_cells=96, n_temp_sensors=24))
    bench.set_cell_temperature(40.0, index=2)
    per_cell = bench.cell_temperatures_degC()
    assert np.all(per_cell[8:12] == 40.0)
    assert np.all(np.delete(per_cell, range(8, 12)) == 25.0)
    sensors = bench.truth()["true_cell_temperature_degC"]
    assert sensors.shape == (24,)
    assert sensors[2] == 40.0 and np.all(np.delete(sensors, 2) == 25.0)


def test_uneven_sensor_groups_cover_every_cell_once() -> None:
    bench = Bench(BenchConfig(n_cells=10, n_temp_sensors=3))
    counts = np.bincount(bench.cells.sensor_of_cell)
    assert counts.sum() == 10 and counts.min() >= 3
    bench.set_cell_temperature(30.0)
    np.testing.assert_allclose(bench.truth()["true_cell_temperature_degC"], 30.0)


def test_spread_is_drawn_with_the_seed() -> None:
    cfg = BenchConfig(soc_spread=0.02, capacity_spread=0.03, resistance_spread=0.1, seed=7)
    a, b = Bench(cfg), Bench(cfg)
    c = Bench(BenchConfig(soc_spread=0.02, capacity_spread=0.03, resistance_spread=0.1, seed=8))
    np.testing.assert_array_equal(a.cell_soc(), b.cell_soc())
    assert not np.array_equal(a.cell_soc(), c.cell_soc())
    assert a.cell_soc().std() == pytest.approx(0.02, rel=0.3)


def test_set_cell_soc_moves_one_cell_beyond_the_overvoltage_fault() -> None:
    bench = Bench()
    bench.set_cell_soc(1.1, index=5)
    v = bench.truth()["true_cell_voltage_V"]
    assert v[5] > CHEMISTRIES["nmc"].limits.over_voltage_fault_V
    assert np.all(np.delete(v, 5) < 4.0)
    with pytest.raises(IndexError, match="set_cell_soc: index"):
        bench.set_cell_soc(0.5, index=96)


# ---------------------------------------------------------------------------- balancing
def _balancing_bench(**kw) -> Bench:
    return Bench(BenchConfig(n_cells=8, n_temp_sensors=8, capacity_Ah=5.0,
                             capacity_spread=0.05, resistance_spread=0.1, seed=4, **kw))


def test_a_balanced_cell_bleeds_through_its_resistor_and_only_it() -> None:
    bench = _balancing_bench()
    cells = bench.cells
    soc0, ocv0 = bench.cell_soc(), bench.truth()["true_cell_voltage_V"]
    switches = np.zeros(8, dtype=bool)
    switches[[2, 5]] = True
    bench.apply({"balancing_cmd": switches})
    bench.run(1000.0)
    bleed_A = ocv0[[2, 5]] / cells.balancing_resistance_ohm
    expected = -bleed_A * 1000.0 / cells.capacity_As[[2, 5]]
    lost = bench.cell_soc() - soc0
    np.testing.assert_allclose(lost[[2, 5]], expected, rtol=1e-9)
    assert np.all(lost[[0, 1, 3, 4, 6, 7]] == 0.0)
    assert 0.1 < bleed_A.min() and bleed_A.max() < 0.13  # about 0.1 A through 33 Ω


def test_its_heat_warms_its_cell_and_its_r0_drop_shows_at_its_terminals() -> None:
    bench = _balancing_bench(cell_r1_ohm=1e-12)
    cells = bench.cells
    switches = np.zeros(8, dtype=bool)
    switches[3] = True
    before = bench.truth()["true_cell_voltage_V"]
    bench.apply({"balancing_cmd": switches})
    after = bench.truth()["true_cell_voltage_V"]
    bleed_A = before[3] / cells.balancing_resistance_ohm
    assert after[3] == pytest.approx(before[3] - cells.r0_ohm * cells.resistance_factor[3]
                                     * bleed_A, abs=1e-12)
    assert np.all(after[np.arange(8) != 3] == before[np.arange(8) != 3])
    bench.run(600.0)
    g, c = cells.heat_transfer_W_per_K, cells.thermal_capacity_J_per_K
    expected = bleed_A**2 * cells.balancing_resistance_ohm / g * (1 - math.exp(-g * 600 / c))
    rise = bench.cell_temperatures_degC() - 25.0
    assert rise[3] == pytest.approx(expected, rel=1e-6) and expected > 0.01
    assert np.all(rise[np.arange(8) != 3] == 0.0)


def test_lazy_bleeding_equals_bleeding_synced_at_every_step() -> None:
    """The string integrates the bleed lazily: reading the cells at every step (a sync each
    time) and once at the end give the same state; the string's source voltage is the sum
    of its cells' at rest."""
    lazy, eager = _balancing_bench(), _balancing_bench()
    pattern = np.array([True, False, True, False, False, True, False, False])
    for bench in (lazy, eager):
        bench.apply({"balancing_cmd": pattern})
    for _ in range(3000):
        eager.run(0.01)
        eager.cells.sync()
    lazy.run(30.0)
    np.testing.assert_allclose(lazy.cell_soc(), eager.cell_soc(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(lazy.cell_temperatures_degC(), eager.cell_temperatures_degC(),
                               rtol=0, atol=1e-9)
    for bench in (lazy, eager):
        source = bench.cells.source_voltage_V()
        cells = bench.truth()["true_cell_voltage_V"].sum()
        assert source == pytest.approx(cells, abs=1e-6)


def test_switching_off_stops_the_bleed_and_a_wrong_length_is_refused() -> None:
    bench = _balancing_bench()
    on = np.ones(8, dtype=bool)
    bench.apply({"balancing_cmd": on})
    bench.run(100.0)
    bench.apply({"balancing_cmd": np.zeros(8, dtype=bool)})
    soc = bench.cell_soc()
    bench.run(100.0)
    np.testing.assert_array_equal(bench.cell_soc(), soc)
    with pytest.raises(ValueError, match="expected 8 switches"):
        bench.apply({"balancing_cmd": np.ones(7, dtype=bool)})
