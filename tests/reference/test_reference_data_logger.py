"""The reference data logger against the Annex VII part B requirements (OBSA-REG-007 to 015).

Every requirement verified by test is checked on every configuration of ``CONFIGS``: pack
sizes of 1, 12 and 96 cells with 1, 3 and 32 temperature sensors, the declared parameters
alone (defaults) and a set that overrides every default, a first step at 0 and at 1e6 s, a
uniform 0.1 s step and uneven intervals from 10 ms to 2.5 s. The expected values are
computed here, independently, with the bench's convention: every input is held over its
step, from its time to the next step's. Every reply is validated with the suite's compiled
outputs check.

Each check also runs against small defect subclasses (a plausible wrong implementation
each) and must fail on at least one configuration: a check that cannot tell them from the
reference would pass anything.

A power loss (OBSA-REG-015) is a new instance configured with the same parameters, the
non-volatile store (``OBSA_NVM_DIR``) kept: the counters come back as they were at the last
save, never older than lifetime_save_period_s.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from reference_helpers import reply_check

from conformance.adapters.base import AdapterError
from reference_impl.connectivity.data_logger import CompensatedSum, DataLogger
from reference_impl.interfaces import PARAMETER_DEFAULTS
from reference_impl.services.nvm import NVM_VARIABLE, NvmStore

COMPONENT = "data_logger"
DEFAULTS = PARAMETER_DEFAULTS[COMPONENT]
NOMINAL_STEP_S = 0.1

#: the parameters without a spec default, declared; every other at its default
DECLARED = {"manufacture_date_s": 1_650_000_000.0, "service_start_date_s": 1_700_000_000.0,
            "equivalent_cycle_capacity_Ah": 50.0}
#: every default overridden
OTHER = {"manufacture_date_s": 0.0, "service_start_date_s": 1.0e10,
         "equivalent_cycle_capacity_Ah": 3.2, "deep_discharge_threshold_V": 2.5,
         "extreme_temperature_max_degC": 55.0, "extreme_temperature_min_degC": -10.0,
         "extreme_charge_temperature_max_degC": 40.0,
         "extreme_charge_temperature_min_degC": 5.0, "charging_current_threshold_A": 0.5}
PARAMETER_SETS = {"declared": DECLARED, "other": OTHER}
PACKS = ((1, 1), (12, 3), (96, 32))


@dataclass(frozen=True)
class Config:
    cells: int
    sensors: int
    params: str
    t0: float
    timing: str

    @property
    def p(self) -> dict[str, Any]:
        return {**DEFAULTS, **PARAMETER_SETS[self.params]}

    def __str__(self) -> str:
        return f"{self.cells}c{self.sensors}s-{self.params}-t0={self.t0:g}-{self.timing}"


CONFIGS = [Config(c, s, p, t0, timing) for (c, s), p, t0, timing
           in itertools.product(PACKS, PARAMETER_SETS, (0.0, 1.0e6), ("uniform", "uneven"))]

def check_reply(cells: int, sensors: int, reply: dict[str, Any]) -> None:
    reply_check(COMPONENT, cells, sensors)(reply)


def step_times(cfg: Config, steps: int, seed: int) -> np.ndarray:
    """``steps`` step times from cfg.t0: k × 0.1 s, or uneven intervals (seeded)."""
    if cfg.timing == "uniform":
        return cfg.t0 + np.arange(steps) * NOMINAL_STEP_S
    rng = np.random.default_rng(seed)
    gaps = rng.choice([0.01, 0.05, 0.1, 0.37, 1.0, 2.5], size=steps - 1)
    return cfg.t0 + np.concatenate([[0.0], np.cumsum(gaps)])


def healthy(cfg: Config) -> dict[str, Any]:
    """A healthy pack at rest, every measurement valid and inside every window."""
    return {"cell_voltage_V": np.full(cfg.cells, 3.6),
            "cell_voltage_valid": np.ones(cfg.cells, dtype=bool),
            "cell_temperature_degC": np.full(cfg.sensors, 20.0),
            "cell_temperature_valid": np.ones(cfg.sensors, dtype=bool),
            "pack_current_A": 0.0, "pack_voltage_V": 3.6 * cfg.cells}


def run(cls: type[DataLogger], cfg: Config, times: np.ndarray,
        records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Configure (after an unrelated earlier case), reset and step through ``records``;
    every reply validated."""
    logger = cls()
    logger.configure(OTHER if cfg.params == "declared" else DECLARED)
    logger.step(5.0, healthy(cfg) | {"pack_current_A": -100.0})  # history reset() must erase
    logger.step(9.0, healthy(cfg))
    logger.configure(cfg.p)
    replies = []
    for t, record in zip(times, records, strict=True):
        reply = logger.step(float(t), {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                       for k, v in record.items()})
        check_reply(cfg.cells, cfg.sensors, reply)
        replies.append(reply)
    return replies


def held_integral(times: np.ndarray, values: np.ndarray) -> np.ndarray:
    """∫ values dt up to every step time, each value held until the next step (non-finite
    values add nothing)."""
    terms = np.where(np.isfinite(values[:-1]), values[:-1], 0.0) * np.diff(times)
    return np.array([0.0] + [math.fsum(terms[:k]) for k in range(1, len(times))])


def assert_caught(check: Callable[[type[DataLogger], Config], None],
                  defect: type[DataLogger]) -> None:
    """``check`` must fail for ``defect`` on at least one configuration."""
    for cfg in CONFIGS:
        try:
            check(defect, cfg)
        except (AssertionError, AdapterError):
            return
    pytest.fail(f"{defect.__name__} passes every configuration")


# ------------------------------------------------------------------ plausible defects
class NaiveSum(CompensatedSum):
    """A plain float64 sum."""

    def add(self, term: float) -> None:
        self._sum += term


class Uncompensated(DataLogger):
    """Sums its counters in plain float64: small increments vanish on large totals."""

    accumulator = NaiveSum


class SwappedDirections(DataLogger):
    """Counts throughput with the wrong sign convention (discharge as charge)."""

    def _outputs(self) -> dict[str, Any]:
        out = super()._outputs()
        for a, b in (("charged_capacity_Ah", "discharged_capacity_Ah"),
                     ("charged_energy_Wh", "discharged_energy_Wh")):
            out[a], out[b] = out[b], out[a]
        return out


class FixedStep(DataLogger):
    """Integrates every step over the nominal 0.1 s instead of the real interval."""

    def _integrate(self, dt: float) -> None:
        super()._integrate(NOMINAL_STEP_S)


class HeldBackward(DataLogger):
    """Integrates each step's inputs over the interval before it (not the bench's hold)."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        self._take(inputs)
        if self._t_prev is not None and t > self._t_prev:
            self._integrate(t - self._t_prev)
        self._t_prev = t
        return self._outputs()


class FromZero(HeldBackward):
    """Measures the first interval from t = 0 instead of from the first step it saw."""

    def reset(self) -> None:
        super().reset()
        self._t_prev = 0.0


class SwappedDates(DataLogger):
    def _outputs(self) -> dict[str, Any]:
        out = super()._outputs()
        out["battery_manufacture_date_s"], out["battery_service_start_date_s"] = (
            out["battery_service_start_date_s"], out["battery_manufacture_date_s"])
        return out


class CyclesFromCharge(DataLogger):
    """Equivalent cycles from the charged instead of the discharged capacity."""

    def _outputs(self) -> dict[str, Any]:
        out = super()._outputs()
        out["equivalent_full_cycles"] = (out["charged_capacity_Ah"]
                                         / (self._cycle_capacity_As / 3600.0))
        return out


class NetThroughput(DataLogger):
    """Discharged capacity (and cycles) from the net charge: goes down while charging."""

    def _outputs(self) -> dict[str, Any]:
        out = super()._outputs()
        net = max(out["discharged_capacity_Ah"] - out["charged_capacity_Ah"], 0.0)
        out["discharged_capacity_Ah"] = net
        out["equivalent_full_cycles"] = net / (self._cycle_capacity_As / 3600.0)
        return out


class DeepDischargeEveryStep(DataLogger):
    """Counts a deep discharge on every step a cell is below the threshold."""

    def _take(self, inputs: Mapping[str, Any]) -> None:
        before = self._deep_discharges
        super()._take(inputs)
        if self._deep_discharges == before and self._cell_below is not None \
                and self._cell_below.any():
            self._deep_discharges += 1


class DeepDischargeAtThreshold(DataLogger):
    """Counts a cell at the threshold as below it."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._deep_discharge_V = math.nextafter(self._deep_discharge_V, math.inf)


class VoltageValidityIgnored(DataLogger):
    """Counts cell voltages the cell monitor does not vouch for."""

    def _take(self, inputs: Mapping[str, Any]) -> None:
        voltages = np.nan_to_num(np.asarray(inputs["cell_voltage_V"], dtype=float))
        super()._take({**inputs, "cell_voltage_V": voltages,
                       "cell_voltage_valid": np.ones(len(voltages), dtype=bool)})


class InvalidEndsExcursion(DataLogger):
    """Takes an invalid reading for one back above the threshold: a flicker counts twice."""

    def _take(self, inputs: Mapping[str, Any]) -> None:
        voltages = np.asarray(inputs["cell_voltage_V"], dtype=float)
        valid = np.asarray(inputs["cell_voltage_valid"], dtype=bool) & np.isfinite(voltages)
        super()._take({**inputs, "cell_voltage_V": np.where(valid, voltages, 5.0),
                       "cell_voltage_valid": np.ones(len(voltages), dtype=bool)})


class TemperatureValidityIgnored(DataLogger):
    """Counts temperatures of sensors reading open or short circuit."""

    def _take(self, inputs: Mapping[str, Any]) -> None:
        n = len(inputs["cell_temperature_valid"])
        super()._take({**inputs, "cell_temperature_valid": np.ones(n, dtype=bool)})


class TemperatureAtLimitCounted(DataLogger):
    """Counts a temperature at the limit as outside the window."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._hot_degC = math.nextafter(self._hot_degC, -math.inf)
        self._cold_degC = math.nextafter(self._cold_degC, math.inf)
        self._charge_hot_degC = math.nextafter(self._charge_hot_degC, -math.inf)
        self._charge_cold_degC = math.nextafter(self._charge_cold_degC, math.inf)


class ExcursionTimeOnly(DataLogger):
    """Reports the time of the current excursion only: the counter drops when it ends."""

    def _take(self, inputs: Mapping[str, Any]) -> None:
        super()._take(inputs)
        if not self._hot:
            self._hot_s = self.accumulator()
        if not self._charge_cold:
            self._charge_cold_s = self.accumulator()


class ChargeTimeWhateverCurrent(DataLogger):
    """Counts charge-window time whatever the current."""

    def _take(self, inputs: Mapping[str, Any]) -> None:
        super()._take({**inputs, "pack_current_A": 1000.0})
        self._current_A = float(inputs["pack_current_A"])


class ChargeTimeAnyCurrent(DataLogger):
    """Takes any current above the threshold in magnitude (discharge too) for charging."""

    def _take(self, inputs: Mapping[str, Any]) -> None:
        current = float(inputs["pack_current_A"])
        super()._take({**inputs, "pack_current_A": abs(current)})
        self._current_A = current


# ------------------------------------------------------------------ scenarios
def throughput_scenario(cfg: Config, seed: int = 1) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Random charge and discharge currents (some exactly 0, some NaN) at random pack
    voltages (some NaN)."""
    rng = np.random.default_rng(seed)
    steps = 300
    times = step_times(cfg, steps, seed)
    current = rng.uniform(-300.0, 300.0, steps)
    current[rng.random(steps) < 0.1] = 0.0
    current[rng.random(steps) < 0.03] = math.nan
    voltage = rng.uniform(2.8, 4.2, steps) * cfg.cells
    voltage[rng.random(steps) < 0.03] = math.nan
    records = [healthy(cfg) | {"pack_current_A": float(i), "pack_voltage_V": float(v)}
               for i, v in zip(current, voltage, strict=True)]
    return times, records


def expected_throughput(times: np.ndarray, records: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    current = np.array([r["pack_current_A"] for r in records])
    voltage = np.array([r["pack_voltage_V"] for r in records])
    power = np.where(np.isfinite(voltage), voltage, math.nan) * current
    return {
        "charged_capacity_Ah": held_integral(times, np.maximum(current, 0.0)) / 3600.0,
        "discharged_capacity_Ah": held_integral(times, np.maximum(-current, 0.0)) / 3600.0,
        "charged_energy_Wh": held_integral(times, np.maximum(power, 0.0)) / 3600.0,
        "discharged_energy_Wh": held_integral(times, np.maximum(-power, 0.0)) / 3600.0,
    }


def check_throughput(cls: type[DataLogger], cfg: Config) -> None:
    """OBSA-REG-008 / 009: relative error ≤ 0.001 of the held integrals, at every step."""
    times, records = throughput_scenario(cfg)
    replies = run(cls, cfg, times, records)
    for name, expected in expected_throughput(times, records).items():
        got = np.array([r[name] for r in replies])
        err = np.abs(got - expected)
        bad = err > 1e-3 * expected + 1e-12
        assert not bad.any(), (f"{cfg}: {name} off at step {int(np.argmax(bad))}: "
                               f"{got[bad][0]} vs {expected[bad][0]}")


def check_cycles(cls: type[DataLogger], cfg: Config) -> None:
    """OBSA-REG-010: |equivalent_full_cycles − discharged_capacity_Ah / capacity| ≤ 0.01."""
    times, records = throughput_scenario(cfg, seed=2)
    # enough throughput for several cycles of the smaller capacity
    records = [r | {"pack_current_A": 3.0 * r["pack_current_A"]} for r in records]
    replies = run(cls, cfg, times, records)
    capacity = cfg.p["equivalent_cycle_capacity_Ah"]
    expected = expected_throughput(times, records)["discharged_capacity_Ah"] / capacity
    got = np.array([r["equivalent_full_cycles"] for r in replies])
    assert np.max(np.abs(got - expected)) <= 0.01, cfg
    reported = np.array([r["discharged_capacity_Ah"] for r in replies]) / capacity
    assert np.max(np.abs(got - reported)) <= 0.01, cfg


def check_dates(cls: type[DataLogger], cfg: Config) -> None:
    """OBSA-REG-007: the declared dates, unchanged, on every step."""
    times, records = throughput_scenario(cfg, seed=3)
    for r in run(cls, cfg, times[:20], records[:20]):
        assert abs(r["battery_manufacture_date_s"] - cfg.p["manufacture_date_s"]) <= 1.0
        assert abs(r["battery_service_start_date_s"] - cfg.p["service_start_date_s"]) <= 1.0


def deep_discharge_scenario(cfg: Config, seed: int = 4) -> tuple[
        np.ndarray, list[dict[str, Any]], np.ndarray]:
    """Excursions of one cell at a time below the threshold (1 to 5 steps long, some with
    an invalid reading inside), separated by readings exactly at the threshold, above it,
    and invalid readings of 0 V or NaN; the expected count after every step."""
    rng = np.random.default_rng(seed)
    threshold = cfg.p["deep_discharge_threshold_V"]
    records: list[dict[str, Any]] = []
    started: list[int] = []
    count = 0

    def add(cell: int, value: float, valid: bool = True) -> None:
        r = healthy(cfg)
        r["cell_voltage_V"][cell] = value
        r["cell_voltage_valid"][cell] = valid
        records.append(r)
        started.append(count)

    for _ in range(25):
        cell = int(rng.integers(cfg.cells))
        add(cell, threshold)                         # at the threshold: not below
        add(cell, threshold + 0.2)
        add(cell, 0.0, valid=False)                  # open wire: not a measurement
        add(cell, math.nan, valid=False)
        count += 1
        for k in range(int(rng.integers(1, 6))):     # the excursion
            if k == 1:
                add(cell, 0.0, valid=False)          # a flicker inside it: the same one
            add(cell, threshold - float(rng.uniform(1e-4, 0.5)))
        add(cell, threshold)                         # back at the threshold: ended
    times = step_times(cfg, len(records), seed)
    return times, records, np.array(started)


def check_deep_discharges(cls: type[DataLogger], cfg: Config) -> None:
    """OBSA-REG-011: every injected excursion counted once (checked after every step)."""
    times, records, expected = deep_discharge_scenario(cfg)
    got = np.array([r["deep_discharge_events"] for r in run(cls, cfg, times, records)])
    assert np.array_equal(got, expected), (
        f"{cfg}: first mismatch at step {int(np.argmax(got != expected))}")


def temperature_scenario(cfg: Config, seed: int = 5) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Excursions of one sensor above or below a window (the extreme or the charge one),
    readings exactly at the limits, invalid sensors at the ends of their range, NaN,
    and currents charging, at the charging threshold, discharging and NaN."""
    rng = np.random.default_rng(seed)
    p = cfg.p
    limits = [p["extreme_temperature_max_degC"], p["extreme_temperature_min_degC"],
              p["extreme_charge_temperature_max_degC"], p["extreme_charge_temperature_min_degC"]]
    threshold = p["charging_current_threshold_A"]
    currents = [threshold + 5.0, threshold, threshold + 1e-3, -50.0, 0.0, math.nan]
    records: list[dict[str, Any]] = []
    for _ in range(40):
        sensor = int(rng.integers(cfg.sensors))
        which = int(rng.integers(4))
        limit, upper = limits[which], which in (0, 2)
        outside = limit + (1.0 if upper else -1.0) * float(rng.uniform(0.05, 10.0))
        current = currents[int(rng.integers(len(currents)))]
        for _k in range(int(rng.integers(1, 6))):  # the excursion
            r = healthy(cfg) | {"pack_current_A": current}
            r["cell_temperature_degC"][sensor] = outside
            if cfg.sensors > 1:  # another sensor inside the window alongside
                r["cell_temperature_degC"][(sensor + 1) % cfg.sensors] = 21.0
            records.append(r)
        # at the limit (inside), then sensors reading open or short (invalid), then NaN
        for value, valid in ((limit, True), (150.0, False), (-50.0, False), (math.nan, True)):
            r = healthy(cfg) | {"pack_current_A": current}
            r["cell_temperature_degC"][sensor] = value
            r["cell_temperature_valid"][sensor] = valid
            records.append(r)
        records.append(healthy(cfg) | {"pack_current_A": current})
    return step_times(cfg, len(records), seed), records


def expected_times(cfg: Config, times: np.ndarray, records: list[dict[str, Any]]
                   ) -> dict[str, tuple[np.ndarray, int]]:
    """Held time outside each window after every step, and the number of excursions."""
    p = cfg.p
    hi = np.array([max((t for t, ok in zip(r["cell_temperature_degC"],
                                            r["cell_temperature_valid"], strict=True)
                        if ok and math.isfinite(t)), default=-math.inf) for r in records])
    lo = np.array([min((t for t, ok in zip(r["cell_temperature_degC"],
                                            r["cell_temperature_valid"], strict=True)
                        if ok and math.isfinite(t)), default=math.inf) for r in records])
    current = np.array([r["pack_current_A"] for r in records])
    with np.errstate(invalid="ignore"):
        charging = current > p["charging_current_threshold_A"]
    conditions = {
        "time_above_temperature_max_s": hi > p["extreme_temperature_max_degC"],
        "time_below_temperature_min_s": lo < p["extreme_temperature_min_degC"],
        "charge_time_above_temperature_max_s":
            charging & (hi > p["extreme_charge_temperature_max_degC"]),
        "charge_time_below_temperature_min_s":
            charging & (lo < p["extreme_charge_temperature_min_degC"]),
    }
    return {name: (held_integral(times, c.astype(float)),
                   int(np.sum(c & ~np.concatenate([[False], c[:-1]]))))
            for name, c in conditions.items()}


def check_times(cls: type[DataLogger], cfg: Config, names: tuple[str, ...]) -> None:
    """OBSA-REG-012 / 013: |accumulated − true| / excursions ≤ one nominal step, at every
    step (true: the held time with a valid temperature outside the window)."""
    times, records = temperature_scenario(cfg)
    replies = run(cls, cfg, times, records)
    for name, (expected, excursions) in expected_times(cfg, times, records).items():
        if name not in names:
            continue
        assert excursions > 0 and expected[-1] > 0.0, f"{cfg}: scenario misses {name}"
        got = np.array([r[name] for r in replies])
        # as whole nominal steps (the criterion's resolution: step)
        error_steps = np.round(np.abs(got - expected) / max(excursions, 1) / NOMINAL_STEP_S, 6)
        assert np.all(error_steps <= 1.0), (
            f"{cfg}: {name} off by {np.max(np.abs(got - expected)):.3f} s "
            f"over {excursions} excursions")


TEMPERATURE_TIMES = ("time_above_temperature_max_s", "time_below_temperature_min_s")
CHARGE_TIMES = ("charge_time_above_temperature_max_s", "charge_time_below_temperature_min_s")
COUNTERS = ("charged_capacity_Ah", "discharged_capacity_Ah", "charged_energy_Wh",
            "discharged_energy_Wh", "equivalent_full_cycles", "deep_discharge_events",
            *TEMPERATURE_TIMES, *CHARGE_TIMES)


def check_monotonic(cls: type[DataLogger], cfg: Config) -> None:
    """OBSA-REG-014: no counter lower than on the step before, over every scenario."""
    for times, records in (throughput_scenario(cfg, seed=6), temperature_scenario(cfg, seed=7),
                           deep_discharge_scenario(cfg, seed=8)[:2]):
        replies = run(cls, cfg, times, records)
        for name in COUNTERS:
            values = np.array([r[name] for r in replies])
            decreases = int(np.sum(np.diff(values) < 0))
            assert decreases == 0, f"{cfg}: {name} decreases in {decreases} steps"


# ------------------------------------------------------------------ the tests
CFG_IDS = [str(c) for c in CONFIGS]


@pytest.mark.parametrize("cfg", CONFIGS, ids=CFG_IDS)
def test_reg007_dates_unchanged(cfg: Config) -> None:
    check_dates(DataLogger, cfg)


@pytest.mark.parametrize("cfg", CONFIGS, ids=CFG_IDS)
def test_reg008_009_throughput_is_the_held_integral(cfg: Config) -> None:
    check_throughput(DataLogger, cfg)


@pytest.mark.parametrize("cfg", CONFIGS, ids=CFG_IDS)
def test_reg010_equivalent_full_cycles(cfg: Config) -> None:
    check_cycles(DataLogger, cfg)


@pytest.mark.parametrize("cfg", CONFIGS, ids=CFG_IDS)
def test_reg011_every_deep_discharge_counted_once(cfg: Config) -> None:
    check_deep_discharges(DataLogger, cfg)


@pytest.mark.parametrize("cfg", CONFIGS, ids=CFG_IDS)
def test_reg012_time_at_extreme_temperature(cfg: Config) -> None:
    check_times(DataLogger, cfg, TEMPERATURE_TIMES)


@pytest.mark.parametrize("cfg", CONFIGS, ids=CFG_IDS)
def test_reg013_charging_time_at_extreme_temperature(cfg: Config) -> None:
    check_times(DataLogger, cfg, CHARGE_TIMES)


@pytest.mark.parametrize("cfg", CONFIGS, ids=CFG_IDS)
def test_reg014_counters_never_decrease(cfg: Config) -> None:
    check_monotonic(DataLogger, cfg)


def check_small_increments(cls: type[DataLogger], _cfg: Config | None = None) -> None:
    """1 mA over 10 ms steps on top of 5.6e8 Ah and 5.6e11 Wh (after a 1e9 s interval at
    −2000 A, 1000 V) is still counted: 200 s of it is 0.2 A·s."""
    cfg = Config(1, 1, "declared", 1.0e6, "uniform")
    logger = cls()
    logger.configure(cfg.p)
    big = healthy(cfg) | {"pack_current_A": -2000.0, "pack_voltage_V": 1000.0}
    small = healthy(cfg) | {"pack_current_A": -1.0e-3, "pack_voltage_V": 1000.0}
    logger.step(cfg.t0, big)
    start = logger.step(cfg.t0 + 1.0e9, small)
    check_reply(1, 1, start)
    steps = 20_000
    base = cfg.t0 + 1.0e9
    out = start
    for k in range(1, steps + 1):
        out = logger.step(base + k * 0.01, small)
    check_reply(1, 1, out)
    span = steps * 0.01
    grown_Ah = out["discharged_capacity_Ah"] - start["discharged_capacity_Ah"]
    grown_Wh = out["discharged_energy_Wh"] - start["discharged_energy_Wh"]
    assert start["discharged_capacity_Ah"] == pytest.approx(2000.0 * 1.0e9 / 3600.0)
    assert grown_Ah == pytest.approx(1.0e-3 * span / 3600.0, rel=0.01)
    assert grown_Wh == pytest.approx(1.0 * span / 3600.0, rel=0.01)


def test_small_increments_are_not_rounded_away_on_large_totals() -> None:
    check_small_increments(DataLogger)


def test_compensated_sum_keeps_terms_below_half_an_ulp() -> None:
    """1 mA × 10 ms (1e-5 A·s) a million times on top of 1e9 Ah (3.6e12 A·s, the signal's
    range, where one ulp is 4.9e-4 A·s): the compensated sum keeps the 10 A·s that a plain
    float64 sum rounds away term by term (a decade of 10 ms steps is 3.2e10 such terms)."""
    compensated, naive = CompensatedSum(), NaiveSum()
    compensated.add(3.6e12)
    naive.add(3.6e12)
    for _ in range(1_000_000):
        compensated.add(1.0e-5)
        naive.add(1.0e-5)
    assert compensated.value == pytest.approx(3.6e12 + 10.0, rel=0.0, abs=1e-3)
    assert naive.value == 3.6e12


def test_reset_is_a_new_battery_and_the_first_step_may_come_late() -> None:
    cfg = Config(12, 3, "declared", 1.0e6, "uniform")
    logger = DataLogger()
    logger.configure(cfg.p)
    hot = healthy(cfg) | {"pack_current_A": 10.0}
    hot["cell_temperature_degC"][1] = 80.0
    hot["cell_voltage_V"][4] = 2.0
    logger.step(0.0, hot)
    out = logger.step(100.0, hot)
    assert out["time_above_temperature_max_s"] == 100.0 and out["deep_discharge_events"] == 1
    logger.reset()
    first = logger.step(2.0e7, hot)  # nothing from the gap, nothing from 0
    check_reply(12, 3, first)
    assert all(first[name] == 0 for name in COUNTERS if name != "deep_discharge_events")
    assert first["deep_discharge_events"] == 1  # the excursion seen anew after the reset
    second = logger.step(2.0e7 + 0.1, hot)
    assert second["time_above_temperature_max_s"] == pytest.approx(0.1)
    assert second["charged_capacity_Ah"] == pytest.approx(10.0 * 0.1 / 3600.0)


def test_cells_below_together_are_one_excursion() -> None:
    """A documented choice: the count is the pack's (cells falling below together, or one
    while another is still below, are one event)."""
    cfg = Config(12, 3, "declared", 0.0, "uniform")
    logger = DataLogger()
    logger.configure(cfg.p)
    r = healthy(cfg)
    r["cell_voltage_V"][[2, 3]] = 2.9
    assert logger.step(0.0, r)["deep_discharge_events"] == 1
    r["cell_voltage_V"][2] = 3.5
    r["cell_voltage_V"][7] = 2.9
    assert logger.step(0.1, r)["deep_discharge_events"] == 1
    assert logger.step(0.2, healthy(cfg))["deep_discharge_events"] == 1
    assert logger.step(0.3, r)["deep_discharge_events"] == 2


# ------------------------------------------------------------------ defects are caught
@pytest.mark.parametrize("defect", [SwappedDates])
def test_reg007_catches(defect: type[DataLogger]) -> None:
    assert_caught(check_dates, defect)


@pytest.mark.parametrize("defect", [SwappedDirections, FixedStep, HeldBackward, FromZero])
def test_reg008_009_catches(defect: type[DataLogger]) -> None:
    assert_caught(check_throughput, defect)


@pytest.mark.parametrize("defect", [CyclesFromCharge, NetThroughput])
def test_reg010_catches(defect: type[DataLogger]) -> None:
    assert_caught(check_cycles, defect)


@pytest.mark.parametrize("defect", [DeepDischargeEveryStep, DeepDischargeAtThreshold,
                                    VoltageValidityIgnored, InvalidEndsExcursion])
def test_reg011_catches(defect: type[DataLogger]) -> None:
    assert_caught(check_deep_discharges, defect)


@pytest.mark.parametrize("defect", [FixedStep, FromZero, TemperatureValidityIgnored,
                                    TemperatureAtLimitCounted, ExcursionTimeOnly])
def test_reg012_catches(defect: type[DataLogger]) -> None:
    assert_caught(lambda cls, cfg: check_times(cls, cfg, TEMPERATURE_TIMES), defect)


@pytest.mark.parametrize("defect", [FixedStep, TemperatureValidityIgnored,
                                    TemperatureAtLimitCounted, ChargeTimeWhateverCurrent,
                                    ChargeTimeAnyCurrent, ExcursionTimeOnly])
def test_reg013_catches(defect: type[DataLogger]) -> None:
    assert_caught(lambda cls, cfg: check_times(cls, cfg, CHARGE_TIMES), defect)


@pytest.mark.parametrize("defect", [NetThroughput, ExcursionTimeOnly])
def test_reg014_catches(defect: type[DataLogger]) -> None:
    assert_caught(check_monotonic, defect)


def test_small_increments_catch_a_plain_sum() -> None:
    with pytest.raises(AssertionError):
        check_small_increments(Uncompensated)


# ------------------------------------------------------------------ power loss (OBSA-REG-015)
SAVE_PERIOD_S = 1.0


@pytest.fixture
def nvm(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A non-volatile store for the loggers of one test, as the bench gives it."""
    monkeypatch.setenv(NVM_VARIABLE, str(tmp_path))
    return tmp_path


def powered_up(params: dict[str, Any]) -> DataLogger:
    """A logger started (again): a new instance, configured, not reset."""
    logger = DataLogger()
    logger.configure(params)
    return logger


def counters(reply: dict[str, Any]) -> np.ndarray:
    return np.array([reply[name] for name in COUNTERS], dtype=float)


#: after how many steps the power is cut
CUTS = (1, 3, 10, 11, 19, 26, 37, 64)


def check_power_loss(cls: type[DataLogger], timing: str) -> None:
    """OBSA-REG-015: the power cut after each of CUTS steps: the counters at the first step
    after the restart are those reported at one earlier step (the last save: the restart
    adds nothing), no lower than any reported lifetime_save_period_s or more before the
    cut, no higher than before it, and the dates are the declared ones."""
    cfg = Config(12, 3, "declared", 1.0e6, timing)
    params = cfg.p | {"lifetime_save_period_s": SAVE_PERIOD_S}
    times, records = throughput_scenario(cfg, seed=9)
    for cut in CUTS:
        logger = cls()
        logger.configure(params)
        logger.reset()  # a new battery
        before = [counters(logger.step(float(t), r))
                  for t, r in zip(times[:cut], records[:cut], strict=True)]
        restarted = cls()  # the power cut: this instance never saw a step
        restarted.configure(params)
        reply = restarted.step(float(times[cut]), records[cut])
        check_reply(cfg.cells, cfg.sensors, reply)
        after = counters(reply)
        where = f"{timing}, cut after {cut} steps"
        old = [b for t, b in zip(times[:cut], before, strict=True)
               if t <= times[cut - 1] - SAVE_PERIOD_S]
        assert all(np.all(after >= b) for b in old), f"{where}: older than the period"
        assert np.all(after <= before[-1]), f"{where}: above the counters before the cut"
        assert reply["battery_manufacture_date_s"] == params["manufacture_date_s"], where
        # the reference's own way: the state of its last save, the restart adding nothing
        assert any(np.array_equal(after, b) for b in before), f"{where}: not a reported state"


class NeverSaves(DataLogger):
    """Keeps its counters in RAM only."""

    def _save_if_due(self, t: float) -> None:
        pass


class SavesEveryOtherPeriod(DataLogger):
    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._save_period_s *= 2.0


class CountsTheOutage(DataLogger):
    """Saves the time and current of its last step and, restarted, counts the interval up
    to its first step at that current (the module was off: nothing was measured)."""

    def _saved_data(self) -> dict[str, Any]:
        return super()._saved_data() | {"t": self._t_prev, "current_A": self._current_A}

    def _restore(self, data: Mapping[str, Any] | None) -> None:
        super()._restore(data)
        if data is not None:
            self._t_prev, self._current_A = data["t"], data["current_A"]


@pytest.mark.parametrize("timing", ["uniform", "uneven"])
def test_reg015_a_power_loss_loses_less_than_the_save_period(nvm: Any, timing: str) -> None:
    check_power_loss(DataLogger, timing)


@pytest.mark.parametrize("defect", [NeverSaves, SavesEveryOtherPeriod, CountsTheOutage])
def test_reg015_catches(nvm: Any, defect: type[DataLogger]) -> None:
    with pytest.raises(AssertionError, match="older than the period|above the counters"):
        check_power_loss(defect, "uniform")


def test_counting_goes_on_from_the_restored_counters(nvm: Any) -> None:
    cfg = Config(12, 3, "declared", 0.0, "uniform")
    params = cfg.p | {"lifetime_save_period_s": SAVE_PERIOD_S}
    charging = healthy(cfg) | {"pack_current_A": 36.0}  # 0.01 Ah per second
    logger = powered_up(params)
    for k in range(16):  # saved at 1.0 s, 2.0 s … (the first step starts the period)
        logger.step(k * 0.1, charging)
    restarted = powered_up(params)
    assert restarted.step(1.55, charging)["charged_capacity_Ah"] == pytest.approx(0.01)
    assert restarted.step(1.65, charging)["charged_capacity_Ah"] == pytest.approx(0.011)


def test_reset_is_a_new_battery_and_erases_the_store(nvm: Any) -> None:
    cfg = Config(1, 1, "declared", 0.0, "uniform")
    params = cfg.p | {"lifetime_save_period_s": SAVE_PERIOD_S}
    charging = healthy(cfg) | {"pack_current_A": 36.0}
    logger = powered_up(params)
    for k in range(25):
        logger.step(k * 0.1, charging)
    assert (nvm / "data_logger.json").exists()
    assert powered_up(params).step(3.0, charging)["charged_capacity_Ah"] > 0.0
    logger.reset()
    assert not (nvm / "data_logger.json").exists()
    assert powered_up(params).step(3.0, charging)["charged_capacity_Ah"] == 0.0


def test_without_a_store_the_counters_live_in_ram_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(NVM_VARIABLE, raising=False)
    cfg = Config(1, 1, "declared", 0.0, "uniform")
    params = cfg.p | {"lifetime_save_period_s": 0.1}
    logger = powered_up(params)
    for k in range(5):
        logger.step(k * 0.1, healthy(cfg) | {"pack_current_A": 36.0})
    assert powered_up(params).step(0.5, healthy(cfg))["charged_capacity_Ah"] == 0.0


@pytest.mark.parametrize("damage", ["garbage", "truncated", "another crc", "wrong counter"])
def test_a_record_that_does_not_load_restores_nothing(nvm: Any, damage: str) -> None:
    """A damaged record (not JSON, cut short, a CRC that does not match, a counter that is
    not a saved sum) is read as none: every counter at zero, never half a record."""
    cfg = Config(1, 1, "declared", 0.0, "uniform")
    params = cfg.p | {"lifetime_save_period_s": 0.1}
    logger = powered_up(params)
    for k in range(5):
        logger.step(k * 0.1, healthy(cfg) | {"pack_current_A": 36.0})
    path = nvm / "data_logger.json"
    text = path.read_text()
    if damage == "garbage":
        path.write_text("\x00\xff" * 10)
    elif damage == "truncated":
        path.write_text(text[: len(text) // 2])
    elif damage == "another crc":
        path.write_text(text.replace('"crc32": ', '"crc32": 1'))
    else:
        store = NvmStore(path)
        data = store.load()
        assert data is not None
        store.save(data | {"hot_s": [1.0]})
    restarted = powered_up(params)
    assert all(restarted.step(1.0, healthy(cfg))[name] == 0 for name in COUNTERS)


def test_a_save_that_is_interrupted_leaves_the_last_record(tmp_path: Any,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """The record is replaced whole or not at all: a save that fails before the rename (a
    power loss between writing and switching) leaves the last record readable."""
    store = NvmStore(tmp_path / "data_logger.json")
    store.save({"count": 1})

    def lost_power(src: Any, dst: Any) -> None:
        raise OSError("power lost")

    monkeypatch.setattr("reference_impl.services.nvm.os.replace", lost_power)
    with pytest.raises(OSError):
        store.save({"count": 2})
    assert NvmStore(tmp_path / "data_logger.json").load() == {"count": 1}
    assert store.problem is None

