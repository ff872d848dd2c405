"""Same config and seed → identical traces; reading the truth does not change a run."""

import numpy as np
import pytest

from conformance.bench import Bench, BenchConfig, BenchConfigError, Clock, Noise

from .bench_helpers import close_path


def _trace(seed: int, read_truth: bool = False) -> list[np.ndarray]:
    cfg = BenchConfig(seed=seed, soc_spread=0.01, capacity_spread=0.02, resistance_spread=0.05)
    bench = Bench(cfg)
    bench.inject(Noise(signal="cell_voltage_V", std=0.01, index=2, start_s=0.3))
    bench.inject(Noise(signal="pack_current_A", std=1.0))
    close_path(bench)
    bench.set_load_current(-80.0)
    rows = []
    for k in range(400):
        m = bench.measurements()
        if read_truth and k % 3 == 0:
            bench.truth()
            bench.cell_soc()
        rows.append(np.concatenate([m["cell_voltage_V"], m["cell_temperature_degC"],
                                    [m["pack_current_A"], m["pack_voltage_V"],
                                     m["link_voltage_V"], m["insulation_resistance_ohm"]]]))
        bench.advance()
    rows.append(bench.truth()["true_cell_voltage_V"])
    return rows


def test_same_seed_gives_identical_traces() -> None:
    a, b = _trace(1), _trace(1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_another_seed_gives_another_trace() -> None:
    a, c = _trace(1), _trace(2)
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_reading_the_truth_does_not_change_the_run() -> None:
    a, b = _trace(1), _trace(1, read_truth=True)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_clock_counts_whole_steps() -> None:
    clock = Clock(0.01)
    for _ in range(100):
        clock.tick()
    assert clock.t == 1.0 and clock.step == 100
    assert clock.steps_for(0.03) == 3 and clock.steps_for(0.015) == 2
    assert clock.steps_for(0.0, minimum=1) == 1


@pytest.mark.parametrize("field,value,message", [
    ("chemistry", "nca", "expected one of lfp, lto, nmc"),
    ("n_temp_sensors", 200, "between 1 and n_cells"),
    ("dt_s", 0.0, "finite number > 0"),
    ("cell_voltage_accuracy_V", -1.0, "finite number ≥ 0"),
    ("cell_monitor_cycle_s", 0.001, "at least one step"),
])
def test_bad_config_is_explained(field, value, message) -> None:
    with pytest.raises(BenchConfigError, match=f"{message}"):
        BenchConfig(**{field: value})
    with pytest.raises(BenchConfigError, match=f"BenchConfig|{field}"):
        Bench(**{field: value})
