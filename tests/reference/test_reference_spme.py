"""The reference's reduced SPMe (reference_impl/functions/spme.py), built from the nominal
cell's BPX document the bench hands an estimator (``cell_bpx``): its physics against closed
forms, its voltage against the shipped vectors' DFN truth, and the errors a broken document
gets."""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from conformance.harness.replay import bpx_document, characterization
from conformance.paths import vectors_dir
from conformance.vectors import load_vectors
from reference_impl.functions.cell_model import CellModel
from reference_impl.functions.soc import SocEstimator
from reference_impl.functions.spme import MODES, ROOTS, VOLUMES, F, Spme

#: what the reference's state-estimation manifest declares for the SoC estimator
DECLARED = yaml.safe_load((Path(__file__).resolve().parents[2] / "reference_impl"
                           / "manifest_state_estimation.yaml").read_text(encoding="utf-8")
                          )["configuration"]["soc_estimator"]
CELLS = {"nmc": "nmc-chen2020", "lfp": "lfp-prada2013"}


def cell(name: str) -> tuple[dict[str, Any], CellModel]:
    bpx = json.loads((vectors_dir() / f"{name}.bpx.json").read_text(encoding="utf-8"))
    ecm = CellModel.load(vectors_dir() / f"{name}.ecm.json")
    return bpx, ecm


def test_the_modes_sum_to_the_parabolic_steady_state() -> None:
    # tan λ = λ, and Σ 2/λ² over all roots is 1/5: the kept modes and the rest weight
    assert np.allclose(np.tan(ROOTS), ROOTS, rtol=1e-9)
    assert np.all(np.diff(ROOTS) > 3.0)
    model = Spme(*cell("nmc-chen2020"))
    model.advance(-5.0, 0.1, 298.15)
    assert 0.0 < model.rest_weight < 0.011 and len(model.weights) == MODES


@pytest.mark.parametrize("chemistry", ["nmc", "lfp"])
def test_a_long_constant_current_reaches_the_parabolic_profile(chemistry: str) -> None:
    """Surface minus mean concentration under a constant flux N, after many diffusion times:
    −N·R / (5·D), the closed form of spherical diffusion."""
    model = Spme(*cell(CELLS[chemistry]))
    current = -float(model.capacity_Ah)  # 1C discharge
    for _ in range(400):
        model.advance(current, 100.0, 298.15)
    offset_n, offset_p = model.surface_offsets()
    for electrode, offset, flux in ((model.neg, offset_n, model.flux_n),
                                    (model.pos, offset_p, model.flux_p)):
        closed = -flux * electrode.radius_m / (5.0 * electrode.diffusivity_m2_s)
        assert offset * electrode.c_max == pytest.approx(closed, rel=1e-6)
    assert offset_n < 0.0 < offset_p  # discharge: the negative empties at its surface


def test_the_electrolyte_keeps_its_salt_and_reaches_the_closed_form_gradient() -> None:
    bpx, ecm = cell("nmc-chen2020")
    model = Spme(bpx, ecm)
    current = -5.0
    for _ in range(2000):
        model.advance(current, 1.0, 298.15)
    n, p = model.neg, model.pos
    widths = np.concatenate([np.full(k, length / k) for k, length in
                             zip(VOLUMES, (n.thickness_m, model.sep_thickness, p.thickness_m),
                                 strict=True)])
    porosity = np.concatenate([np.full(VOLUMES[0], n.porosity),
                               np.full(VOLUMES[1], model.sep_porosity),
                               np.full(VOLUMES[2], p.porosity)])
    assert abs(float(np.sum(porosity * widths * model.c_e))) < 1e-9 * model.c_e0
    # steady state: c̄_n − c̄_p = (1 − t⁺)(I/A)/F · (L_n/3D_n + L_s/D_s + L_p/3D_p)
    d = model.d_e
    closed = ((1.0 - model.t_plus) * 5.0 / (model.area_m2 * F)
              * (n.thickness_m / (3 * d * n.transport_efficiency)
                 + model.sep_thickness / (d * model.sep_efficiency)
                 + p.thickness_m / (3 * d * p.transport_efficiency)))
    found = float(np.mean(model.c_e[model.e_neg]) - np.mean(model.c_e[model.e_pos]))
    assert found == pytest.approx(closed, rel=0.03)


@pytest.mark.parametrize("name", list(CELLS.values()))
def test_the_soc_maps_onto_the_characterizations_ocv(name: str) -> None:
    bpx, ecm = cell(name)
    model = Spme(bpx, ecm)
    soc = np.linspace(0.05, 0.95, 19)
    assert model.ocv_fit_rms_V < 0.001
    assert np.max(np.abs(model.ocv(soc) - ecm.ocv(soc, 25.0))) < 0.003
    # the series resistance is what R0 leaves over the model's own, a few milliohms at most
    assert np.all(np.abs(model.series_ohm) < 0.005)


def vector(vector_id: str) -> Any:
    return next(v for v in load_vectors(vectors_dir()) if v.info.id == vector_id)


@pytest.mark.parametrize(("vector_id", "whole_mV", "low_mV", "rest_mV"),
                         [("nmc-wltc-25c", 5.0, 2.5, 4.0),
                          ("nmc-partial-cycling-25c", 3.5, 1.0, 1.0),
                          ("lfp-wltc-25c", 3.5, 1.5, 1.0)])
def test_the_voltage_follows_the_dfn_truth_of_the_nominal_cell(
        vector_id: str, whole_mV: float, low_mV: float, rest_mV: float) -> None:
    """Open loop at the truth's SoC, the diffusion driven by the vector's current: RMS over
    the vector, over its samples below 1 A and the mean of its last 100 s (measured 4.1,
    1.9, −2.7 mV on nmc-wltc-25c, where the characterization's circuit is 15.4, 13.1 and
    −26 mV off: benchmarks/model_error.py)."""
    v = vector(vector_id)
    bpx = bpx_document(v)
    assert bpx is not None
    model = Spme(bpx, CellModel.from_ecm(characterization(v)))
    current = v["current_A"].astype(float)
    voltage = model.replay(current, v["cell_soc"][:, 0], v.info.dt_s,
                           float(v.info.temperature_degC))
    error = v["cell_voltage_V"][:, 0] - voltage
    low = np.abs(current) < 1.0
    last = v["t_s"] >= v["t_s"][-1] - 100.0
    assert 1e3 * np.sqrt(np.mean(error ** 2)) < whole_mV
    assert 1e3 * np.sqrt(np.mean(error[low] ** 2)) < low_mV
    assert abs(1e3 * np.mean(error[last])) < rest_mV


def _broken(edit: Any) -> dict[str, Any]:
    bpx, _ = cell("nmc-chen2020")
    bpx = copy.deepcopy(bpx)
    edit(bpx["Parameterisation"])
    return bpx


@pytest.mark.parametrize(("edit", "message"), [
    (lambda p: p["Negative electrode"].pop("Particle radius [m]"),
     r"Negative electrode: missing 'Particle radius \[m\]'"),
    (lambda p: p["Positive electrode"].update({"OCP [V]": "3.7 - 0.1*x"}),
     r"Positive electrode: 'OCP \[V\]': a function of BPX is not evaluated"),
    (lambda p: p["Positive electrode"].update({"Diffusivity [m2.s-1]": -1e-15}),
     r"Positive electrode: 'Diffusivity \[m2.s-1\]': expected > 0"),
    (lambda p: p["Negative electrode"].update({"Minimum stoichiometry": 0.95}),
     r"Negative electrode: expected 0 ≤ Minimum stoichiometry < Maximum"),
    (lambda p: p["Negative electrode"]["OCP [V]"].update({"y": [1.0, 2.0]}),
     r"Negative electrode: 'OCP \[V\]': expected x ascending and as many finite y"),
    (lambda p: p.pop("Separator"), r"Parameterisation.Separator: expected an object"),
    (lambda p: p["Cell"].update({"Electrode area [m2]": "large"}),
     r"Cell: 'Electrode area \[m2\]': expected a number, found 'large'"),
    (lambda p: p["Positive electrode"].update(
        {"Reaction rate constant activation energy [J.mol-1]": "high"}),
     r"Positive electrode: 'Reaction rate constant activation energy \[J.mol-1\]': "
     r"expected a number, found 'high'"),
], ids=["missing-radius", "ocp-function", "negative-diffusivity", "stoichiometry-window",
        "ocp-table-lengths", "no-separator", "area-not-a-number", "energy-not-a-number"])
def test_a_broken_document_is_named(edit: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Spme(_broken(edit), cell("nmc-chen2020")[1])
    with pytest.raises(ValueError, match="expected a BPX document"):
        Spme({"Header": {}}, cell("nmc-chen2020")[1])


def test_the_soc_estimator_takes_the_bpx_document_with_its_characterization() -> None:
    bpx, ecm = cell("nmc-chen2020")
    est = SocEstimator()
    est.configure(dict(DECLARED, **{"cell_characterization": ecm.to_ecm(),
                                             "cell_bpx": bpx}))
    assert est._spme is not None
    # a new characterization without a BPX document: the circuit alone
    est.configure(dict(DECLARED, **{"cell_characterization": ecm.to_ecm()}))
    assert est._spme is None
    # a document the model cannot read: the circuit alone, and why
    with pytest.warns(UserWarning, match="Negative electrode: missing 'Thickness"):
        est.configure(dict(DECLARED, **{
            "cell_characterization": ecm.to_ecm(),
            "cell_bpx": _broken(lambda p: p["Negative electrode"].pop("Thickness [m]"))}))
    assert est._spme is None and "Thickness" in str(est.bpx_problem)
    est.configure(dict(DECLARED, **{"cell_characterization": ecm.to_ecm(), "cell_bpx": bpx}))
    assert est._spme is not None and est.bpx_problem is None


def replay(vector_id: str, offset: float, bpx: bool = True) -> tuple[float, float, SocEstimator]:
    """The SoC filter over a shipped vector from its start (a rest), ``offset`` from the
    truth, with the sensor errors of benchmarks/soc_on_vectors.py (2 mV noise, current gain
    +0.5 % and offset +50 mA, seeded): the worst cell's RMSE and the largest error after
    300 s, and the filter."""
    v = vector(vector_id)
    ecm = characterization(v)
    est = SocEstimator()
    est.configure(dict(DECLARED, **{
        "cell_characterization": ecm, "reference_capacity_Ah": ecm["reference_capacity_Ah"],
        "soc_reference_current_A": v.info.soc_reference.current_A,
        "soc_full_voltage_V": v.info.soc_reference.full_voltage_V,
        "soc_empty_voltage_V": v.info.soc_reference.empty_voltage_V,
        "initial_soc": float(np.clip(v["cell_soc"][0].mean() + offset, 0.0, 1.0)),
        **({"cell_bpx": bpx_document(v)} if bpx else {})}))
    rng = np.random.default_rng(1)
    truth = v["cell_soc"]
    n, cells = truth.shape
    current = v["current_A"].astype(float) * 1.005 + 0.05
    valid = np.ones(cells, dtype=bool)
    estimate = np.empty((n, cells))
    for i in range(n):
        estimate[i] = est.step(float(v["t_s"][i]), {
            "cell_voltage_V": v["cell_voltage_V"][i] + rng.normal(0.0, 0.002, cells),
            "cell_voltage_valid": valid,
            "cell_temperature_degC": v["cell_temperature_degC"][i].astype(float),
            "pack_current_A": float(current[i]), "current_sensor_age_s": 0.0})["cell_soc"]
    after = (estimate - truth)[int(round(300.0 / v.info.dt_s)):]
    return (float(np.max(np.sqrt(np.mean(after ** 2, axis=0)))),
            float(np.max(np.abs(after))), est)


def test_the_filter_on_the_spme_meets_the_nmc_target_where_the_circuit_does_not() -> None:
    """nmc-wltc-25c from rest, 0.2 above the truth: measured 0.43 % RMSE with the document,
    1.31 % with the circuit alone (the reference's target: 1 %, largest error 3 %)."""
    rmse, largest, _ = replay("nmc-wltc-25c", +0.2)
    circuit, _, _ = replay("nmc-wltc-25c", +0.2, bpx=False)
    assert rmse <= 0.01 and largest <= 0.03
    assert circuit > 2.0 * rmse


def test_the_filter_finds_an_aged_cells_capacity_and_resistance() -> None:
    """nmc-aged-pulses-25c: active material × 0.8 (g = 1/0.8 − 1 = 0.25) and a contact
    resistance of 10.1 mΩ, neither told; measured 0.80 % RMSE (1.95 % with the circuit)."""
    rmse, largest, est = replay("nmc-aged-pulses-25c", -0.1)
    assert rmse <= 0.01 and largest <= 0.03
    assert 0.1 <= float(est.gain[0]) <= 0.35
    assert 0.005 <= float(est.r_series[0]) <= 0.02


def test_an_lfp_cell_started_above_the_truth_lands_off_the_plateau() -> None:
    """lfp-wltc-25c from rest at SoC 0.9, 0.1 above: the progressive correction (measured
    1.82 % RMSE; 3.64 % corrected at once)."""
    rmse, largest, _ = replay("lfp-wltc-25c", +0.1)
    assert rmse <= 0.02 and largest <= 0.03


@pytest.mark.parametrize("bpx", [True, False], ids=["spme", "circuit"])
def test_the_correction_by_blocks_is_that_of_the_whole_string(
        bpx: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The filter corrects BLOCK cells at a time: 37 cells (nmc-pack4-wltc-25c's four
    repeated, their initial SoC spread, one cell's voltage not vouched for over a stretch)
    in blocks of 8 (four full blocks and a short one) end where one block of all ends."""
    v = vector("nmc-pack4-wltc-25c")
    ecm = characterization(v)
    cells = np.arange(37) % v.info.n_cells
    rng = np.random.default_rng(3)
    initial = rng.uniform(-0.1, 0.1, cells.size)

    def run(block: int) -> SocEstimator:
        monkeypatch.setattr(SocEstimator, "BLOCK", block)
        est = SocEstimator()
        est.configure(dict(DECLARED, **{
            "cell_characterization": ecm, "reference_capacity_Ah": ecm["reference_capacity_Ah"],
            "initial_soc": 0.5, **({"cell_bpx": bpx_document(v)} if bpx else {})}))
        for i in range(0, 3000, 5):
            valid = np.ones(cells.size, dtype=bool)
            if 1000 <= i < 1500:
                valid[11] = False
            out = est.step(float(v["t_s"][i]), {
                "cell_voltage_V": v["cell_voltage_V"][i][cells].astype(float),
                "cell_voltage_valid": valid,
                "cell_temperature_degC": v["cell_temperature_degC"][i][cells].astype(float),
                "pack_current_A": float(v["current_A"][i]), "current_sensor_age_s": 0.0})
            if i == 0:
                est.soc += initial  # each cell its own error, after the first step
        assert np.all(np.isfinite(out["cell_soc"]))
        return est

    whole, blocks = run(16384), run(8)
    np.testing.assert_allclose(blocks.x, whole.x, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(blocks.p, whole.p, rtol=1e-10, atol=1e-18)
    # the states are corrected: the spread of the initial errors is gone
    assert np.ptp(whole.soc - v["cell_soc"][2995][cells]) < 0.02


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_filter_on_the_spme_warns_of_nothing_in_either_precision(dtype: Any) -> None:
    """10 000 cells in float32 and float64, over the first steps, where a wide SoC is
    corrected in parts: no warning, every estimate a number. (benchmarks/estimation.py run
    with -W error::RuntimeWarning once stopped on 'invalid value encountered in cast' in the
    float32 filter, where a float64 OCP table was gathered into float32 scratch; not after
    the tables were kept in the arrays' dtype. This case did not reproduce it.)"""
    bpx, ecm = cell("nmc-chen2020")
    est = SocEstimator(dtype=dtype)
    est.configure(dict(DECLARED, **{"cell_characterization": ecm.to_ecm(), "cell_bpx": bpx}))
    n = 10_000
    rng = np.random.default_rng(5)
    inputs = {"cell_voltage_V": ecm.ocv(rng.uniform(0.3, 0.8, n), 25.0).astype(dtype),
              "cell_voltage_valid": np.ones(n, dtype=bool),
              "cell_temperature_degC": rng.uniform(20.0, 30.0, n),
              "pack_current_A": -2.0, "current_sensor_age_s": 0.0}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(5):
            out = est.step(float(k), inputs)
    assert est.soc.dtype == dtype and np.all(np.isfinite(out["cell_soc"]))
