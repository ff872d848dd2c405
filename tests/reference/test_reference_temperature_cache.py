"""What the reference SoH and SoP estimators take from the temperature sensors alone
(``CellTemperatures``): the same values as the functions it stands for, recomputed only when
the readings change, and estimates that do not depend on whether it was kept or recomputed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from reference_impl.functions.cell_model import CellModel, CellTemperatures, cell_temperatures
from reference_impl.functions.soh import SohEstimator
from reference_impl.functions.sop import SopEstimator

ROOT = Path(__file__).resolve().parents[2]
#: what the reference's state-estimation manifest declares, per component
DECLARED = yaml.safe_load((ROOT / "reference_impl" / "manifest_state_estimation.yaml")
                          .read_text(encoding="utf-8"))["configuration"]
VECTORS = ROOT / "vectors"
DOC = json.loads((VECTORS / "nmc-chen2020.ecm.json").read_text(encoding="utf-8"))
MODEL = CellModel.from_ecm(DOC)
CELLS, SENSORS = 16, 4


def test_the_kept_values_are_those_of_the_functions_they_stand_for() -> None:
    rng = np.random.default_rng(3)
    kept = CellTemperatures(MODEL, 25.0)
    for _ in range(20):
        sensors = rng.uniform(-20.0, 70.0, SENSORS)  # beyond the model's temperatures too
        sensors[rng.integers(SENSORS)] = np.nan  # a sensor that reads nothing
        assert kept.update(sensors, CELLS)
        temps = cell_temperatures(sensors, CELLS, 25.0)
        assert np.array_equal(kept.temps, temps)
        assert np.array_equal(kept.rows, MODEL.lookup.row_base(temps))
        assert np.array_equal(kept.r0, MODEL.r0(temps))
        for i in range(len(MODEL.rc)):
            assert np.array_equal(kept.r_rc[i], MODEL.rc_r(i, temps))


def test_they_are_recomputed_only_when_the_readings_change() -> None:
    kept = CellTemperatures(MODEL, 25.0)
    readings = np.array([20.0, 21.5, np.nan, 30.0], dtype=np.float32)
    assert kept.update(readings, CELLS)
    rows = kept.rows
    # the same readings in another array (and as float64): nothing recomputed, nothing replaced
    assert not kept.update(readings.astype(float).tolist(), CELLS)
    assert kept.rows is rows
    changed = readings.copy()
    changed[1] = 21.6
    assert kept.update(changed, CELLS)
    assert kept.rows is not rows
    assert kept.update(changed, 2 * CELLS)  # another pack: other cells
    assert kept.rows.shape == (2 * CELLS,)


def _inputs(k: int, rng: np.random.Generator) -> dict[str, Any]:
    """Step ``k`` of a pulsed string whose sensors update every 5 steps and whose estimated
    resistance changes once."""
    soc = 0.5 + 0.3 * np.sin(0.01 * k + np.arange(CELLS))
    current = 10.0 * ((k // 40) % 3 - 1)
    held = np.random.default_rng(k // 5).uniform(10.0, 40.0, SENSORS)
    return {"cell_voltage_V": MODEL.ocv(soc, 25.0) + 0.02 * current / 10.0
            + rng.uniform(-0.002, 0.002, CELLS),
            "cell_voltage_valid": np.ones(CELLS, dtype=bool),
            "cell_temperature_degC": held.copy(), "pack_current_A": current,
            "pack_voltage_V": float(MODEL.ocv(soc, 25.0).sum()), "cell_soc": soc,
            "cell_resistance_ohm": np.full(CELLS, 0.03 if k < 150 else 0.04),
            "charge_current_limit_A": 5.0, "discharge_current_limit_A": 10.0,
            "safety_state": 0}


@pytest.mark.parametrize("block", [SohEstimator, SopEstimator])
def test_the_estimates_are_the_same_kept_or_recomputed(block: type[Any]) -> None:
    component = "soh_estimator" if block is SohEstimator else "sop_estimator"
    kept, recomputed = block(), block()
    for est in (kept, recomputed):
        est.configure({**DECLARED[component], "cell_characterization": DOC})
    rng = np.random.default_rng(5)
    for k in range(300):
        inputs = _inputs(k, rng)
        a = kept.step(0.1 * k, inputs)
        recomputed._temperatures._readings = None  # as if the readings had changed
        if block is SopEstimator:
            recomputed._scaled_for = None
        b = recomputed.step(0.1 * k, inputs)
        for name in a:
            assert np.array_equal(a[name], b[name]), (k, name)
