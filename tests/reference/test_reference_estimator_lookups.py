"""What the reference SoH and SoP estimators look up cheaply, against the plain definitions:
the temperature terms (OCV row, R0 and RC resistances) computed per sensor with one search
(TemperatureLookup), and the SoH's voltage-SoC looked up only on the quiet steps that use it
(the anchor is a quiet period's last step, the self-discharge its first and those past
SELF_DISCHARGE_MIN_REST_S)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from reference_impl.functions.cell_model import (
    CellModel,
    CellTemperatures,
    RcPair,
    cell_temperatures,
)
from reference_impl.functions.soh import SohEstimator

NOMINAL = CellModel.nominal_nmc()
#: temperatures that are not whole degrees, unevenly apart; a model of one temperature
ODD = CellModel(5.0, np.linspace(0.0, 1.0, 5), np.array([-7.3, 3.1, 22.77, 40.5]),
                np.tile(np.linspace(3.0, 4.0, 5), (4, 1)),
                np.array([0.05, 0.031, 0.02, 0.017]),
                (RcPair(np.array([0.01, 0.008, 0.004, 0.0031]), 10.0),))
FLAT = CellModel(5.0, np.linspace(0.0, 1.0, 5), np.array([25.0]),
                 np.linspace(3.0, 4.0, 5)[None], np.array([0.02]),
                 (RcPair(np.array([0.005]), 10.0), RcPair(np.array([0.007]), 90.0)))
DECLARED = yaml.safe_load((Path(__file__).resolve().parents[2] / "reference_impl"
                           / "manifest_state_estimation.yaml").read_text(encoding="utf-8")
                          )["configuration"]["soh_estimator"]


def temperatures(model: CellModel, rng: np.random.Generator) -> np.ndarray:
    """Far beyond the model's range and within it, at its temperatures and where the nearest
    1 K row changes (half degrees from the first: ties np.rint rounds to the even row) and
    one ulp either side of each."""
    grid = model.temperatures_degC
    marks = np.concatenate([grid, grid[0] + np.arange(-60.5, 80.0, 1.0)])
    return np.concatenate([rng.uniform(-40.0, 90.0, 5000), [-1e300, 1e300], marks,
                           np.nextafter(marks, -np.inf), np.nextafter(marks, np.inf)])


@pytest.mark.parametrize("model", [NOMINAL, ODD, FLAT], ids=["nominal", "odd", "flat"])
def test_the_temperature_terms_are_np_interp_and_the_nearest_row(model: CellModel) -> None:
    t = temperatures(model, np.random.default_rng(1))
    rows, resistances = model.temperature_lookup.at(t)
    grid = model.temperatures_degC
    by_row = [model.r0_ohm, *(pair.r_ohm for pair in model.rc)]
    assert np.array_equal(resistances, np.array([np.interp(t, grid, r) for r in by_row]))
    lookup = model.lookup
    nearest = np.clip(np.rint(t - grid[0]), 0, lookup.rows - 1).astype(np.int64)
    assert np.array_equal(rows, nearest * lookup.width)
    assert np.array_equal(lookup.row_base(t), rows)


@pytest.mark.parametrize("sensors,cells", [(24, 96), (96, 96), (5, 16), (0, 8), (7, 3)])
def test_the_terms_per_sensor_are_those_per_cell(sensors: int, cells: int) -> None:
    rng = np.random.default_rng(sensors)
    kept = CellTemperatures(ODD, 25.0)
    for _ in range(20):
        readings = rng.uniform(-30.0, 80.0, sensors)
        if sensors:
            readings[rng.integers(sensors)] = rng.choice([np.nan, np.inf, -np.inf])
        kept.update(readings, cells)
        temps = cell_temperatures(readings, cells, 25.0)
        assert np.array_equal(kept.temps, temps)
        assert np.array_equal(kept.rows, ODD.lookup.row_base(temps))
        assert np.array_equal(kept.resistances, np.array(
            [ODD.r0(temps), *(ODD.rc_r(i, temps) for i in range(len(ODD.rc)))]))


# -- the SoH's voltage-SoC on quiet steps ---------------------------------------------------
CELLS = 3
Q = NOMINAL.capacity_Ah


def soh() -> SohEstimator:
    est = SohEstimator(NOMINAL)
    est.configure({**DECLARED, "rated_capacity_Ah": Q, "certified_energy_Wh": 1000.0,
                   "initial_resistance_ohm": float(NOMINAL.r0(25.0))})
    est.reset()
    return est


def replay(est: SohEstimator, current: np.ndarray, voltage: np.ndarray
           ) -> list[dict[str, Any]]:
    """Every 1 s, ``current`` and per cell ``voltage`` (rows: steps)."""
    return [est.step(float(k), {
        "cell_voltage_V": v, "cell_voltage_valid": np.ones(CELLS, bool),
        "cell_temperature_degC": [25.0], "pack_current_A": float(i),
        "pack_voltage_V": float(v.sum()), "cell_soc": np.full(CELLS, 0.5)})
        for k, (i, v) in enumerate(zip(current, voltage, strict=True))]


def rest_discharge_rest(rest_s: int) -> tuple[np.ndarray, np.ndarray]:
    """A rest at SoC 0.8, a 1C discharge to 0.3, a rest, a discharge that ends it: the
    current and the cells' voltages (the OCV, less R0·I while discharging)."""
    down = round(0.5 * 3600)
    current = np.concatenate([np.zeros(rest_s), np.full(down, -Q), np.zeros(rest_s),
                              np.full(5, -Q)])
    soc = 0.8 + np.cumsum(current) / (3600.0 * Q)
    v = NOMINAL.ocv(soc, 25.0) + float(NOMINAL.r0(25.0)) * current
    return current, np.repeat(v[:, None], CELLS, axis=1) + np.array([0.0, 0.001, -0.001])


def test_the_anchor_is_the_last_step_of_a_quiet_period() -> None:
    current, voltage = rest_discharge_rest(600)
    base = replay(soh(), current, voltage)
    assert base[-1]["cell_capacity_Ah"][0] != base[0]["cell_capacity_Ah"][0]  # a sample
    # each rest's steps after the one that completes the hold (the rest's first) and before
    # its last: not looked at (the first rest's steps start at 0, counting at 1)
    hold = int(SohEstimator.ANCHOR_HOLD_S)
    second = 600 + round(0.5 * 3600)
    moved = voltage.copy()
    moved[hold + 1:599] += 0.01
    moved[second + hold:second + 599] += 0.01
    for a, b in zip(base, replay(soh(), current, moved), strict=True):
        for name in a:
            assert np.array_equal(a[name], b[name]), name
    # the last one is the anchor
    moved = voltage.copy()
    moved[second + 599] += 0.01
    assert replay(soh(), current, moved)[-1]["cell_capacity_Ah"][0] != base[-1][
        "cell_capacity_Ah"][0]


def test_self_discharge_from_a_rest_of_an_hour_at_every_step() -> None:
    steps = 2 * 3600
    drift = np.linspace(0.0, -0.004, steps)  # the voltage of a cell losing charge
    voltage = NOMINAL.ocv(np.full(steps, 0.6), 25.0)[:, None] + drift[:, None] + np.array(
        [0.0, 0.001, 0.002])
    outs = replay(soh(), np.zeros(steps), voltage)
    hold = int(SohEstimator.ANCHOR_HOLD_S)  # the rest starts at the step that completes it
    start = NOMINAL.soc_of_ocv(voltage[hold], 25.0)
    for k in range(hold, steps):
        hours = (k - hold) / 3600.0
        if hours < 1.0:
            assert outs[k]["self_discharge_current_A"] == 0.0
            continue
        lost = (start - NOMINAL.soc_of_ocv(voltage[k], 25.0)) * Q / hours
        assert outs[k]["self_discharge_current_A"] == pytest.approx(
            max(float(lost.max()), 0.0), rel=1e-12)
    assert outs[-1]["self_discharge_current_A"] > 0.0
