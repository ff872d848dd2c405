"""The reference SoC estimator on the shipped test vectors (open loop, no bench): RMSE and
largest error after the declared convergence time, and the convergence time, against the
bounds of OBSA-SOC-002/003/004 and the reference's own targets (RMSE ≤ 0.01 on NMC, ≤ 0.02
on LFP, largest error ≤ 0.03).

Runs per vector: from its start (a rest) with the initial SoC 0.1 and 0.2 above and below
the truth; and, for the drive cycles, as the suite's test case does: from 600 s (mid-drive)
with the initial SoC 0.1 above the truth (below if that leaves 0 … 1). Each vector is
replayed at its own sample period with the state-estimation manifest's declared sensor errors
(2 mV voltage noise, current gain +0.5 % and offset +50 mA, seeded); the estimator is
configured with the characterization the vector names (its ``.ecm.json``) and, as the bench
does, the same cell's BPX document (``cell_bpx``), on which it models the cell with its
reduced SPMe; with ``--circuit``, without the document (the equivalent circuit alone). The
RMSE printed is that of the worst cell (a pack vector's cells differ). A measurement, not a
test: it prints, it asserts nothing.

    .venv/bin/python benchmarks/soc_on_vectors.py [--circuit] [VECTOR_ID ...]
"""

from __future__ import annotations

import sys

import numpy as np

from conformance.harness.replay import bpx_document, characterization
from conformance.paths import vectors_dir
from conformance.vectors import load_vectors
from reference_impl.functions.cell_model import CellModel
from reference_impl.functions.soc import SocEstimator

CONVERGENCE_S = 300.0  # the reference manifest's soc_convergence_time_s
BOUNDS = {"rmse": 0.03, "max": 0.05, "band": 0.05}  # OBSA-SOC-002, -003, -004
TARGETS = {"nmc": 0.01, "lfp": 0.02, "max": 0.03}  # the reference's own: RMSE, largest
SUITE_START_S = 600.0  # where the suite's drive-cycle case starts a replay
CIRCUIT_ONLY = "--circuit" in sys.argv  # the estimator without the BPX document


def replay(vector, offset: float, start_s: float = 0.0) -> tuple[float, float, float]:
    """(RMSE and largest error after convergence, convergence time) of one run; the RMSE of
    the cell with the largest, as the suite's cell_soc_rmse (OBSA-SOC-002) takes it."""
    info = vector.info
    model = CellModel.from_ecm(characterization(vector))
    est = SocEstimator(model)
    first = int(np.searchsorted(vector["t_s"], start_s - 1e-9))
    truth = vector["cell_soc"][first:]
    t_s = vector["t_s"][first:]
    est.configure({"reference_capacity_Ah": model.capacity_Ah,
                   "soc_reference_current_A": info.soc_reference.current_A,
                   "soc_full_voltage_V": info.soc_reference.full_voltage_V,
                   "soc_empty_voltage_V": info.soc_reference.empty_voltage_V,
                   "soc_convergence_time_s": CONVERGENCE_S,
                   "initial_soc": float(np.clip(truth[0].mean() + offset, 0.0, 1.0)),
                   **({} if CIRCUIT_ONLY else {"cell_bpx": bpx_document(vector)})})
    rng = np.random.default_rng(1)
    n, c = truth.shape
    voltage = vector["cell_voltage_V"][first:]
    temperature = vector["cell_temperature_degC"][first:].astype(float)
    current = vector["current_A"][first:].astype(float) * 1.005 + 0.05
    valid = np.ones(c, dtype=bool)
    estimate = np.empty((n, c))
    for i in range(n):
        out = est.step(float(t_s[i]), {
            "cell_voltage_V": voltage[i] + rng.normal(0.0, 0.002, c),
            "cell_voltage_valid": valid, "cell_temperature_degC": temperature[i],
            "pack_current_A": float(current[i]), "current_sensor_age_s": 0.0})
        estimate[i] = out["cell_soc"]
    err = estimate - truth
    after = err[int(round(CONVERGENCE_S / info.dt_s)):]
    outside = np.flatnonzero(np.any(np.abs(err) >= BOUNDS["band"], axis=1))
    converged = 0.0 if outside.size == 0 else float((outside[-1] + 1) * info.dt_s)
    rmse = float(np.max(np.sqrt(np.mean(after ** 2, axis=0))))
    return rmse, float(np.max(np.abs(after))), converged


def runs(vector) -> list[tuple[str, float, float]]:
    """(label, initial offset, start) of every run of ``vector``."""
    out = [(f"from 0 s, initial {d:+.1f}", d, 0.0) for d in (+0.1, -0.1, +0.2, -0.2)]
    if vector.info.profile.startswith("wltc"):
        start = int(np.searchsorted(vector["t_s"], SUITE_START_S - 1e-9))
        truth0 = float(vector["cell_soc"][start].mean())
        d = 0.1 if truth0 + 0.1 <= 1.0 else -0.1
        out.append((f"suite: {SUITE_START_S:g} s, {d:+.1f}", d, SUITE_START_S))
    return out


def main() -> None:
    wanted = set(sys.argv[1:]) - {"--circuit"}
    vectors = [v for v in load_vectors(vectors_dir()) if not wanted or v.info.id in wanted]
    print(f"bounds: RMSE ≤ {BOUNDS['rmse']}, largest ≤ {BOUNDS['max']} after "
          f"{CONVERGENCE_S:g} s; converged (|error| < {BOUNDS['band']}) within "
          f"{CONVERGENCE_S:g} s; targets: RMSE ≤ {TARGETS['nmc']} (NMC), ≤ {TARGETS['lfp']} "
          f"(LFP), largest ≤ {TARGETS['max']}")
    for vector in vectors:
        target = TARGETS.get(vector.info.chemistry, TARGETS["lfp"])
        for label, offset, start in runs(vector):
            rmse, worst, converged = replay(vector, offset, start)
            ok = (rmse <= BOUNDS["rmse"] and worst <= BOUNDS["max"]
                  and converged <= CONVERGENCE_S)
            met = ok and rmse <= target and worst <= TARGETS["max"]
            print(f"  {vector.info.id:<22} {label:<24} RMSE {rmse:.4f}, largest {worst:.4f}, "
                  f"converged at {converged:5.0f} s  "
                  f"{'target met' if met else 'ok' if ok else 'FAILS'}", flush=True)


if __name__ == "__main__":
    main()
