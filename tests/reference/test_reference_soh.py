"""The reference SoH estimator's ohmic resistance, round-trip efficiency and state of certified
energy against a synthetic equivalent-circuit cell it does not know exactly (its R0 risen,
its RC pairs not), exact inputs: what each is computed from, not how accurate it is on the
test vectors (that is the suite's, conformance/suite/test_soh_estimator.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from reference_impl.functions.cell_model import CellModel
from reference_impl.functions.soh import SohEstimator

MODEL = CellModel.nominal_nmc()
Q = MODEL.capacity_Ah
R0 = float(MODEL.r0(25.0))
DECLARED = yaml.safe_load((Path(__file__).resolve().parents[2] / "reference_impl"
                           / "manifest_state_estimation.yaml").read_text(encoding="utf-8")
                          )["configuration"]["soh_estimator"]
CELLS = 3


class Cell:
    """OCV(SoC) + r0_scale·R0·I + the nominal RC pairs, the same for every cell."""

    def __init__(self, soc: float, r0_scale: float) -> None:
        self.soc, self.r0_scale = soc, r0_scale
        self.v_rc = np.zeros(len(MODEL.rc))

    def step(self, current: float, dt: float) -> float:
        self.soc += current * dt / (3600.0 * Q)
        for i, pair in enumerate(MODEL.rc):
            a = np.exp(-dt / pair.tau_s)
            self.v_rc[i] = a * self.v_rc[i] + float(MODEL.rc_r(i, 25.0)) * (1 - a) * current
        return float(MODEL.ocv(self.soc, 25.0)) + self.r0_scale * R0 * current + float(
            self.v_rc.sum())


def estimator() -> SohEstimator:
    soh = SohEstimator(MODEL)
    soh.configure({**DECLARED, "rated_capacity_Ah": Q, "initial_resistance_ohm": R0,
                   "certified_energy_Wh": 1000.0})
    soh.reset()
    return soh


def run(soh: SohEstimator, cell: Cell, profile: np.ndarray) -> list[dict[str, Any]]:
    """Every 1 s: the cell stepped by the profile's current, the estimator given exact
    inputs (the true SoC among them)."""
    outs = []
    for k, current in enumerate(profile):
        v = cell.step(float(current), 1.0)
        outs.append(soh.step(float(k), {
            "cell_voltage_V": np.full(CELLS, v), "cell_voltage_valid": np.ones(CELLS, bool),
            "cell_temperature_degC": [25.0], "pack_current_A": float(current),
            "pack_voltage_V": CELLS * v, "cell_soc": np.full(CELLS, cell.soc)}))
    return outs


def segments(*parts: tuple[float, float]) -> np.ndarray:
    """(seconds, C-rate) → current per second."""
    return np.concatenate([np.full(round(s), c * Q) for s, c in parts])


def test_a_risen_r0_is_found_from_current_steps_mid_range() -> None:
    """R0 × 1.4 with the RC pairs unchanged (a contact resistance): pulses at SoC 0.5 give
    1.4 × R0 (a scale of the whole overpotential would give less)."""
    profile = segments((60, 0), *[(10, -1.0), (50, 0), (10, 0.5), (50, 0)] * 4)
    outs = run(estimator(), Cell(0.5, 1.4), profile)
    assert outs[0]["cell_resistance_ohm"] == pytest.approx(np.full(CELLS, R0))
    assert outs[-1]["cell_resistance_ohm"] == pytest.approx(np.full(CELLS, 1.4 * R0), rel=0.01)


def test_steps_outside_the_range_count_only_until_steps_inside_it_are_seen() -> None:
    """Steps at SoC 0.9 give an estimate; once enough steps at SoC 0.5 have been seen, theirs
    is reported, whatever the earlier ones said."""
    soh = estimator()
    high = run(soh, Cell(0.9, 1.2), segments((60, 0), *[(10, -1.0), (50, 0)] * 6))
    assert high[-1]["cell_resistance_ohm"] == pytest.approx(np.full(CELLS, 1.2 * R0), rel=0.01)
    mid = run(soh, Cell(0.5, 1.5), segments(*[(10, -1.0), (50, 0)] * 6))
    assert mid[-1]["cell_resistance_ohm"] == pytest.approx(np.full(CELLS, 1.5 * R0), rel=0.01)


def test_efficiency_is_measured_over_a_whole_loop_and_soce_over_a_full_discharge() -> None:
    """From SoC 0.5: C/3 down to the empty voltage, C/2 up to the full voltage and held there,
    C/3 down to the empty voltage again. The efficiency is E_out / E_in of the inputs over
    the loop back to the start's SoC after it went both ways; soce is the energy of the
    discharge from the full state over certified_energy_Wh."""
    cell = Cell(0.5, 1.3)
    soh = estimator()
    v_full, v_empty = float(MODEL.ocv(1.0, 25.0)), float(MODEL.ocv(0.0, 25.0))
    t, currents, volts, socs, outs = 0, [], [], [], []

    def go(c_rate: float, until: Any) -> None:
        nonlocal t
        while True:
            v = cell.step(c_rate * Q, 1.0)
            currents.append(c_rate * Q)
            volts.append(v)
            socs.append(cell.soc)
            outs.append(soh.step(float(t), {
                "cell_voltage_V": np.full(CELLS, v), "cell_voltage_valid": np.ones(CELLS, bool),
                "cell_temperature_degC": [25.0], "pack_current_A": c_rate * Q,
                "pack_voltage_V": CELLS * v, "cell_soc": np.full(CELLS, cell.soc)}))
            t += 1
            if until(v):
                return

    go(-1 / 3, lambda v: v <= v_empty + 0.005)
    go(0.0, lambda v: len(currents) % 600 == 0)
    go(0.5, lambda v: v >= v_full)
    start_full = len(currents)
    go(0.0, lambda v: len(currents) - start_full >= 600)
    go(-1 / 3, lambda v: v <= v_empty + 0.005)
    power = CELLS * np.asarray(volts) * np.asarray(currents)
    soc = np.asarray(socs)
    # the loop: from the step after the one that set its start (the second step) to the one
    # where the SoC crossed that start again on the way down
    closed = int(np.flatnonzero((soc[:-1] >= soc[1]) & (soc[1:] < soc[1]))[-1]) + 1
    loop = slice(2, closed + 1)
    expected = -power[loop][power[loop] < 0].sum() / power[loop][power[loop] > 0].sum()
    assert outs[closed - 1]["round_trip_efficiency"] != pytest.approx(expected, abs=2e-3)
    assert outs[closed]["round_trip_efficiency"] == pytest.approx(expected, abs=1e-9)
    # to the first step at the empty voltage (within the estimator's slack)
    low = np.asarray(volts[start_full:]) <= v_empty + SohEstimator.END_VOLTAGE_SLACK_V
    end = start_full + int(np.argmax(low)) + 1
    discharge = -power[start_full:end][power[start_full:end] < 0].sum() / 3600.0
    assert outs[-1]["soce"] * 1000.0 == pytest.approx(discharge, rel=1e-6)
