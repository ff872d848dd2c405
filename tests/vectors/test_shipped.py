"""Every shipped test vector loads and checks, and its truth is consistent with itself."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conformance.paths import vectors_dir
from conformance.vectors.format import SOC_SLACK, Vector, load_vector, load_vectors

VECTORS = sorted(p for p in vectors_dir().glob("*.json") if p.with_suffix(".npz").exists())
MAX_TOTAL_BYTES = 5_000_000
COULOMB_TOLERANCE = 1e-4
"""Largest |ΔSoC − ∫I dt / capacity| over a vector: the SoC trace comes from the solver's own
charge integral, the check integrates the float32 current by the trapezoidal rule."""


def _ids() -> list[str]:
    return [p.stem for p in VECTORS]


def test_the_catalogue_is_shipped() -> None:
    assert len(VECTORS) >= 8
    chemistries = {load_vector(p).info.chemistry for p in VECTORS}
    assert {"nmc", "lfp"} <= chemistries
    assert [v.info.id for v in load_vectors(vectors_dir())] == _ids()


def test_shipped_vectors_stay_small() -> None:
    total = sum(f.stat().st_size for f in vectors_dir().iterdir() if f.is_file())
    assert total <= MAX_TOTAL_BYTES, f"vectors/ holds {total} bytes"


@pytest.fixture(params=VECTORS, ids=_ids())
def vector(request: pytest.FixtureRequest) -> Vector:
    return load_vector(request.param)


def test_vector_loads_with_its_shapes(vector: Vector) -> None:
    n, c = vector.n_samples, vector.info.n_cells
    assert vector.info.id == vector.path.stem
    assert vector["cell_voltage_V"].shape == (n, c)
    assert vector["cell_soc"].shape == (n, c)
    assert vector["cell_capacity_Ah"].shape == (c,)
    if vector.info.profile == "cycles":  # two full cycles, hours long: 1 s samples
        assert vector.info.dt_s == pytest.approx(1.0)
        assert 3600.0 <= vector.info.duration_s <= 54000.0
    elif vector.info.profile == "partial-cycling":  # the long run: 1 s current levels
        assert vector.info.dt_s == pytest.approx(1.0)
        assert 3600.0 <= vector.info.duration_s <= 7200.0
    else:
        assert vector.info.dt_s == pytest.approx(0.1)
        assert 60.0 <= vector.info.duration_s <= 2400.0 + 1e-6


def test_soc_and_voltage_within_the_reference(vector: Vector) -> None:
    ref = vector.info.soc_reference
    soc = vector["cell_soc"]
    assert soc.min() >= -SOC_SLACK and soc.max() <= 1 + SOC_SLACK
    v = vector["cell_voltage_V"]
    assert v.min() >= ref.empty_voltage_V - 0.3
    assert v.max() <= ref.full_voltage_V + 0.01


def test_truth_soc_follows_the_coulombs(vector: Vector) -> None:
    t = vector["t_s"]
    current = vector["current_A"].astype(np.float64)
    charge_Ah = np.concatenate([[0.0], np.cumsum(0.5 * (current[1:] + current[:-1])
                                                 * np.diff(t))]) / 3600.0
    soc = vector["cell_soc"].astype(np.float64)
    for cell, capacity in enumerate(vector["cell_capacity_Ah"].astype(np.float64)):
        error = soc[:, cell] - soc[0, cell] - charge_Ah / capacity
        assert np.max(np.abs(error)) <= COULOMB_TOLERANCE, (vector.info.id, cell)


def test_truth_capacity_and_resistance_fit_the_characterization(vector: Vector) -> None:
    """The truth cell deviates from its characterization as ageing, spread or another cell
    would, never by an order of magnitude; aged cells have less capacity and more resistance."""
    ecm_path = vector.path.parent / vector.info.characterization.replace(".bpx.json",
                                                                         ".ecm.json")
    assert (vector.path.parent / vector.info.characterization).is_file()
    ecm = json.loads(ecm_path.read_text(encoding="utf-8"))
    assert ecm["soc_reference"] == vector.info.soc_reference.model_dump()
    nominal_capacity = ecm["reference_capacity_Ah"]
    nominal_r0 = [p["r0_ohm"] for p in ecm["ecm"]["points"]
                  if p["temperature_degC"] == 25 and p["soc"] == 0.5][0]
    capacity = vector["cell_capacity_Ah"]
    resistance = vector["cell_resistance_ohm"]
    assert np.all((capacity > 0.75 * nominal_capacity) & (capacity < 1.1 * nominal_capacity))
    assert np.all((resistance > 0.5 * nominal_r0) & (resistance < 3.0 * nominal_r0))
    if "aged" in vector.info.id:
        assert np.all(capacity < 0.9 * nominal_capacity)
        if vector.info.temperature_degC <= 25:
            assert np.all(resistance > 1.25 * nominal_r0)


PACKS = [p for p in VECTORS if load_vector(p).info.n_cells > 1]


@pytest.mark.parametrize("path", PACKS, ids=[p.stem for p in PACKS])
def test_a_pack_has_spread(path: Path) -> None:
    vector = load_vector(path)
    for name in ("cell_capacity_Ah", "cell_resistance_ohm"):
        assert np.ptp(vector[name]) > 0, name
    assert np.ptp(vector["cell_soc"][0]) > 0.005
    assert np.ptp(vector["cell_voltage_V"], axis=1).max() > 0.001


def test_characterizations_are_bpx_and_ecm() -> None:
    for bpx_path in sorted(vectors_dir().glob("*.bpx.json")):
        doc = json.loads(bpx_path.read_text(encoding="utf-8"))
        assert doc["Header"]["Model"] == "DFN"
        ecm = json.loads(bpx_path.with_name(bpx_path.name.replace(".bpx.", ".ecm."))
                         .read_text(encoding="utf-8"))
        assert ecm["format"] == "obsa-ecm/1"
        soc = np.asarray(ecm["ocv"]["soc"])
        assert soc[0] == 0.0 and soc[-1] == 1.0
        for ocv in ecm["ocv"]["ocv_V"].values():
            assert np.all(np.diff(ocv) > 0), bpx_path.name  # OCV rises with SoC
            ref = ecm["soc_reference"]
            assert ref["empty_voltage_V"] <= ocv[0] <= ref["empty_voltage_V"] + 0.4
            assert ref["full_voltage_V"] - 0.1 <= ocv[-1] <= ref["full_voltage_V"]
        for point in ecm["ecm"]["points"]:
            assert point["fit_rms_V"] < 0.005
        bpx = pytest.importorskip("bpx")
        bpx.parse_bpx_obj(doc)


def test_vector_files_come_in_pairs() -> None:
    for npz in vectors_dir().glob("*.npz"):
        assert npz.with_suffix(".json").is_file(), npz.name
    for js in vectors_dir().glob("*.json"):
        if js.name.endswith(".truth.json"):  # the truth model of a vector's cells
            assert js.with_name(js.name[: -len(".truth.json")] + ".npz").is_file(), js.name
        else:
            assert js.name.endswith((".bpx.json", ".ecm.json")) or js.with_suffix(".npz").is_file()


def test_vectors_dir_holds_the_documented_vectors() -> None:
    readme = (vectors_dir() / "README.md").read_text(encoding="utf-8")
    assert "format.py" in readme
    for path in VECTORS:
        assert f"`{path.stem}`" in readme, f"{path.stem} is not in vectors/README.md"
