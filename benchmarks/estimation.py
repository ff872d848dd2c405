"""Multi-cell throughput of the reference SoC estimator, not a test.

    .venv/bin/python benchmarks/estimation.py [--quick]

Cell-updates per second of SocEstimator.step at 96, 10 000 and 100 000 cells, in float64
and float32: steps 0.1 s apart (the cell monitor's cycle; every step counts the charge and
propagates the RC pairs and the slow current of every cell, one step in ten also corrects
every cell from its voltage: three OCV lookups, Kalman gain, state and 2 × 2 covariance
update), and steps 1 s apart (every step corrects: the cost of a correcting step), beside

* a textbook per-cell EKF (filterpy's ExtendedKalmanFilter, 2 states: SoC and one RC
  voltage), one Python object per cell, stepped in a loop at 96 cells and scaled per update;
* the memory-bandwidth ceiling: a numpy copy of the same state arrays a correcting step
  reads and writes (SoC, slow resistance, their three covariances, two RC voltages, the
  measured voltages), i.e. the best any kernel that touches that state once could do.

Targets (issue 12): ≥ 50 M cell-updates/s at 100 k cells on one core, ≥ 1000× the filterpy
loop. Everything printed is measured in this run; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

from reference_impl.functions.cell_model import CellModel
from reference_impl.functions.soc import SocEstimator

MODEL = CellModel.nominal_nmc()
DT = 0.1


def best_of(fn: Callable[[], None], repeat: int) -> float:
    """Smallest wall time of ``repeat`` calls (s): the least disturbed by other processes."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def reference_rate(n: int, dtype: type[np.floating], steps: int, dt: float = DT) -> float:
    """Cell-updates/s of SocEstimator.step over ``n`` cells, steps ``dt`` apart (inputs
    prepared beforehand)."""
    est = SocEstimator(MODEL, dtype=dtype)
    est.configure({"reference_capacity_Ah": 5.0, "soc_reference_current_A": 0.25,
                   "soc_convergence_time_s": 300.0, "initial_soc": 0.6})
    rng = np.random.default_rng(1)
    voltage = (MODEL.ocv(rng.uniform(0.4, 0.7, n), 25.0)).astype(dtype)
    inputs = {"cell_voltage_V": voltage, "cell_voltage_valid": np.ones(n, dtype=bool),
              "cell_temperature_degC": rng.uniform(20.0, 30.0, n),
              "pack_current_A": -5.0, "current_sensor_age_s": 0.0}
    est.step(0.0, inputs)
    clock = [0.0]

    def run() -> None:
        for _ in range(steps):
            clock[0] += dt
            est.step(clock[0], inputs)

    return n * steps / best_of(run, 3)


def copy_ceiling(n: int, dtype: type[np.floating], steps: int) -> float:
    """Cell-updates/s if a step only copied the state it touches (8 arrays)."""
    src = [np.ones(n, dtype=dtype) for _ in range(8)]
    dst = [np.empty(n, dtype=dtype) for _ in range(8)]

    def run() -> None:
        for _ in range(steps):
            for s, d in zip(src, dst, strict=True):
                np.copyto(d, s)

    return n * steps / best_of(run, 3)


def filterpy_rate(n: int, steps: int) -> float:
    """Cell-updates/s of one filterpy ExtendedKalmanFilter per cell, stepped in a loop."""
    from filterpy.kalman import ExtendedKalmanFilter

    tau, r1 = MODEL.rc[0].tau_s, float(MODEL.rc_r(0, 25.0))
    r0, q_as = float(MODEL.r0(25.0)), 3600.0 * 5.0
    a = np.exp(-DT / tau)
    f = np.array([[1.0, 0.0], [0.0, a]])
    b = np.array([[DT / q_as], [r1 * (1 - a)]])
    filters = []
    for _ in range(n):
        ekf = ExtendedKalmanFilter(dim_x=2, dim_z=1, dim_u=1)
        ekf.x = np.array([[0.6], [0.0]])
        ekf.F, ekf.B = f, b
        ekf.P *= 0.04
        ekf.R *= 1e-4
        ekf.Q = np.diag([1e-9, 1e-8])
        filters.append(ekf)
    current = -5.0
    u = np.array([[current]])
    z = np.array([[3.7]])

    def h_jacobian(x: np.ndarray) -> np.ndarray:
        return np.array([[float(MODEL.ocv_slope(x[0, 0], 25.0)), 1.0]])

    def hx(x: np.ndarray) -> np.ndarray:
        return np.array([[float(MODEL.ocv(x[0, 0], 25.0)) + r0 * current + x[1, 0]]])

    def run() -> None:
        for _ in range(steps):
            for ekf in filters:
                ekf.predict(u)
                ekf.update(z, h_jacobian, hx)

    return n * steps / best_of(run, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer steps")
    quick = parser.parse_args().quick
    loop = filterpy_rate(96, 5 if quick else 20)
    print(f"filterpy EKF, Python loop over 96 cells: {loop / 1e3:9.1f} k cell-updates/s")
    print(f"{'cells':>8} {'dtype':>8} {'0.1 s steps':>14} {'1 s steps':>14} "
          f"{'copy ceiling':>14} {'% of ceiling':>13} {'× filterpy':>11}")
    for n in (96, 10_000, 100_000):
        steps = max(50, (200_000 if quick else 2_000_000) // n)
        for dtype in (np.float64, np.float32):
            rate = reference_rate(n, dtype, steps)
            correcting = reference_rate(n, dtype, steps, SocEstimator.CORRECTION_PERIOD_S)
            ceiling = copy_ceiling(n, dtype, steps)
            print(f"{n:>8} {np.dtype(dtype).name:>8} {rate / 1e6:>11.2f} M/s "
                  f"{correcting / 1e6:>11.2f} M/s "
                  f"{ceiling / 1e6:>11.1f} M/s {100 * rate / ceiling:>12.1f}% "
                  f"{rate / loop:>10.0f}×")


if __name__ == "__main__":
    main()
