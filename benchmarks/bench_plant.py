"""Cost of one bench-plant step (measurements + apply + advance), not a test.

    .venv/bin/python benchmarks/bench_plant.py

Prints µs per step for 96 and 960 cells with the HV path closed under a varying load, and
the real-time factor of the plant alone at dt = 10 ms (how many simulated seconds per
wall-clock second). The loop has no module under test; its share comes on top.
"""

from __future__ import annotations

import time

from conformance.bench import Bench, BenchConfig, Offset, Ramp, Welded

CLOSED = {"main_positive_close_cmd": True, "main_negative_close_cmd": True,
          "precharge_close_cmd": False}
PRECHARGE = {"main_positive_close_cmd": False, "main_negative_close_cmd": True,
             "precharge_close_cmd": True}


FAULTS = (
    Offset(signal="pack_current_A", value=1.0),
    Ramp(signal="cell_voltage_V", index=3, rate=0.001),
    Welded(signal="main_positive"),
)


def _closed_bench(n_cells: int, with_faults: bool) -> Bench:
    bench = Bench(BenchConfig(n_cells=n_cells, n_temp_sensors=n_cells // 4, dt_s=0.01))
    bench.apply(PRECHARGE)
    bench.run(1.0)
    bench.apply(CLOSED)
    bench.run(0.1)
    if with_faults:
        for f in FAULTS:
            bench.inject(f)
    return bench


def measure(n_cells: int, with_faults: bool = False, steps: int = 50_000,
            repeats: int = 3) -> float:
    """Best-of-``repeats`` wall time per plant step, s."""
    best = float("inf")
    for _ in range(repeats):
        bench = _closed_bench(n_cells, with_faults)
        t0 = time.perf_counter()
        for k in range(steps):
            if k % 100 == 0:
                bench.set_load_current(-50.0 - (k % 1000) * 0.1)
            bench.measurements()
            bench.apply(CLOSED)
            bench.advance()
        best = min(best, (time.perf_counter() - t0) / steps)
    return best


def main() -> None:
    dt_s = 0.01
    print(f"{'cells':>6} {'faults':>6} {'µs/step':>9} {'real-time factor (plant, dt 10 ms)':>36}")
    for n, with_faults in ((96, False), (960, False), (96, True)):
        per_step = measure(n, with_faults)
        print(f"{n:>6} {len(FAULTS) if with_faults else 0:>6} {per_step * 1e6:>9.2f} "
              f"{dt_s / per_step:>36,.0f}")


if __name__ == "__main__":
    main()
