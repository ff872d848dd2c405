"""The reference HMI API against OBSA-HMI-001 to 003 (snapshot age, content, fault memory).

Every check runs on every configuration of ``CONFIGS``: the default refresh period and two
declared ones (0.35 s, 1 s, the bound), stepped at the component's 0.1 s, at the safety
core's 10 ms bench step and at uneven intervals, with the first step at 0 and at 1e6 s, for
packs of 1, 12 and 96 cells (the pack voltage scales with them; the outputs check is
compiled for each). The inputs change on every step, so a field taken at another step than
the one its snapshot time names shows. Every reply is validated with the suite's compiled
outputs check.

Each check also runs against small defect subclasses and must fail on at least one
configuration.
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
from reference_impl.connectivity.hmi_api import LIFETIME_INPUTS, HmiApi
from reference_impl.interfaces import (
    DTC_TABLE,
    PARAMETER_DEFAULTS,
    SIGNAL_FORMAT,
    ContactorState,
    DtcStatus,
    HmiApiInputs,
    SafetyState,
)

COMPONENT = "hmi_api"
NOMINAL_STEP_S = 0.1
N_DTC = len(DTC_TABLE)
PERIODS = (float(PARAMETER_DEFAULTS[COMPONENT]["hmi_refresh_period_s"]), 0.35, 1.0)
PACKS = ((1, 1), (12, 3), (96, 32))
NUMBERS = {"hmi_pack_soc": "pack_soc", "hmi_soh_capacity": "soh_capacity",
           "hmi_pack_voltage_V": "pack_voltage_V", "hmi_pack_current_A": "pack_current_A",
           "hmi_charge_current_limit_A": "charge_current_limit_A",
           "hmi_discharge_current_limit_A": "discharge_current_limit_A"}
ENUMS = {"hmi_safety_state": "safety_state", "hmi_contactor_state": "contactor_state"}
ARRAYS = {"hmi_cell_voltage_V": "cell_voltage_V",
          "hmi_cell_temperature_degC": "cell_temperature_degC"}


@dataclass(frozen=True)
class Config:
    cells: int
    sensors: int
    period_s: float
    t0: float
    timing: str

    def __str__(self) -> str:
        return f"{self.cells}c-period={self.period_s:g}-t0={self.t0:g}-{self.timing}"


CONFIGS = [Config(c, s, period, t0, timing) for (c, s), period, t0, timing
           in itertools.product(PACKS, PERIODS, (0.0, 1.0e6), ("0.1", "0.01", "uneven"))]
CFG_IDS = [str(c) for c in CONFIGS]
def check_reply(cells: int, sensors: int, reply: dict[str, Any]) -> None:
    reply_check(COMPONENT, cells, sensors)(reply)


def step_times(cfg: Config, seconds: float, seed: int) -> np.ndarray:
    if cfg.timing == "uneven":
        rng = np.random.default_rng(seed)
        gaps = rng.choice([0.01, 0.03, 0.1, 0.2], size=int(seconds / 0.05))
        return cfg.t0 + np.concatenate([[0.0], np.cumsum(gaps)])
    dt = float(cfg.timing)
    return cfg.t0 + np.arange(int(round(seconds / dt)) + 1) * dt


def random_inputs(cfg: Config, rng: np.random.Generator) -> dict[str, Any]:
    """Every input of the interface, each at a fresh random value."""
    record: dict[str, Any] = {name: float(rng.uniform(0.0, 1.0))
                              for name in HmiApiInputs.__annotations__}
    record |= {
        "pack_voltage_V": float(rng.uniform(2.5, 4.2)) * cfg.cells,
        "pack_current_A": float(rng.uniform(-300.0, 300.0)),
        "charge_current_limit_A": float(rng.uniform(0.0, 200.0)),
        "discharge_current_limit_A": float(rng.uniform(0.0, 400.0)),
        "safety_state": int(rng.choice([int(v) for v in SafetyState])),
        "contactor_state": int(rng.choice([int(v) for v in ContactorState])),
        "dtc_status": rng.choice([int(v) for v in DtcStatus], size=N_DTC, p=[0.6, 0.2, 0.2]),
        "deep_discharge_events": int(rng.integers(0, 100)),
        "charged_energy_Wh": float(rng.uniform(0.0, 1.0e6)),
        "cell_voltage_V": rng.uniform(2.5, 4.2, size=cfg.cells),
        "cell_temperature_degC": rng.uniform(-20.0, 60.0, size=cfg.sensors),
    }
    return record


def run(cls: type[HmiApi], cfg: Config, seconds: float = 6.0, seed: int = 1
        ) -> tuple[np.ndarray, list[dict[str, Any]], list[dict[str, Any]]]:
    """Configure (after an unrelated earlier case), reset and step random inputs; every
    reply validated. (times, inputs, replies)."""
    rng = np.random.default_rng(seed)
    api = cls()
    api.configure({"hmi_refresh_period_s": 0.5})
    api.step(3.0, random_inputs(cfg, rng))  # a snapshot reset() must forget
    api.configure({"hmi_refresh_period_s": cfg.period_s})
    times = step_times(cfg, seconds, seed)
    records, replies = [], []
    for t in times:
        record = random_inputs(cfg, rng)
        reply = api.step(float(t), {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                    for k, v in record.items()})
        check_reply(cfg.cells, cfg.sensors, reply)
        records.append(record)
        replies.append(reply)
    return times, records, replies


def snapshot_inputs(times: np.ndarray, records: list[dict[str, Any]],
                    reply: dict[str, Any]) -> dict[str, Any]:
    """The input record of the step whose time the reply's snapshot names."""
    k = int(np.searchsorted(times, reply["hmi_snapshot_time_s"]))
    assert k < len(times) and times[k] == reply["hmi_snapshot_time_s"], (
        f"hmi_snapshot_time_s {reply['hmi_snapshot_time_s']} is no step time")
    return records[k]


def check_age(cls: type[HmiApi], cfg: Config) -> None:
    """OBSA-HMI-001: t − hmi_snapshot_time_s − one step ≤ hmi_refresh_period_s (in whole
    steps), on every step; the snapshot time is a step time already seen."""
    times, records, replies = run(cls, cfg)
    for t, reply in zip(times, replies, strict=True):
        age = t - reply["hmi_snapshot_time_s"]
        assert age >= 0.0, f"{cfg}: snapshot from the future at t={t}"
        assert round((age - NOMINAL_STEP_S) / NOMINAL_STEP_S, 6) <= round(
            cfg.period_s / NOMINAL_STEP_S, 6), f"{cfg}: snapshot {age:.3f} s old at t={t}"
        snapshot_inputs(times, records, reply)


def check_content(cls: type[HmiApi], cfg: Config) -> None:
    """OBSA-HMI-002: every field equals its input at hmi_snapshot_time_s, within the
    signal's resolution."""
    times, records, replies = run(cls, cfg, seed=2)
    for t, reply in zip(times, replies, strict=True):
        taken = snapshot_inputs(times, records, reply)
        for out, signal in NUMBERS.items():
            resolution = SIGNAL_FORMAT[out][2] or 0.0
            assert abs(reply[out] - taken[signal]) <= resolution, f"{cfg}: {out} at t={t}"
        for out, signal in ENUMS.items():
            assert reply[out] == taken[signal], f"{cfg}: {out} at t={t}"
        for out, signal in ARRAYS.items():
            resolution = SIGNAL_FORMAT[out][2] or 0.0
            assert np.all(np.abs(np.asarray(reply[out]) - taken[signal]) <= resolution), (
                f"{cfg}: {out} at t={t}")


def check_fault_memory(cls: type[HmiApi], cfg: Config) -> None:
    """OBSA-HMI-003: hmi_dtc_status equals dtc_status and hmi_active_dtc_count the number of
    active DTCs, both at hmi_snapshot_time_s."""
    times, records, replies = run(cls, cfg, seed=3)
    for t, reply in zip(times, replies, strict=True):
        taken = snapshot_inputs(times, records, reply)["dtc_status"]
        mismatches = int(np.sum(np.asarray(reply["hmi_dtc_status"]) != taken))
        assert mismatches == 0, f"{cfg}: {mismatches} DTC statuses differ at t={t}"
        active = int(np.sum(taken == int(DtcStatus.ACTIVE)))
        assert reply["hmi_active_dtc_count"] == active, f"{cfg}: active count at t={t}"


def assert_caught(check: Callable[[type[HmiApi], Config], None], defect: type[HmiApi]) -> None:
    for cfg in CONFIGS:
        try:
            check(defect, cfg)
        except (AssertionError, AdapterError):
            return
    pytest.fail(f"{defect.__name__} passes every configuration")


# ------------------------------------------------------------------ plausible defects
class NeverRefreshes(HmiApi):
    """Takes one snapshot after reset and serves it for ever."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if self._snapshot_s is None:
            self._take(t, inputs)
        return dict(self._served)


class RefreshEveryNSteps(HmiApi):
    """Counts steps (period / 0.1 s of them) instead of measuring time."""

    def reset(self) -> None:
        super().reset()
        self._steps = 0

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if self._steps % max(round(self._period_s / NOMINAL_STEP_S), 1) == 0:
            self._take(t, inputs)
        self._steps += 1
        return dict(self._served)


class FirstSnapshotAfterAPeriod(HmiApi):
    """Waits a period measured from t = 0 before its first snapshot."""

    def reset(self) -> None:
        super().reset()
        self._snapshot_s = 0.0


class StampsTheStepTime(HmiApi):
    """Reports the step's time as the snapshot time while serving the old snapshot."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return super()._step(t, inputs) | {"hmi_snapshot_time_s": t}


class LiveCurrent(HmiApi):
    """Serves the pack current live instead of from the snapshot (mixes instants)."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return super()._step(t, inputs) | {"hmi_pack_current_A": float(inputs["pack_current_A"])}


class SwappedEnums(HmiApi):
    """Serves the safety state as the contactor state and the other way round."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        safety, contactor = out["hmi_safety_state"], out["hmi_contactor_state"]
        if safety in {int(v) for v in ContactorState}:
            out["hmi_safety_state"], out["hmi_contactor_state"] = contactor, safety
        return out


class CountsStored(HmiApi):
    """Counts stored DTCs as active."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        out["hmi_active_dtc_count"] = int(np.count_nonzero(out["hmi_dtc_status"]))
        return out


class LiveDtcStatus(HmiApi):
    """Serves the DTC statuses and their count live, the rest from the snapshot."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        status = np.asarray(inputs["dtc_status"])
        out["hmi_dtc_status"] = status
        out["hmi_active_dtc_count"] = int(np.sum(status == int(DtcStatus.ACTIVE)))
        return out


# ------------------------------------------------------------------ the tests
@pytest.mark.parametrize("cfg", CONFIGS, ids=CFG_IDS)
def test_hmi001_snapshot_no_older_than_the_period(cfg: Config) -> None:
    check_age(HmiApi, cfg)


@pytest.mark.parametrize("cfg", CONFIGS, ids=CFG_IDS)
def test_hmi002_snapshot_fields_equal_their_inputs_at_its_time(cfg: Config) -> None:
    check_content(HmiApi, cfg)


@pytest.mark.parametrize("cfg", CONFIGS, ids=CFG_IDS)
def test_hmi003_fault_memory_of_the_snapshot(cfg: Config) -> None:
    check_fault_memory(HmiApi, cfg)


@pytest.mark.parametrize("period", PERIODS)
def test_the_reference_refreshes_within_the_period_itself(period: float) -> None:
    """Stricter than OBSA-HMI-001 (which allows one step more): the served snapshot is
    always younger than the period, and a new one comes as soon as a period has passed."""
    cfg = Config(12, 3, period, 1.0e6, "0.01")
    times, _, replies = run(HmiApi, cfg)
    snapshots = np.array([r["hmi_snapshot_time_s"] for r in replies])
    assert np.all(times - snapshots < period - 1e-9)
    taken = np.unique(snapshots)
    assert taken[0] == cfg.t0
    assert np.allclose(np.diff(taken), period, atol=0.01 + 1e-9)


def test_invalid_inputs_keep_the_last_value_and_out_of_range_ones_are_clipped() -> None:
    """Documented choices: a non-finite number or an unknown enum value keeps the field's
    previous value; a finite number outside the signal's range is clipped to it."""
    cfg = Config(12, 3, 0.1, 0.0, "0.1")
    rng = np.random.default_rng(9)
    api = HmiApi()
    api.configure({})
    good = random_inputs(cfg, rng)
    first = api.step(0.0, good)
    bad = good | {"pack_voltage_V": math.nan, "pack_current_A": -2500.0, "safety_state": 17,
                  "dtc_status": np.where(np.arange(N_DTC) == 3, 9, good["dtc_status"])}
    out = api.step(0.1, bad)
    check_reply(12, 3, out)
    assert out["hmi_snapshot_time_s"] == 0.1
    assert out["hmi_pack_voltage_V"] == first["hmi_pack_voltage_V"]
    assert out["hmi_pack_current_A"] == -2000.0
    assert out["hmi_safety_state"] == first["hmi_safety_state"]
    assert np.array_equal(out["hmi_dtc_status"], first["hmi_dtc_status"])


def test_snapshot_is_immune_to_later_changes_of_its_input_arrays() -> None:
    cfg = Config(1, 1, 1.0, 0.0, "0.1")
    api = HmiApi()
    api.configure({"hmi_refresh_period_s": 1.0})
    record = random_inputs(cfg, np.random.default_rng(4))
    status = record["dtc_status"]
    served = api.step(0.0, record)["hmi_dtc_status"].copy()
    status[:] = int(DtcStatus.ACTIVE)
    out = api.step(0.1, record)
    assert np.array_equal(out["hmi_dtc_status"], served)
    with pytest.raises(ValueError):
        out["hmi_dtc_status"][0] = 1  # read-only


def test_lifetime_data_served_unchanged_and_read_only() -> None:
    """OBSA-REG-016 (a demonstration): the Annex VII inputs as of the snapshot, unchanged,
    through a mapping that cannot be written."""
    cfg = Config(12, 3, 0.35, 1.0e6, "0.1")
    rng = np.random.default_rng(5)
    api = HmiApi()
    api.configure({"hmi_refresh_period_s": cfg.period_s})
    assert dict(api.lifetime_data) == {}
    first = random_inputs(cfg, rng)
    api.step(cfg.t0, first)
    api.step(cfg.t0 + 0.1, random_inputs(cfg, rng))  # no snapshot yet
    assert dict(api.lifetime_data) == {name: first[name] for name in LIFETIME_INPUTS}
    with pytest.raises(TypeError):
        api.lifetime_data["soh_capacity"] = 1.0  # type: ignore[index]
    assert set(LIFETIME_INPUTS) <= set(HmiApiInputs.__annotations__)


def test_before_the_first_snapshot_the_outputs_hold_their_start_values() -> None:
    api = HmiApi()
    api.configure({})
    assert api._served["hmi_snapshot_time_s"] == -1.0
    served = dict(api._served)
    # the cell arrays start empty: their length is the pack's, read at the first snapshot
    for name in ARRAYS:
        assert served.pop(name).size == 0
    check_reply(1, 1, {**served, **{name: np.zeros(1) for name in ARRAYS}})


# ------------------------------------------------------------------ defects are caught
@pytest.mark.parametrize("defect", [NeverRefreshes, RefreshEveryNSteps,
                                    FirstSnapshotAfterAPeriod])
def test_hmi001_catches(defect: type[HmiApi]) -> None:
    assert_caught(check_age, defect)


@pytest.mark.parametrize("defect", [StampsTheStepTime, LiveCurrent, SwappedEnums])
def test_hmi002_catches(defect: type[HmiApi]) -> None:
    assert_caught(check_content, defect)


@pytest.mark.parametrize("defect", [CountsStored, LiveDtcStatus, StampsTheStepTime])
def test_hmi003_catches(defect: type[HmiApi]) -> None:
    assert_caught(check_fault_memory, defect)
