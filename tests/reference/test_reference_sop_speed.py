"""The state-of-power estimator's direct search (reference_impl/functions/sop.py) against the
plain definition it replaced: per direction, the largest current in [0, ceiling] for which
every cell's voltage at both ends of the horizon (``SopEstimator._predict``) stays within the
narrowed limits, found here by a 60-step bisection on that definition; and the power limits
against the sums of ``_predict``'s voltages at the current limits.

States drawn to reach the search's corners: SoCs on the OCV grid's points, at 0 and 1 and
next to them, temperatures beyond the characterization's and unknown (NaN), unknown or
aged resistances, RC voltages left by pulses of either sign (so that the start of the
horizon binds too), horizons of 1 to 60 s, ceilings from none to far beyond what any cell
holds; the shipped NMC and LFP characterizations and the built-in cell. The speed itself is
measured, not asserted: benchmarks/estimation.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reference_impl.functions.cell_model import OcvLookup
from reference_impl.functions.sop import SopEstimator
from reference_impl.interfaces import SafetyState

ROOT = Path(__file__).resolve().parents[2]
CHARACTERIZATIONS = {name: json.loads((ROOT / "vectors" / f"{name}.ecm.json").read_text(
    encoding="utf-8")) for name in ("nmc-chen2020", "lfp-prada2013")}
LIMITS = {"nmc-chen2020": (4.2, 3.2), "lfp-prada2013": (3.65, 2.5), "built-in": (4.2, 3.2)}
N = 24


def estimator(name: str, horizon_s: float) -> SopEstimator:
    charge_V, discharge_V = LIMITS[name]
    params: dict[str, Any] = {"sop_horizon_s": horizon_s,
                              "sop_charge_voltage_limit_V": charge_V,
                              "sop_discharge_voltage_limit_V": discharge_V}
    if name in CHARACTERIZATIONS:
        params["cell_characterization"] = CHARACTERIZATIONS[name]
    sop = SopEstimator()
    sop.configure(params)
    return sop


def drawn_socs(rng: np.random.Generator) -> np.ndarray:
    """Cell SoCs around a drawn one (a string's cells are alike), a third of them on grid
    points; at times one at an end or next to it."""
    steps = OcvLookup.STEPS
    soc = np.clip(rng.uniform(0.0, 1.0) + rng.uniform(-0.05, 0.05, N), 0.0, 1.0)
    on_grid = rng.random(N) < 0.3
    soc[on_grid] = np.round(soc[on_grid] * steps) / steps
    if rng.random() < 0.3:
        soc[rng.integers(N)] = rng.choice([0.0, 1.0, 1e-4, 1.0 - 1e-4])
    return soc


def inputs(sop: SopEstimator, rng: np.random.Generator, soc: np.ndarray, current: float,
           ceilings: tuple[float, float]) -> dict[str, Any]:
    m = sop.cell_model
    temps = rng.uniform(float(m.temperatures_degC[0]) - 15.0,
                        float(m.temperatures_degC[-1]) + 15.0, N // 3)
    temps[rng.random(temps.size) < 0.1] = np.nan
    resistance = float(m.r0(25.0)) * rng.uniform(0.8, 2.0, N)
    resistance[rng.random(N) < 0.1] = np.nan
    # measured voltages off the model's by up to 30 mV: a residual of either sign
    voltage = m.ocv(soc, 25.0) + float(m.r0(25.0)) * current + rng.uniform(-0.03, 0.03, N)
    return {"cell_voltage_V": voltage, "cell_temperature_degC": temps,
            "pack_current_A": current, "pack_voltage_V": float(voltage.sum()),
            "cell_soc": soc, "cell_resistance_ohm": resistance,
            "charge_current_limit_A": ceilings[0], "discharge_current_limit_A": ceilings[1],
            "safety_state": int(SafetyState.NORMAL)}


def bisected(sop: SopEstimator, ctx: Any, sign: float, ceiling: float) -> float:
    """The largest holding magnitude, to ceiling × 2^-60, from the definition alone."""
    def holds(magnitude: float) -> bool:
        start, end = sop._predict(ctx, sign * magnitude)
        if sign > 0:
            return bool(np.all(start <= sop._v_high) and np.all(end <= sop._v_high))
        return bool(np.all(start >= sop._v_low) and np.all(end >= sop._v_low))

    if ceiling <= 0.0 or not holds(0.0):
        return 0.0
    if holds(ceiling):
        return ceiling
    lo, hi = 0.0, ceiling
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if holds(mid) else (lo, mid)
    return lo


@pytest.mark.parametrize("name", ["nmc-chen2020", "lfp-prada2013", "built-in"])
@pytest.mark.parametrize("horizon_s", [1.0, 10.0, 60.0])
def test_the_search_finds_what_a_bisection_of_the_definition_finds(name: str,
                                                                   horizon_s: float) -> None:
    sop = estimator(name, horizon_s)
    capacity = sop.cell_model.capacity_Ah
    rng = np.random.default_rng([7, int(horizon_s), len(name)])
    calls: list[tuple[Any, float, float, float]] = []
    search = sop._largest

    def spy(ctx: Any, sign: float, ceiling: float) -> float:
        found = search(ctx, sign, ceiling)
        calls.append((ctx, sign, ceiling, found))
        return found

    sop._largest = spy  # type: ignore[method-assign]
    outputs = []
    for _ in range(12):
        sop.reset()
        soc = drawn_socs(rng)
        # a pulse of either sign then a few steps of another current: RC voltages both ways
        pulse, after = rng.uniform(-3.0, 3.0, 2) * capacity
        ceilings = (float(rng.choice([0.0, 0.05, 1.0, 2.0, 2000.0])) * capacity,
                    float(rng.choice([0.0, 0.05, 2.0, 4.0, 2000.0])) * capacity)
        for k in range(40):
            current = float(pulse if k < 30 else after)
            out = sop.step(k * 1.0, inputs(sop, rng, soc, current, ceilings))
        outputs.append(out)
    assert len(calls) == 2 * 40 * 12
    searched = 0
    for ctx, sign, ceiling, found in calls:
        exact = bisected(sop, ctx, sign, ceiling)
        # never above what holds (by more than the bisection's own 2^-60), never below it by
        # more than the resolution the limits promise
        assert found <= exact + ceiling * 2.0 ** -59, (sign, ceiling, found, exact)
        assert found >= exact - ceiling * 2.0 ** -SopEstimator.BISECTIONS, (
            sign, ceiling, found, exact)
        searched += 0.0 < exact < ceiling
    assert searched > 100  # many searches ended inside (0, ceiling), not at an end
    assert any(o["sop_charge_current_limit_A"] > 0.0 for o in outputs)
    assert any(o["sop_discharge_current_limit_A"] > 0.0 for o in outputs)


@pytest.mark.parametrize("name", ["nmc-chen2020", "lfp-prada2013"])
def test_the_power_limits_are_the_definitions_string_voltage_at_the_current_limits(
        name: str) -> None:
    sop = estimator(name, 10.0)
    capacity = sop.cell_model.capacity_Ah
    rng = np.random.default_rng(11)
    seen: dict[float, tuple[Any, float]] = {}
    search = sop._largest

    def spy(ctx: Any, sign: float, ceiling: float) -> float:
        seen[sign] = (ctx, search(ctx, sign, ceiling))
        return seen[sign][1]

    sop._largest = spy  # type: ignore[method-assign]
    for _ in range(20):
        sop.reset()
        soc = drawn_socs(rng)
        current = float(rng.uniform(-2.0, 1.0)) * capacity
        for k in range(5):
            out = sop.step(k * 0.1, inputs(sop, rng, soc, current, (capacity, 2.0 * capacity)))
        for sign, key in ((1.0, "sop_charge_power_limit_W"),
                          (-1.0, "sop_discharge_power_limit_W")):
            ctx, limit = seen[sign]
            start, end = sop._predict(ctx, sign * limit)
            low = min(float(np.sum(start)), float(np.sum(end)))
            assert out[key] == pytest.approx(max(limit * low, 0.0), rel=1e-9, abs=1e-9)


def test_a_cell_beyond_its_limit_at_rest_or_full_allows_nothing() -> None:
    sop = estimator("nmc-chen2020", 10.0)
    rng = np.random.default_rng(3)
    soc = np.full(N, 0.5)
    base = inputs(sop, rng, soc, 0.0, (5.0, 10.0))
    base["cell_temperature_degC"] = np.full(4, 25.0)
    base["cell_resistance_ohm"] = np.full(N, 0.02)
    # one cell above the charge limit (its measured voltage: the residual says so)
    high = {**base, "cell_voltage_V": np.where(np.arange(N) == 5, 4.25, base["cell_voltage_V"])}
    out = sop.step(0.0, high)
    assert out["sop_charge_current_limit_A"] == 0.0
    assert out["sop_discharge_current_limit_A"] > 0.0
    sop.reset()
    # one cell full: no charge at all, whatever its voltage
    full = {**base, "cell_soc": np.where(np.arange(N) == 3, 1.0, soc)}
    assert sop.step(0.0, full)["sop_charge_current_limit_A"] == 0.0


def test_a_cell_of_unknown_soc_allows_nothing_until_it_is_known_again() -> None:
    """A SoC that is not a number (the SoC estimator lost a cell): every limit is 0 while
    it lasts, nothing raises, the cell's residual is held (the model's voltage has no OCV
    for it), and once the SoC is known again the limits come back."""
    rng = np.random.default_rng(5)
    sop = estimator("nmc-chen2020", 10.0)
    held = None
    for k in range(15):
        step = inputs(sop, rng, np.full(N, 0.6), 2.0, (5.0, 10.0))
        step["cell_temperature_degC"] = np.full(4, 25.0)
        step["cell_resistance_ohm"] = np.full(N, 0.02)
        if 5 <= k < 10:
            step["cell_soc"] = np.where(np.arange(N) == 7, np.nan, step["cell_soc"])
        out = sop.step(0.1 * k, step)
        if k == 4:
            held = float(sop._residual[7])
        if 5 <= k < 10:
            assert all(v == 0.0 for v in out.values()), out
            assert sop._residual[7] == held
        else:
            assert out["sop_charge_current_limit_A"] > 0.0
            assert out["sop_discharge_current_limit_A"] > 0.0
