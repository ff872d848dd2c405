"""How far each cell model's terminal voltage is from a vector's, read at the truth's own
state: the floor a filter on that model meets, whatever its tuning. Not a test.

    .venv/bin/python benchmarks/model_error.py [VECTOR_ID ...]    (needs PyBaMM: the dev extra)

For each shipped vector (its first cell), the RMS of the measured voltage minus the model's,
over the whole vector and over its samples below 1 A (where a SoC filter trusts the voltage
most), and the mean over its last 100 s (a rest after the drive, on the drive cycles), for:

- **ECM**: the characterization's equivalent circuit (``.ecm.json``, as the reference SoC
  filter models the cell, without its slow-polarisation state): OCV at the truth's SoC,
  R0 and the RC pairs at the vector's temperature, driven by the vector's current;
- **SPM**, **SPMe**: PyBaMM's single-particle models without and with the electrolyte, on
  the nominal cell's BPX document (``cell_bpx``, what a module is told: the bench's
  ``bpx_document``, read by PyBaMM's ``create_from_bpx_obj``), open loop from the vector's
  initial stoichiometric state (on an aged or other cell their charge runs off as the
  nominal capacity's: that error is the SoC's, which a filter corrects, and the model's);
- **reference SPMe**: the reduced SPMe the reference SoC filter models the cell with
  (``reference_impl/functions/spme.py``) on the same BPX document, at the truth's SoC;
- **SPMe, the vector's cell**: the same on the vector's own parameter set and changes (the
  aged or other cell's, which a module is not told): the model's own error, with the cell's
  parameters known or estimated.

The truth is the DFN the vectors were generated with (isothermal, the vector's
temperature). Read with the SoC results of ``benchmarks/soc_on_vectors.py``: an error of a
few mV at low current, on an OCV slope of 0.4 V per unit SoC (NMC at 0.8), is a SoC error
of 1 %.
"""

from __future__ import annotations

import copy
import sys
from typing import Any

import numpy as np
from scipy.signal import lfilter

from conformance.harness.replay import bpx_document, characterization
from conformance.paths import vectors_dir
from conformance.vectors import Vector, load_vectors
from conformance.vectors import generate as g
from reference_impl.functions.cell_model import CellModel
from reference_impl.functions.spme import Spme

LOW_CURRENT_A = 1.0
LAST_S = 100.0


def ecm_voltage(vector: Vector, cell: CellModel) -> np.ndarray:
    """The characterization's circuit at the truth's SoC of the first cell."""
    temperature = float(vector.info.temperature_degC)
    current = _current(vector)
    soc = vector["cell_soc"][:, 0].astype(float)
    v = cell.ocv(soc, temperature) + float(cell.r0(temperature)) * current
    for i, pair in enumerate(cell.rc):
        a = float(np.exp(-vector.info.dt_s / pair.tau_s))
        v = v + lfilter([1.0 - a], [1.0, -a], float(cell.rc_r(i, temperature)) * current)
    return np.asarray(v, dtype=float)


def reference_spme_voltage(vector: Vector, nominal: dict[str, Any]) -> np.ndarray:
    """The reference SoC filter's reduced SPMe on the nominal cell's BPX document, at the
    truth's SoC of the first cell, its diffusion driven by the vector's current."""
    model = Spme(nominal, CellModel.from_ecm(characterization(vector)))
    return model.replay(_current(vector), vector["cell_soc"][:, 0], vector.info.dt_s,
                        float(vector.info.temperature_degC))


def pybamm_voltage(vector: Vector, model: Any, parameter_set: str | dict[str, Any],
                   changes: dict[str, float]) -> np.ndarray:
    """PyBaMM's ``model`` on ``parameter_set`` (a PyBaMM set's name, or a BPX document)
    with ``changes`` under the vector's current, from the first cell's initial
    stoichiometric state."""
    pybamm = g._pybamm()
    t = vector["t_s"].astype(float)
    temperature = float(vector.info.temperature_degC)
    if isinstance(parameter_set, dict):
        # (PyBaMM takes fields out of the document it reads: give it a copy; the initial
        # state is set by the solve below)
        p = pybamm.ParameterValues.create_from_bpx_obj(copy.deepcopy(parameter_set))
        kelvin = temperature + 273.15
        p.update({"Ambient temperature [K]": kelvin, "Initial temperature [K]": kelvin,
                  **changes}, check_already_exists=False)
    else:
        p = g.parameter_values(parameter_set, changes, temperature)
    p["Current function [A]"] = pybamm.Interpolant(t, -_current(vector), pybamm.t,
                                                   interpolator="linear")
    # the replayed current, not a charger, decides: no voltage cut-off ends the run
    p.update({"Upper voltage cut-off [V]": 10.0, "Lower voltage cut-off [V]": 0.0})
    sim = pybamm.Simulation(model, parameter_values=p, solver=g._solver(dt_max=0.5))
    sol = sim.solve([0.0, float(t[-1])], t_interp=t, initial_soc=_initial_state(vector))
    if sol.t[-1] < t[-1] - 1e-6:
        raise RuntimeError(f"stopped at {sol.t[-1]:.0f} s ({sol.termination})")
    return np.asarray(sol["Voltage [V]"](t), dtype=float)


def _current(vector: Vector) -> np.ndarray:
    current = vector["current_A"].astype(float)
    return current if current.ndim == 1 else current[:, 0]


def _initial_state(vector: Vector) -> float:
    return float(vector.info.changes["cell[0]: initial stoichiometric SoC (PyBaMM)"])


def _own_changes(vector: Vector) -> dict[str, float]:
    """The vector's changes that hold for its first cell (a pack's spread: cell 0's)."""
    out: dict[str, float] = {}
    for key, value in vector.info.changes.items():
        if key.startswith("cell[0]: ") and "initial stoichiometric" not in key:
            out[key.removeprefix("cell[0]: ")] = float(value)
        elif not key.startswith(("cell[", "spread")):
            out[key] = float(value)
    return out


def summary(vector: Vector, model_V: np.ndarray) -> str:
    measured = vector["cell_voltage_V"][:, 0].astype(float)
    error = measured - model_V
    low = np.abs(_current(vector)) < LOW_CURRENT_A
    last = vector["t_s"] >= float(vector["t_s"][-1]) - LAST_S
    return (f"RMS {1e3 * np.sqrt(np.mean(error ** 2)):6.2f} mV, below {LOW_CURRENT_A:g} A "
            f"{1e3 * np.sqrt(np.mean(error[low] ** 2)):6.2f} mV, last {LAST_S:g} s "
            f"{1e3 * float(np.mean(error[last])):+6.2f} mV")


def main() -> None:
    wanted = set(sys.argv[1:])
    pybamm = g._pybamm()
    for vector in load_vectors(vectors_dir()):
        if wanted and vector.info.id not in wanted:
            continue
        nominal = bpx_document(vector)  # the cell_bpx a module is handed
        print(f"{vector.info.id} ({vector.info.parameter_set}, "
              f"{vector.info.temperature_degC:g} °C, {vector.info.duration_s:g} s)", flush=True)
        ecm = ecm_voltage(vector, CellModel.from_ecm(characterization(vector)))
        print(f"  {'ECM (characterization)':<26} {summary(vector, ecm)}", flush=True)
        runs: list[tuple[str, Any, str | dict[str, Any], dict[str, float]]] = []
        if nominal is None:
            print(f"  {'SPM, SPMe (nominal cell)':<26} no BPX document beside the vector")
        else:
            ours = reference_spme_voltage(vector, nominal)
            print(f"  {'reference SPMe (nominal)':<26} {summary(vector, ours)}", flush=True)
            runs += [("SPM (nominal cell)", pybamm.lithium_ion.SPM(), nominal, {}),
                     ("SPMe (nominal cell)", pybamm.lithium_ion.SPMe(), nominal, {})]
        runs.append(("SPMe (the vector's cell)",
                     pybamm.lithium_ion.SPMe(options={"contact resistance": "true"}),
                     vector.info.parameter_set, _own_changes(vector)))
        for label, model, parameter_set, changes in runs:
            try:
                voltage = pybamm_voltage(vector, model, parameter_set, changes)
            except Exception as exc:  # noqa: BLE001 - a model that cannot follow: say so
                print(f"  {label:<26} did not run: {type(exc).__name__}: {exc}"[:200], flush=True)
                continue
            print(f"  {label:<26} {summary(vector, voltage)}", flush=True)


if __name__ == "__main__":
    main()
