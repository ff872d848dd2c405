"""One small vector regenerated with PyBaMM and compared with its shipped copy.

Not bit for bit: the same PyBaMM version on two machines differs at solver-tolerance level
(1.7e-4 V measured on a 10 °C DFN case), and another PyBaMM version may move the numbers a
little more. Tolerances (:data:`TOLERANCE`): voltage 2 mV, SoC 5e-4, capacity and resistance
0.5 % — each ten times or more the machine-to-machine difference, each well below what would
change a judgement (the SoC bounds are 0.03 RMS / 0.05 largest)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conformance.vectors.format import load_vector

DATA = Path(__file__).parent / "data"
TOLERANCE = {  # array → (absolute, relative)
    "t_s": (1e-9, 0.0),
    "current_A": (1e-5, 0.0),
    "cell_voltage_V": (2e-3, 0.0),
    "cell_temperature_degC": (1e-4, 0.0),
    "cell_soc": (5e-4, 0.0),
    "cell_capacity_Ah": (0.0, 5e-3),
    "cell_resistance_ohm": (0.0, 5e-3),
}


@pytest.mark.slow
def test_the_short_case_regenerates(tmp_path: Path) -> None:
    pytest.importorskip("pybamm")
    from conformance.vectors.generate import SHORT_CASE, build_vector

    shipped = load_vector(DATA / f"{SHORT_CASE.id}.json")
    fresh = load_vector(build_vector(SHORT_CASE, tmp_path, log=lambda _: None))
    skip = {"sha256", "pybamm_version"}
    assert fresh.info.model_dump(exclude=skip) == shipped.info.model_dump(exclude=skip)
    for name, (atol, rtol) in TOLERANCE.items():
        np.testing.assert_allclose(fresh[name], shipped[name], atol=atol, rtol=rtol,
                                   err_msg=name)


@pytest.mark.slow
@pytest.mark.parametrize("cell", ["nmc-chen2020", "lfp-prada2013"])
def test_the_bpx_characterization_reproduces_its_capacity(cell: str) -> None:
    """PyBaMM reads the shipped BPX file back; its reference capacity (the charge of a
    reference-current discharge from the full state) is the .ecm.json's within 0.5 %."""
    pybamm = pytest.importorskip("pybamm")
    import json
    import warnings

    from conformance.paths import vectors_dir
    from conformance.vectors.generate import CELLS

    ref = CELLS[cell]
    ecm = json.loads((vectors_dir() / f"{cell}.ecm.json").read_text(encoding="utf-8"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = pybamm.ParameterValues.create_from_bpx(str(vectors_dir() / f"{cell}.bpx.json"))
    p.update({"Lower voltage cut-off [V]": ref.empty_V - 0.2,
              "Upper voltage cut-off [V]": ref.full_V + 0.2})
    i_ref = ref.reference_current_A
    experiment = pybamm.Experiment([(f"Charge at {i_ref} A until {ref.full_V} V",
                                     f"Discharge at {i_ref} A until {ref.empty_V} V")],
                                   period="10 minutes")
    sol = pybamm.Simulation(pybamm.lithium_ion.DFN(), parameter_values=p,
                            experiment=experiment).solve(initial_soc=0.9)
    discharged = sol.cycles[0].steps[1]["Discharge capacity [A.h]"].entries
    assert discharged[-1] - discharged[0] == pytest.approx(ecm["reference_capacity_Ah"],
                                                           rel=5e-3)
