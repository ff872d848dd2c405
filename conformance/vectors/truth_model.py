"""The truth model of every shipped vector: an equivalent circuit of each of its TRUE cells,
fitted to PyBaMM, so that a state-of-power limit can be drawn from the truth in closed loop
(OBSA-SOP-002, OBSA-SOP-003) without PyBaMM at certification.

Run ``python -m conformance.vectors.truth_model [--vectors vectors/] [--only ID]`` with the
``vectors`` extra installed, after the vectors are generated. It writes
``<id>.truth.json`` beside each ``<id>.json``.

What is fitted
--------------
Each cell of a vector is its parameter set with the vector's recorded ``changes`` (the aged
or other cell; a pack's per-cell ``cell[i]: …`` changes on top of the shared ones), at the
vector's temperature (the vectors are isothermal). It is characterized by the method of the
nominal characterization (:func:`conformance.vectors.generate.ecm_document`): the OCV from
the electrodes' OCPs at the stoichiometries of each SoC of the truth cell's own SoC reference
(:func:`conformance.vectors.generate.reference_truth`), R0 the ohmic resistance of
``format.py`` (10 ms after a 1C discharge step) and two RC pairs fitted by bounded least
squares (:func:`conformance.vectors.generate.fit_two_rc`) to the DFN's response to a 30 s 1C
discharge pulse and 60 s of rest — at every SoC of :data:`SOCS`, denser than the
characterization's three, because a limit is drawn near the ends of the SoC range. Besides,
at each SoC point the instantaneous resistance at each step current of :data:`STEP_C` (the
same 10 ms measure): the charge-transfer overpotential is not linear in the current, and
with R0 alone the model was 46 mV below the DFN 0.1 s into a 2C discharge of the nominal NMC
cell at SoC 0.5 (measured); with it, 1.9 mV.

How well it stands for the DFN (``accuracy``, measured with PyBaMM 26.10)
-------------------------------------------------------------------------
From rest at SoC 0.2, 0.5 and 0.8 of each cell, a constant 1C charge and a constant 2C
discharge (the current limits the bench's safety supervisor grants) for each of
:data:`STEP_HORIZONS_S`: the largest difference between this model's voltage and the DFN's
over the step. Over 10 s: at most 6.1 mV on every NMC cell, 11.8–17.5 mV on the LFP cells
(at SoC 0.2); over 60 s: 13.7–93.1 mV (NMC), 182–363 mV (LFP: the 2C discharge from SoC 0.2
reaches the end of the LFP plateau). The pulse fit's own RMS error (``fit_rms_V``) is at
most 0.7 mV (NMC) and 3.8 mV (LFP) between SoC 0.2 and 0.8, and above 10 mV only at SoC
0.05 of the LFP cells (up to 47.7 mV): the closed-loop check judges only where every cell's
SoC is within the run of points fitted within its tolerance
(:meth:`conformance.harness.truth.TruthPack.covered_range`).

The file: ``obsa-truth/1``
--------------------------
::

    {"format": "obsa-truth/1", "vector": "<id>", "vector_sha256": "<the vector's sha256>",
     "temperature_degC": 25.0, "pybamm_version": "...", "generator": "...",
     "model": "V = OCV(SoC) + I·R0(SoC, I) + u1 + u2, du_i/dt = (I·R_i(SoC) − u_i)/τ_i(SoC),
               I positive on charge; ...",
     "cells": [            # one per cell of the vector, in its order
        {"changes": {...}, # the PyBaMM parameters changed for this cell
         "reference_capacity_Ah": ...,
         "ocv": {"soc": [101 values 0…1], "ocv_V": [...]},
         "points": [{"soc", "r0_ohm", "r1_ohm", "tau1_s", "r2_ohm", "tau2_s", "fit_rms_V",
                     "instant": {"current_A": [...], "r0_ohm": [...]}}],
         "accuracy": {"points": [{"soc", "current_A", "duration_s", "max_error_V"}],
                      "max_error_V": ...}}]}

R0(SoC, I) is ``instant.r0_ohm`` linear in the current between the step currents (the
nearest beyond them), then linear in SoC between the points (the nearest beyond them), as
are R_i and τ_i. The run along a vector and the drawn limits integrate the RC pairs
exactly over each step at the step's mean current.

Certification reads it with :mod:`conformance.harness.truth`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from conformance.vectors.format import load_vector
from conformance.vectors.generate import (
    CELLS,
    DT_S,
    GENERATOR,
    CellDef,
    Truth,
    _model,
    _ocp,
    _pybamm,
    _solver,
    fit_pulse,
    fit_pulse_soc,
    fit_two_rc,
    ohmic_resistance,
    parameter_values,
    reference_truth,
)

FORMAT = "obsa-truth/1"
MODEL = ("V = OCV(SoC) + I·R0(SoC, I) + u1 + u2, du_i/dt = (I·R_i(SoC) − u_i)/τ_i(SoC), I positive "
         "on charge; SoC(t) = SoC(0) + ∫I dt / (3600 · reference_capacity_Ah); R0(SoC, I) "
         "the points' instant.r0_ohm, linear in the current between their step currents; "
         "every parameter linear in SoC between the points, the nearest point's beyond them")
STEP_C = (-3.0, -2.0, -1.0, -0.5, 0.5, 1.0, 2.0)
"""The step currents (C of the nominal capacity, + charge) at which the instantaneous
resistance is measured at each SoC point: the charge-transfer overpotential is not linear in
the current (2C discharge from SoC 0.5 of the nominal NMC cell: 46 mV less drop than twice
1C's), and a limit is drawn at up to the safety supervisor's 2C."""
SOCS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95)
"""The SoCs at which R0 and the RC pairs are fitted."""
ACCURACY_SOCS = (0.2, 0.5, 0.8)
STEP_HORIZONS_S = (10.0, 60.0)
"""The constant-current steps the model is checked against the DFN with (s)."""
STEP_C_RATES = (1.0, -2.0)
"""Their currents, in C of the nominal capacity (+ charge)."""


def cell_changes(info_changes: dict[str, float | str], n_cells: int) -> list[dict[str, float]]:
    """Per cell, the PyBaMM parameters the vector records as changed: the shared ones and the
    cell's own ``cell[i]: …`` (the initial state and the ``spread: …`` notes are no
    parameters)."""
    shared = {k: float(v) for k, v in info_changes.items()
              if not k.startswith(("cell[", "spread:"))}
    cells = [dict(shared) for _ in range(n_cells)]
    for key, value in info_changes.items():
        if not key.startswith("cell["):
            continue
        index, name = key[len("cell["):].split("]: ", 1)
        if "initial stoichiometric SoC" in name:
            continue
        cells[int(index)][name] = float(value)
    return cells


def ocv_table(parameter_set: str, changes: dict[str, float], truth: Truth
              ) -> tuple[np.ndarray, np.ndarray]:
    """OCV vs the truth cell's SoC from its OCPs (101 points)."""
    p = parameter_values(parameter_set, changes, 25.0)
    x0, x100, y100, y0 = _pybamm().lithium_ion.get_min_max_stoichiometries(p)
    soc = np.round(np.linspace(0.0, 1.0, 101), 4)
    x = np.array([truth.x_of_soc(s) for s in soc])
    return soc, (_ocp(p, "Positive", y0 - x * (y0 - y100))
                 - _ocp(p, "Negative", x0 + x * (x100 - x0)))


def _dfn(parameter_set: str, changes: dict[str, float], temperature_degC: float,
         x0: float, knots: np.ndarray, level: np.ndarray, t: np.ndarray,
         cell: CellDef | None = None) -> np.ndarray:
    """The DFN's voltage on ``t`` under the piecewise-linear discharge current (knots, level);
    with ``cell``, the model's voltage cut-offs moved beyond the cell's (a step is checked
    where it crosses them)."""
    pybamm = _pybamm()
    q = parameter_values(parameter_set, changes, temperature_degC)
    if cell is not None:
        q.update({"Lower voltage cut-off [V]": cell.empty_V - 1.0,
                  "Upper voltage cut-off [V]": cell.full_V + 0.3})
    q["Current function [A]"] = pybamm.Interpolant(knots, level, pybamm.t,
                                                   interpolator="linear")
    sim = pybamm.Simulation(_model(), parameter_values=q, solver=_solver(dt_max=0.5))
    sol = sim.solve([0.0, float(t[-1])], t_interp=t, initial_soc=x0)
    if sol.t[-1] < t[-1] - 1e-9:
        raise RuntimeError(f"{parameter_set}: stopped at {sol.t[-1]} s ({sol.termination})")
    return np.asarray(sol["Voltage [V]"](t), dtype=float)


def fit_points(parameter_set: str, changes: dict[str, float], truth: Truth, cell: CellDef,
               temperature_degC: float, soc_grid: np.ndarray, ocv: np.ndarray
               ) -> list[dict[str, Any]]:
    """R0 and two RC pairs at every SoC of :data:`SOCS` (the characterization's method)."""
    t, knots, level = fit_pulse(cell)
    points: list[dict[str, Any]] = []
    for soc in SOCS:
        v = _dfn(parameter_set, changes, temperature_degC, truth.x_of_soc(soc), knots, level, t,
                 cell)
        i, soc_t = fit_pulse_soc(soc, t, knots, level, truth.capacity_Ah)
        r0 = ohmic_resistance(parameter_set, changes, truth, cell, temperature_degC, soc)
        r1, tau1, r2, tau2, rms = fit_two_rc(i, np.interp(soc_t, soc_grid, ocv) - v, r0)
        amps = [c * cell.nominal_Ah for c in STEP_C]
        points.append({"soc": soc, "r0_ohm": r0, "r1_ohm": r1, "tau1_s": tau1, "r2_ohm": r2,
                       "tau2_s": tau2, "fit_rms_V": rms, "instant": {
                           "current_A": amps,
                           "r0_ohm": [instant_resistance(parameter_set, changes, truth, cell,
                                                         temperature_degC, soc, a)
                                      for a in amps]}})
    return points


def instant_resistance(parameter_set: str, changes: dict[str, float], truth: Truth,
                       cell: CellDef, temperature_degC: float, soc: float,
                       current_A: float) -> float:
    """The voltage change 10 ms after a step of ``current_A`` (+ charge; 1 ms ramp) from rest
    at ``soc``, over the current: ``format.py``'s ohmic resistance at another current."""
    t = np.array([0.0, 0.5, 1.0, 1.011])
    knots = np.array([0.0, 1.0, 1.001, 2.0])
    level = np.array([0.0, 0.0, -current_A, -current_A])
    v = _dfn(parameter_set, changes, temperature_degC, truth.x_of_soc(soc), knots, level, t,
             cell)
    return float((v[3] - v[2]) / current_A)


def ecm_voltage(cell_doc: dict[str, Any], soc0: float, t: np.ndarray, current_A: np.ndarray
                ) -> np.ndarray:
    """This file's model from rest at ``soc0`` under ``current_A`` (+ charge) on ``t``."""
    from conformance.harness.truth import TruthPack

    model = TruthPack.from_document({"cells": [cell_doc]}, "the model being written")
    return model.run_from_rest(soc0, t, current_A)


def accuracy(parameter_set: str, changes: dict[str, float], truth: Truth, cell: CellDef,
             temperature_degC: float, cell_doc: dict[str, Any]) -> list[dict[str, float]]:
    """The model against the DFN: constant-current steps from rest (module docstring)."""
    out = []
    for soc in ACCURACY_SOCS:
        for duration in STEP_HORIZONS_S:
            for c_rate in STEP_C_RATES:
                amps = c_rate * cell.nominal_Ah  # + charge
                t = np.round(np.arange(0.0, 1.0 + duration + 1e-9, DT_S), 6)
                knots = np.array([0.0, 1.0, 1.001, t[-1]])
                level = np.array([0.0, 0.0, -amps, -amps])  # PyBaMM: + discharge
                v_dfn = _dfn(parameter_set, changes, temperature_degC, truth.x_of_soc(soc),
                             knots, level, t, cell)
                v_ecm = ecm_voltage(cell_doc, soc, t, -np.interp(t, knots, level))
                after = t >= 1.001
                out.append({"soc": soc, "current_A": amps, "duration_s": duration,
                            "max_error_V": float(np.max(np.abs(v_ecm - v_dfn)[after]))})
    return out


def truth_document(vector_path: Path, log: Callable[[str], None] = print) -> dict[str, Any]:
    vector = load_vector(vector_path)
    info = vector.info
    cell = next(c for c in CELLS.values() if c.characterization == info.characterization)
    cells = []
    for i, changes in enumerate(cell_changes(info.changes, info.n_cells)):
        truth = reference_truth(info.parameter_set, changes, cell)
        soc_grid, ocv = ocv_table(info.parameter_set, changes, truth)
        points = fit_points(info.parameter_set, changes, truth, cell, info.temperature_degC,
                            soc_grid, ocv)
        doc: dict[str, Any] = {
            "changes": changes,
            "reference_capacity_Ah": round(truth.capacity_Ah, 6),
            "ocv": {"soc": [float(s) for s in soc_grid],
                    "ocv_V": [round(float(v), 6) for v in ocv]},
            "points": points,
        }
        acc = accuracy(info.parameter_set, changes, truth, cell, info.temperature_degC, doc)
        doc["accuracy"] = {
            "description": "largest |V_model − V_DFN| over a constant-current step from "
                           "rest at soc (current_A + charge, for duration_s)",
            "points": acc, "max_error_V": max(a["max_error_V"] for a in acc)}
        cells.append(doc)
        log(f"{info.id} cell {i}: capacity {truth.capacity_Ah:.4f} Ah, R0(0.5) "
            f"{points[SOCS.index(0.5)]['r0_ohm'] * 1000:.2f} mΩ, fit RMS ≤ "
            f"{max(p['fit_rms_V'] for p in points) * 1000:.2f} mV, steps vs DFN ≤ "
            f"{doc['accuracy']['max_error_V'] * 1000:.1f} mV")
    return {"format": FORMAT, "vector": info.id, "vector_sha256": info.sha256,
            "temperature_degC": info.temperature_degC,
            "pybamm_version": _pybamm().__version__,
            "generator": "conformance.vectors.truth_model/1 (fits of "
                         f"{GENERATOR})", "model": MODEL, "cells": cells}


def write_truth(vector_path: Path, log: Callable[[str], None] = print) -> Path:
    doc = truth_document(vector_path, log)
    out = vector_path.with_name(f"{doc['vector']}.truth.json")
    out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance.vectors.truth_model",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--vectors", type=Path, default=Path("vectors"),
                        help="directory of the vectors (default: vectors/)")
    parser.add_argument("--only", action="append", default=[], metavar="ID",
                        help="only this vector (repeatable)")
    args = parser.parse_args(argv)
    paths = [p for p in sorted(args.vectors.glob("*.json"))
             if p.with_suffix(".npz").exists() and not p.name.endswith(".truth.json")]
    known = {p.stem: p for p in paths}
    for name in args.only:
        if name not in known:
            parser.error(f"no vector {name!r} in {args.vectors}; known: {', '.join(known)}")
    start = time.perf_counter()
    for name in args.only or list(known):
        t0 = time.perf_counter()
        write_truth(known[name])
        print(f"  ({time.perf_counter() - t0:.1f} s)", flush=True)
    print(f"done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
