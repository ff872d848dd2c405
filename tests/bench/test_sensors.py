"""Sensors: sampling cycle and age, errors within the declared accuracy, input ranges."""

import numpy as np
import pytest

from conformance.bench import Bench, BenchConfig

from .bench_helpers import close_path

ACCURACY = dict(cell_voltage_accuracy_V=0.002, cell_temperature_accuracy_K=1.0,
                current_gain_error=0.005, current_offset_error_A=0.05,
                voltage_accuracy_V=0.5, insulation_accuracy=0.1)


def test_cell_monitor_samples_once_per_cycle_and_ages_in_between() -> None:
    bench = Bench(BenchConfig(cell_monitor_cycle_s=0.1, dt_s=0.01))
    ages, arrays = [], []
    for _ in range(25):
        m = bench.measurements()
        ages.append(round(m["cell_monitor_age_s"], 9))
        arrays.append(m["cell_voltage_V"])
        assert m["current_sensor_age_s"] == 0.0
        bench.advance()
    assert ages[:12] == [0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.0, 0.01]
    assert all(a is arrays[0] for a in arrays[:10])  # held between samples
    assert arrays[10] is not arrays[9] and not np.array_equal(arrays[10], arrays[9])


def test_measured_arrays_are_read_only() -> None:
    m = Bench().measurements()
    with pytest.raises(ValueError):
        m["cell_voltage_V"][0] = 1.0


def test_measurement_errors_stay_within_the_declared_accuracy() -> None:
    bench = Bench(BenchConfig(seed=11, **ACCURACY))
    close_path(bench)
    rng = np.random.default_rng(0)
    errs: dict[str, list[float]] = {"v": [], "t": [], "i": [], "vp": [], "vl": [], "r": []}
    for k in range(3000):
        m, tr = bench.measurements(), bench.truth()
        if m["cell_monitor_age_s"] == 0.0:
            errs["v"].extend(np.abs(m["cell_voltage_V"] - tr["true_cell_voltage_V"]))
            errs["t"].extend(np.abs(m["cell_temperature_degC"] - tr["true_cell_temperature_degC"]))
        i = tr["true_pack_current_A"]
        errs["i"].append(abs(m["pack_current_A"] - i) / (0.005 * abs(i) + 0.05))
        errs["vp"].append(abs(m["pack_voltage_V"] - tr["true_pack_voltage_V"]))
        errs["vl"].append(abs(m["link_voltage_V"] - tr["true_link_voltage_V"]))
        if bench.isolation_monitor.sample_step == bench.clock.step:  # sampled now
            errs["r"].append(abs(m["insulation_resistance_ohm"]
                                 / tr["true_insulation_resistance_ohm"] - 1))
        if k % 50 == 49:  # scenario changes act from now on; sensors see them next sample
            bench.set_load_current(float(rng.uniform(-300, 150)))
            bench.set_insulation(float(rng.uniform(1e5, 1e7)))
        bench.advance()
    limits = {"v": 0.002, "t": 1.0, "i": 1.0, "vp": 0.5, "vl": 0.5, "r": 0.1}
    for key, limit in limits.items():
        worst = max(errs[key])
        assert worst <= 0.8 * limit + 1e-12, key
        assert worst > 0.3 * limit, key  # the errors are really there
    assert len(errs["v"]) >= 96 * 299


def test_readings_saturate_at_the_sensor_range() -> None:
    bench = Bench()
    m = bench.measurements()
    assert m["link_voltage_V"] >= 0.0  # the link is at 0 V; noise never reads negative
    bench.set_cell_soc(1.3, index=0)
    bench.run(0.1)
    assert bench.truth()["true_cell_voltage_V"][0] > 5.0
    assert bench.measurements()["cell_voltage_V"][0] == 5.0


def test_measurements_are_python_scalars_and_numpy_arrays() -> None:
    m = Bench().measurements()
    for name, value in m.items():
        if name.startswith("cell_") and not name.endswith("_age_s"):
            assert isinstance(value, np.ndarray), name
        elif name.endswith("_fb"):
            assert type(value) is bool, name
        else:
            assert type(value) is float, name
