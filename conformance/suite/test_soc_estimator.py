"""Conformance test cases of the SoC estimator (area SOC), judged against test vectors.

The estimator only observes, so each test case replays a vector to it (open loop:
:mod:`conformance.harness.replay`): cells simulated by PyBaMM, repeated to the declared
pack size, read with the declared sensor errors; the estimator is configured with the
characterization of the vector's nominal cell, which the simulated cell deviates from.
Every drive-cycle vector — the shipped WLTC ones and a vendor's own given with ``obsa
certify --vectors`` (:mod:`conformance.vectors.discovery` says which vectors are drive
cycles) — is replayed from the middle of the drive, where the cells are not at rest and one
voltage reading cannot tell the SoC, with the initial SoC 0.1 away from the truth: above it
on the first, third, … drive cycle of the run, below it on the second, fourth, … (so that
every run with two drive cycles judges convergence from both directions). Each
test case marks its results with the vector it replayed (:func:`conformance.report.
replays.on_vector`): the report's numbers per vector.
"""

from __future__ import annotations

import numpy as np
import pytest

from conformance.harness.context import Harness
from conformance.harness.replay import (
    CHARGE_LIMIT_C,
    DISCHARGE_LIMIT_C,
    characterization,
    judge_replay,
    replay,
)
from conformance.report.replays import on_vector
from conformance.vectors import Vector
from conformance.vectors.discovery import DRIVE_CYCLE_START_S, parameters, vector

SOC = "soc_estimator"
req = pytest.mark.requirement
START_S = DRIVE_CYCLE_START_S
"""Where a replay starts: 60 s of rest and 540 s of WLTC into a shipped drive-cycle vector."""
INITIAL_ERROR = 0.1
"""How far from the truth the estimate starts (OBSA-SOC-004)."""
BAND = 0.05
"""The error an estimate has converged within (OBSA-SOC-004)."""
STALE_S = (700.0, 760.0)
"""The current measurement is not renewed in this window of the stale-input case (s)."""
STALE_AFTER_S = 60.0
"""The stale-input case's replay ends this long after the current is renewed (s): what
follows is judged by none of its criteria."""


LONG_RUN_PROFILE = "partial-cycling"
"""The profile of the long-run vectors: partial cycling that never nears full or empty
(vectors/README.md)."""
LONG_RUN_VECTORS = [f.id for f in parameters()
                    if f.source == "shipped" and f.info.profile == LONG_RUN_PROFILE]
"""The shipped long-run vectors (OBSA-SOC-007)."""
DRIFT_WINDOW_S = 1800.0
"""The drift is the mean error over the last this-long of a long-run vector against the mean
over the first this-long of its cycling (OBSA-SOC-007): one period of the shipped one."""

DRIVE_CYCLES = [f.id for f in parameters("drive_cycle")]
"""The drive-cycle vectors judged: the shipped ones and a vendor's (``obsa certify
--vectors``), :mod:`conformance.vectors.discovery`."""


def _vector(vector_id: str) -> Vector:
    return vector(vector_id)


def _initial(truth: float, upwards: bool) -> float:
    """The truth moved by INITIAL_ERROR, upwards or downwards — the other way where that
    would leave [0, 1]."""
    up, down = truth + INITIAL_ERROR, truth - INITIAL_ERROR
    if upwards:
        return up if up <= 1.0 else down
    return down if down >= 0.0 else up


@pytest.mark.parametrize("vector_id", [pytest.param(v, id=v) for v in DRIVE_CYCLES])
@req("OBSA-SOC-002", "OBSA-SOC-003", "OBSA-SOC-004", "OBSA-SOC-005")
def test_soc_on_a_drive_cycle(obsa: Harness, vector_id: str) -> None:
    """A drive-cycle vector replayed from 540 s into the drive with the initial SoC 0.1 from
    the truth (above it on every other drive cycle of the run, below on the others): the
    convergence time, then the RMS and largest errors of every cell_soc and of
    pack_soc after the declared soc_convergence_time_s, and pack_soc against its own
    definition over the cells' estimates."""
    vector = _vector(vector_id)
    converge_s = float(obsa.param(SOC, "soc_convergence_time_s"))
    start = int(np.searchsorted(vector["t_s"], START_S - 1e-9))
    truth0 = float(vector["cell_soc"][start].mean())
    initial = _initial(truth0, upwards=DRIVE_CYCLES.index(vector_id) % 2 == 0)
    r = replay(obsa, vector, SOC, start_s=START_S, initial_soc=initial)
    t = r.t_s - r.t_s[0]
    est, pack = r.outputs["cell_soc"], r.outputs["pack_soc"]
    cell_err = est - r.truth_soc
    pack_err = pack - r.truth_pack_soc
    after = t >= converge_s - 1e-9
    message = (f"replayed from {START_S:g} s with the initial SoC {initial:.3f} "
               f"(truth {truth0:.3f}); scored from the declared {converge_s:g} s on")
    events = {"scored from": float(r.t_s[0] + converge_s)}
    outside = np.flatnonzero(np.any(np.abs(cell_err) >= BAND, axis=1))
    converged = 0.0 if outside.size == 0 else float(t[outside[-1]] + vector.info.dt_s)
    judge_replay(obsa, "OBSA-SOC-004", {"convergence_time_s": converged}, r, message,
                 {"converged": float(r.t_s[0] + converged)})
    if not after.any():
        for rid in ("OBSA-SOC-002", "OBSA-SOC-003"):
            obsa.inconclusive(rid, f"vector {vector_id} ends before the declared "
                                   f"soc_convergence_time_s {converge_s:g} s")
    else:
        judge_replay(obsa, "OBSA-SOC-002", {
            "cell_soc_rmse": float(np.max(np.sqrt(np.mean(cell_err[after] ** 2, axis=0)))),
            "pack_soc_rmse": float(np.sqrt(np.mean(pack_err[after] ** 2))),
        }, r, message, events)
        judge_replay(obsa, "OBSA-SOC-003", {
            "soc_max_error": float(max(np.max(np.abs(cell_err[after])),
                                       np.max(np.abs(pack_err[after])))),
        }, r, message, events)
    lo, hi = est.min(axis=1), est.max(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        defined = np.where(lo + 1.0 - hi > 0, lo / (lo + 1.0 - hi), 0.0)
    judge_replay(obsa, "OBSA-SOC-005", {
        "pack_soc_definition_error": float(np.max(np.abs(pack - defined))),
    }, r, "pack_soc against min/(min + 1 − max) of the reported cell_soc")
    on_vector(obsa, vector_id)  # the report's numbers per vector


@req("OBSA-SOC-006")
def test_stale_current_is_not_integrated(obsa: Harness) -> None:
    """The nominal NMC drive cycle replayed from 600 s to 820 s; from 700 s to 760 s the
    current measurement is not renewed (its age grows; it reads 1C discharge, the last value
    received): the delay from the age passing the declared soc_input_timeout_s to
    soc_inputs_stale, and how far any cell_soc moves while the flag is raised."""
    vector = _vector("nmc-wltc-25c")
    timeout = float(obsa.param(SOC, "soc_input_timeout_s"))
    mask = obsa.bit(SOC, "soc_inputs_stale")
    one_c = float(characterization(vector)["reference_capacity_Ah"])  # A, discharging
    r = replay(obsa, vector, SOC, start_s=START_S, stop_s=STALE_S[1] + STALE_AFTER_S,
               stale=STALE_S, stale_current_A=-one_c)
    t = r.t_s
    flags = r.outputs["soc_fault_flags"].astype(np.int64) & mask != 0
    late = np.flatnonzero((t - STALE_S[0] > timeout + 1e-9) & (t < STALE_S[1]))
    t_late = float(t[late[0]]) if late.size else None
    raised = np.flatnonzero(flags & (t >= STALE_S[0]) & (t < STALE_S[1]))
    t_flag = float(t[raised[0]]) if raised.size else None
    delay = None if t_late is None or t_flag is None else max(0.0, t_flag - t_late)
    est = r.outputs["cell_soc"]
    drift = float(np.max(np.ptp(est[raised], axis=0))) if raised.size else None
    events = {"current frozen": STALE_S[0], "current renewed": STALE_S[1]}
    if t_flag is not None:
        events["soc_inputs_stale"] = t_flag
    judge_replay(obsa, "OBSA-SOC-006", {"detection_delay_s": delay, "stale_drift": drift}, r,
                 f"current not renewed from {STALE_S[0]:g} s to {STALE_S[1]:g} s", events)
    on_vector(obsa, vector.info.id)


def offset_sign(obsa: Harness) -> float:
    """The sign of the current offset of the long-run case, drawn from the run's seed: a
    module cannot choose it, and a run says which it was."""
    return 1.0 if np.random.default_rng([obsa.seed, 0x0FF5E7]).integers(2) else -1.0


@pytest.mark.parametrize("vector_id", [pytest.param(v, id=v) for v in LONG_RUN_VECTORS])
@req("OBSA-SOC-007")
def test_soc_does_not_drift_with_a_current_offset(obsa: Harness, vector_id: str) -> None:
    """A long-run vector replayed from its start, the estimator started at the true SoC and
    the current read with a constant offset of the declared current_offset_error_A (its
    sign drawn from the run's seed; gain and noise as every replay's): how far the mean
    error of every cell_soc over the last DRIFT_WINDOW_S moved from its mean over the first
    DRIFT_WINDOW_S of the cycling (from the first sample with current), per hour between
    the two windows, and the largest error after the declared soc_convergence_time_s."""
    vector = _vector(vector_id)
    declared = float(obsa.param("current_sensor", "current_offset_error_A"))
    offset = offset_sign(obsa) * declared
    converge_s = float(obsa.param(SOC, "soc_convergence_time_s"))
    truth0 = float(vector["cell_soc"][0].mean())
    r = replay(obsa, vector, SOC, initial_soc=truth0, current_offset_A=offset)
    err = r.outputs["cell_soc"] - r.truth_soc
    t = r.t_s
    moving = np.flatnonzero(vector["current_A"] != 0.0)
    first_s = float(vector["t_s"][moving[0]]) if moving.size else float(t[0])
    last_s = float(t[-1]) - DRIFT_WINDOW_S
    message = (f"started at the true SoC {truth0:.3f}, the current read with an offset of "
               f"{offset * 1000:+.0f} mA (declared ±{declared * 1000:.0f} mA)")
    if last_s < first_s + DRIFT_WINDOW_S:
        obsa.inconclusive("OBSA-SOC-007", f"vector {vector_id} is shorter than two windows of "
                                          f"{DRIFT_WINDOW_S:g} s after its initial rest")
        return
    first = (t >= first_s - 1e-9) & (t < first_s + DRIFT_WINDOW_S - 1e-9)
    last = t >= last_s - 1e-9
    hours = (last_s - first_s) / 3600.0
    drift = np.abs(err[last].mean(axis=0) - err[first].mean(axis=0)) / hours
    after = t - t[0] >= converge_s - 1e-9
    judge_replay(obsa, "OBSA-SOC-007", {
        "soc_error_drift_per_hour": float(np.max(drift)),
        "soc_max_error_with_offset": float(np.max(np.abs(err[after]))),
    }, r, f"{message}; windows {first_s:g}–{first_s + DRIFT_WINDOW_S:g} s and "
          f"{last_s:g}–{float(t[-1]):g} s, {hours:g} h apart",
        {"first window": first_s, "last window": last_s,
         "scored from": float(t[0] + converge_s)})
    on_vector(obsa, vector_id)


# ----------------------------------------------------------------------------- SoH, SoP
SOH, SOP = "soh_estimator", "sop_estimator"
#: the faulted window of the state-of-power case, s of the vector
FAULT_S = (630.0, 660.0)
#: where the state-of-power case ends: 5 minutes of WLTC after its start, s of the vector
SOP_STOP_S = 900.0


@req("OBSA-SOH-003", "OBSA-SOH-004")
def test_soh_definitions_and_first_values(obsa: Harness) -> None:
    """The nominal NMC drive cycle replayed to the SoH estimator from 600 s to its end, right
    after reset(): its first cell_capacity_Ah and cell_resistance_ohm against the declared
    rated_capacity_Ah and initial_resistance_ohm, and at every step soh_capacity and
    soh_resistance against their definitions over what it reports for the cells."""
    vector = _vector("nmc-wltc-25c")
    rated = float(obsa.param(SOH, "rated_capacity_Ah"))
    r0 = float(obsa.param(SOH, "initial_resistance_ohm"))
    r = replay(obsa, vector, SOH, start_s=START_S)
    capacity, resistance = r.outputs["cell_capacity_Ah"], r.outputs["cell_resistance_ohm"]
    judge_replay(obsa, "OBSA-SOH-004", {
        "initial_capacity_error_Ah": float(np.max(np.abs(capacity[0] - rated))),
        "initial_resistance_error_ohm": float(np.max(np.abs(resistance[0] - r0))),
    }, r, f"the first step after reset(): declared {rated:g} Ah and {r0:g} ohm")
    cells = capacity.shape[1]
    judge_replay(obsa, "OBSA-SOH-003", {
        "soh_capacity_definition_error": float(np.max(np.abs(
            r.outputs["soh_capacity"] - capacity.min(axis=1) / rated))),
        "soh_resistance_definition_error": float(np.max(np.abs(
            r.outputs["soh_resistance"] - resistance.sum(axis=1) / (cells * r0)))),
    }, r, "soh_capacity and soh_resistance against their definitions at every step")
    on_vector(obsa, vector.info.id)


@req("OBSA-SOP-001", "OBSA-SOP-004")
def test_sop_within_the_safety_limits_and_zero_while_faulted(obsa: Harness) -> None:
    """The nominal NMC drive cycle replayed to the SoP estimator from 600 s to 900 s, the
    safety supervisor's limits 1C charge and 2C discharge, the safety state fault from 630 s
    to 660 s and normal otherwise: how far its current limits go beyond the supervisor's,
    and the largest current and power limits it reports while faulted."""
    vector = _vector("nmc-wltc-25c")
    r = replay(obsa, vector, SOP, start_s=START_S, stop_s=SOP_STOP_S, fault=FAULT_S)
    capacity = float(characterization(vector)["reference_capacity_Ah"])
    charge, discharge = (r.outputs["sop_charge_current_limit_A"],
                         r.outputs["sop_discharge_current_limit_A"])
    judge_replay(obsa, "OBSA-SOP-001", {
        "charge_limit_excess_A": float(np.max(charge - CHARGE_LIMIT_C * capacity)),
        "discharge_limit_excess_A": float(np.max(discharge - DISCHARGE_LIMIT_C * capacity)),
    }, r, f"the safety supervisor's limits {CHARGE_LIMIT_C:g}C charge and "
          f"{DISCHARGE_LIMIT_C:g}C discharge ({capacity:g} Ah)")
    faulted = (r.t_s >= FAULT_S[0]) & (r.t_s < FAULT_S[1])
    powers = np.maximum(r.outputs["sop_charge_power_limit_W"],
                        r.outputs["sop_discharge_power_limit_W"])
    judge_replay(obsa, "OBSA-SOP-004", {
        "current_limit_while_faulted_A": float(np.max(np.maximum(charge, discharge)[faulted])),
        "power_limit_while_faulted_W": float(np.max(powers[faulted])),
    }, r, f"safety_state fault from {FAULT_S[0]:g} s to {FAULT_S[1]:g} s",
        {"fault": FAULT_S[0], "normal again": FAULT_S[1]})
    on_vector(obsa, vector.info.id)
