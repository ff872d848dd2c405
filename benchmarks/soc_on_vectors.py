"""The reference SoC estimator on the shipped test vectors (open loop, no bench): RMSE and
largest error after the declared convergence time, and the convergence time, for an
initial SoC 0.1 above and below the truth, against the bounds of OBSA-SOC-002/003/004.

Each vector is replayed at its own sample period with the state-estimation manifest's
declared sensor errors (2 mV voltage noise, current gain +0.5 % and offset +50 mA, seeded);
the estimator is configured with the characterization the vector names (its
``.ecm.json``). A measurement, not a test: it prints, it asserts nothing.

    .venv/bin/python benchmarks/soc_on_vectors.py [VECTOR_ID ...]
"""

from __future__ import annotations

import json
import sys

import numpy as np

from conformance.paths import vectors_dir
from conformance.vectors import load_vectors
from reference_impl.functions.cell_model import CellModel
from reference_impl.functions.soc import SocEstimator

CONVERGENCE_S = 300.0  # the reference manifest's soc_convergence_time_s
BOUNDS = {"rmse": 0.03, "max": 0.05, "band": 0.05}  # OBSA-SOC-002, -003, -004


def replay(vector, offset: float) -> tuple[float, float, float]:
    """(RMSE and largest error after convergence, convergence time) of one run."""
    info = vector.info
    char = json.loads((vectors_dir() / info.characterization.replace(".bpx.json", ".ecm.json")
                       ).read_text(encoding="utf-8"))
    model = CellModel.from_ecm(char)
    est = SocEstimator(model)
    truth = vector["cell_soc"]
    est.configure({"reference_capacity_Ah": model.capacity_Ah,
                   "soc_reference_current_A": info.soc_reference.current_A,
                   "soc_full_voltage_V": info.soc_reference.full_voltage_V,
                   "soc_empty_voltage_V": info.soc_reference.empty_voltage_V,
                   "soc_convergence_time_s": CONVERGENCE_S,
                   "initial_soc": float(np.clip(truth[0].mean() + offset, 0.0, 1.0))})
    rng = np.random.default_rng(1)
    n, c = truth.shape
    estimate = np.empty((n, c))
    for i in range(n):
        out = est.step(float(vector["t_s"][i]), {
            "cell_voltage_V": vector["cell_voltage_V"][i] + rng.normal(0.0, 0.002, c),
            "cell_voltage_valid": np.ones(c, dtype=bool),
            "cell_temperature_degC": vector["cell_temperature_degC"][i].astype(float),
            "pack_current_A": float(vector["current_A"][i]) * 1.005 + 0.05,
            "current_sensor_age_s": 0.0})
        estimate[i] = out["cell_soc"]
    err = estimate - truth
    after = err[int(round(CONVERGENCE_S / info.dt_s)):]
    outside = np.flatnonzero(np.any(np.abs(err) >= BOUNDS["band"], axis=1))
    converged = 0.0 if outside.size == 0 else float((outside[-1] + 1) * info.dt_s)
    return float(np.sqrt(np.mean(after ** 2))), float(np.max(np.abs(after))), converged


def main() -> None:
    wanted = set(sys.argv[1:])
    vectors = [v for v in load_vectors(vectors_dir()) if not wanted or v.info.id in wanted]
    print(f"bounds: RMSE ≤ {BOUNDS['rmse']}, largest ≤ {BOUNDS['max']} after "
          f"{CONVERGENCE_S:g} s; converged (|error| < {BOUNDS['band']}) within "
          f"{CONVERGENCE_S:g} s")
    for vector in vectors:
        for offset in (+0.1, -0.1):
            rmse, worst, converged = replay(vector, offset)
            ok = (rmse <= BOUNDS["rmse"] and worst <= BOUNDS["max"]
                  and converged <= CONVERGENCE_S)
            print(f"  {vector.info.id:<24} initial {offset:+.1f}: RMSE {rmse:.4f}, largest "
                  f"{worst:.4f}, converged at {converged:5.0f} s  {'ok' if ok else 'FAILS'}")


if __name__ == "__main__":
    main()
