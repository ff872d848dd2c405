"""Conformance test cases of the SoH estimator judged against the truth (area SOH, and the
state-of-health data of EU Regulation 2023/1542 Annex VII part A, area REG).

Each test case replays a cycle vector (:mod:`conformance.harness.replay`): an aged or
another cell than characterized, simulated by PyBaMM, doing two full cycles between the
reference voltages of its SoC — CC-CV charge, rest, C/3 discharge, rest — repeated to the
declared pack and read with the declared sensor errors. The estimator is configured with
the characterization of the vector's nominal cell and that cell's beginning-of-life values
(interface ``soh_estimator``, ``characterization``), so what it must find is how far the
simulated cell has moved from them. Its outputs are judged at the end of the second full
cycle, against the truth the vector records per cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from conformance.harness.context import Harness
from conformance.harness.replay import (
    Replay,
    characterization,
    judge_replay,
    replay,
)
from conformance.report.replays import on_vector
from conformance.vectors import Vector, VectorError, discovery

SOH = "soh_estimator"
req = pytest.mark.requirement
CYCLE_PROFILE = "cycles"
"""The profile of the vectors that hold full cycles (vectors/README.md)."""
FULL_CYCLES = 2
"""How many full cycles the estimator has seen when it is judged (OBSA-SOH-001, -002)."""
REFERENCE_VOLTAGE_SLACK_V = 0.02
"""A charge or discharge reached a reference voltage when its cell came this close: a cycler
ends a step within a sample of its limit (10 mV at most on the shipped vectors)."""


CYCLE_VECTORS = [f.id for f in discovery.parameters()
                 if f.source == "shipped" and f.info.profile == CYCLE_PROFILE]
"""The shipped vectors that hold full cycles (:mod:`conformance.vectors.discovery`)."""


def full_cycle_ends(vector: Vector) -> list[float]:
    """When each full cycle of ``vector`` ends (s): a charge that brought every cell to the
    SoC reference's full voltage, then a discharge that brought one to its empty voltage;
    the cycle ends when the rest after that discharge does (the next charge starts, or the
    vector ends)."""
    ref = vector.info.soc_reference
    current = vector["current_A"].astype(float)
    voltage = vector["cell_voltage_V"].astype(float)
    full = (current > 0) & (voltage.min(axis=1) >= ref.full_voltage_V
                            - REFERENCE_VOLTAGE_SLACK_V)
    empty = (current < 0) & (voltage.min(axis=1) <= ref.empty_voltage_V
                             + REFERENCE_VOLTAGE_SLACK_V)
    t = vector["t_s"]
    ends: list[float] = []
    i, n = 0, len(t)
    while True:
        charged = np.flatnonzero(full[i:])
        if charged.size == 0:
            return ends
        emptied = np.flatnonzero(empty[i + charged[0]:])
        if emptied.size == 0:
            return ends
        k = i + int(charged[0]) + int(emptied[0])
        charging = np.flatnonzero(current[k:] > 0)
        i = n if charging.size == 0 else k + int(charging[0])
        ends.append(float(t[i - 1]))
        if i >= n:
            return ends


@dataclass(frozen=True)
class Truth:
    """The truth of the declared pack: the vector's cells repeated to the declared count."""

    capacity_Ah: np.ndarray  # (cells,)
    resistance_ohm: np.ndarray  # (cells,)

    @property
    def pack_capacity_Ah(self) -> float:
        """The string's: its weakest cell's."""
        return float(self.capacity_Ah.min())

    @property
    def pack_resistance_ohm(self) -> float:
        return float(self.resistance_ohm.sum())


def pack_truth(vector: Vector, cells: int) -> Truth:
    columns = np.arange(cells) % vector.info.n_cells
    return Truth(vector["cell_capacity_Ah"].astype(float)[columns],
                 vector["cell_resistance_ohm"].astype(float)[columns])


def beginning_of_life(obsa: Harness, vector: Vector) -> dict[str, Any]:
    """The beginning-of-life values of the vector's nominal cell a SoH estimator is given
    (interface soh_estimator, characterization): the characterization's reference capacity,
    its R0 at the SoC reference temperature (the mean over its points there) and the
    certified energy of the declared pack of such cells (the cell count times the capacity
    times the mean OCV over SoC at that temperature)."""
    doc = characterization(vector)
    capacity = float(doc["reference_capacity_Ah"])
    reference_t = vector.info.soc_reference.temperature_degC
    r0 = [float(p["r0_ohm"]) for p in doc["ecm"]["points"]
          if float(p["temperature_degC"]) == reference_t]
    if not r0:
        raise VectorError(f"{vector.info.characterization}: expected ecm points at the SoC "
                          f"reference temperature {reference_t:g} °C")
    ocv = np.asarray(doc["ocv"]["ocv_V"][f"{reference_t:g}"], dtype=float)
    cells = int(obsa.session.dimensions["cell"])
    return {"rated_capacity_Ah": capacity, "initial_resistance_ohm": float(np.mean(r0)),
            "certified_energy_Wh": cells * capacity * float(np.mean(ocv))}


SOC_BOUND = ("OBSA-SOC-003", "soc_max_error")
"""The criterion whose limit bounds how far the SoC input strays from the truth."""
SOC_REST_S = 300.0
"""A rest this long (current below C/20 of rated_capacity_Ah) lets a SoC estimator read the
SoC from the voltage: the SoC input is the truth there."""


def soc_input(obsa: Harness, vector: Vector, rows: np.ndarray, cells: int,
              rated_Ah: float) -> np.ndarray:
    """The cell_soc the SoH estimator is given (interface soh_estimator, characterization):
    what a conforming SoC estimator counting on the beginning-of-life capacity may report.
    From the truth at the start and after every rest of :data:`SOC_REST_S`, the charge is
    counted on ``rated_Ah``; the input is the truth moved towards that count by at most the
    largest SoC error OBSA-SOC-003 allows. So the input tells where the cell is, within a
    SoC estimator's accuracy, but not its capacity: charge over the input's SoC change gives
    rated_Ah back wherever the count is within that bound."""
    rid, name = SOC_BOUND
    bound = next(float(c.value or 0.0) for c in obsa.spec.requirements[rid].acceptance
                 if c.name == name)
    t = vector["t_s"]
    current = vector["current_A"].astype(float)
    charge_Ah = np.concatenate([[0.0], np.cumsum(0.5 * (current[1:] + current[:-1])
                                                 * np.diff(t))]) / 3600.0
    resting = np.abs(current) <= rated_Ah / 20.0
    since = np.arange(len(t)) - np.maximum.accumulate(np.where(resting, 0, np.arange(len(t))))
    anchor = np.maximum.accumulate(np.where(resting & (since * vector.info.dt_s >= SOC_REST_S),
                                            np.arange(len(t)), 0))
    # per cell of the vector, then repeated to the declared pack (cell i is cell i mod n)
    truth = vector["cell_soc"].astype(float)
    counted = truth[anchor] + ((charge_Ah - charge_Ah[anchor]) / rated_Ah)[:, None]
    given = np.clip(truth + np.clip(counted - truth, -bound, bound), 0.0, 1.0)
    return np.asarray(given[rows][:, np.arange(cells) % vector.info.n_cells])


def replay_cycles(obsa: Harness, vector: Vector, settings: dict[str, Any]) -> Replay:
    """The whole vector replayed to the SoH estimator (:func:`replay`, ``settings`` on top
    of the vector's configuration), with :func:`soc_input`'s cell_soc instead of the truth."""
    rated_Ah = settings["rated_capacity_Ah"]
    return replay(obsa, vector, SOH, **settings,
                  cell_soc=lambda rows, cells: soc_input(obsa, vector, rows, cells, rated_Ah))


def _relative(estimate: np.ndarray | float, truth: np.ndarray | float) -> float:
    return float(np.max(np.abs(np.asarray(estimate) - truth) / truth))


def _replay_cycles(obsa: Harness, vector_id: str) -> tuple[Replay, int, list[float], str]:
    """The whole cycle vector replayed to the SoH estimator right after reset(): the replay,
    the index of the judged step (the end of the second full cycle), the cycles' ends and a
    message naming the values it was configured with."""
    cycles = discovery.vector(vector_id)
    bol = beginning_of_life(obsa, cycles)
    ends = full_cycle_ends(cycles)
    r = replay_cycles(obsa, cycles, bol)
    judged = (int(np.searchsorted(r.t_s, ends[FULL_CYCLES - 1] + 1e-9)) - 1
              if len(ends) >= FULL_CYCLES else -1)
    message = (f"configured with the nominal cell's rated_capacity_Ah "
               f"{bol['rated_capacity_Ah']:.4f} Ah and initial_resistance_ohm "
               f"{bol['initial_resistance_ohm'] * 1000:.2f} mΩ")
    return r, judged, ends, message


def cycle_energies_Wh(r: Replay, first_s: float, last_s: float
                      ) -> tuple[float, float]:
    """The energy charged and discharged (Wh) between ``first_s`` and ``last_s`` by the
    estimator's own inputs, pack_voltage_V × pack_current_A, each held over its step (the
    inputs of the replayed samples, as :func:`replay` gave them)."""
    power = r.inputs["pack_voltage_V"] * r.inputs["pack_current_A"]
    dt = np.diff(r.t_s, append=r.t_s[-1])
    inside = (r.t_s >= first_s - 1e-9) & (r.t_s < last_s - 1e-9)
    energy = power * dt * inside / 3600.0
    return float(np.sum(np.maximum(energy, 0.0))), float(np.sum(np.maximum(-energy, 0.0)))


def last_discharge_Wh(vector: Vector, end_s: float, cells: int) -> float:
    """The true energy (Wh) the declared pack's cells deliver in the discharge that ends the
    full cycle ending at ``end_s``: from the end of its charge to ``end_s``, the sum of the
    cells' true voltages times the current."""
    t = vector["t_s"]
    current = vector["current_A"].astype(float)
    stop = int(np.searchsorted(t, end_s + 1e-9))
    start = int(np.flatnonzero(current[:stop] > 0)[-1]) + 1
    columns = np.arange(cells) % vector.info.n_cells
    volts = vector["cell_voltage_V"][start:stop][:, columns].astype(float).sum(axis=1)
    power = volts * current[start:stop]
    return float(-np.trapezoid(power, t[start:stop]) / 3600.0)


ANNEX_VII = ("OBSA-REG-001", "OBSA-REG-003", "OBSA-REG-005", "OBSA-REG-006")


@pytest.mark.parametrize("vector_id", [pytest.param(v, id=v) for v in CYCLE_VECTORS])
@req("OBSA-SOH-001", "OBSA-SOH-002", *ANNEX_VII)
def test_soh_after_two_full_cycles(obsa: Harness, vector_id: str) -> None:
    """A cycle vector replayed to the SoH estimator from its start: at the end of the second
    full cycle, the largest relative error of every cell_capacity_Ah and of pack_capacity_Ah
    against the truth capacity of its cell and of the string (its weakest cell), and of every
    cell_resistance_ohm and pack_resistance_ohm against the truth ohmic resistance; the
    Annex VII figures: soh_capacity and soh_resistance against the truth over their
    beginning-of-life denominators, round_trip_efficiency against the energy out over the
    energy in of the second cycle by the estimator's inputs, soce against the true energy of
    the second discharge over certified_energy_Wh."""
    r, judged, ends, message = _replay_cycles(obsa, vector_id)
    if judged < 0:
        for rid in ("OBSA-SOH-001", "OBSA-SOH-002", *ANNEX_VII):
            obsa.inconclusive(rid, f"vector {vector_id} holds {len(ends)} full cycles, "
                                   f"fewer than {FULL_CYCLES}")
        return
    out = {name: values[judged] for name, values in r.outputs.items()}
    truth = pack_truth(r.vector, len(out["cell_capacity_Ah"]))
    events = {f"full cycle {k + 1} ends": end for k, end in enumerate(ends[:FULL_CYCLES])}
    judge_replay(obsa, "OBSA-SOH-001", {"capacity_relative_error": max(
        _relative(out["cell_capacity_Ah"], truth.capacity_Ah),
        _relative(out["pack_capacity_Ah"], truth.pack_capacity_Ah))}, r,
        f"{message}; judged at {r.t_s[judged]:g} s against the truth capacity "
        f"{', '.join(f'{c:.4f}' for c in r.vector['cell_capacity_Ah'])} Ah per cell "
        f"(string {truth.pack_capacity_Ah:.4f} Ah); estimated "
        f"{float(np.min(out['cell_capacity_Ah'])):.4f}…"
        f"{float(np.max(out['cell_capacity_Ah'])):.4f} Ah, string "
        f"{float(out['pack_capacity_Ah']):.4f} Ah", events)
    judge_replay(obsa, "OBSA-SOH-002", {"resistance_relative_error": max(
        _relative(out["cell_resistance_ohm"], truth.resistance_ohm),
        _relative(out["pack_resistance_ohm"], truth.pack_resistance_ohm))}, r,
        f"{message}; judged at {r.t_s[judged]:g} s against the truth ohmic resistance "
        f"{', '.join(f'{x * 1000:.2f}' for x in r.vector['cell_resistance_ohm'])} mΩ per "
        f"cell; estimated {float(np.min(out['cell_resistance_ohm'])) * 1000:.2f}…"
        f"{float(np.max(out['cell_resistance_ohm'])) * 1000:.2f} mΩ", events)
    _judge_annex_vii(obsa, r, judged, ends, truth, out, events, message)
    on_vector(obsa, vector_id)  # the report's numbers per vector


def _judge_annex_vii(obsa: Harness, r: Replay, judged: int, ends: list[float], truth: Truth,
                     out: dict[str, np.ndarray], events: dict[str, float], message: str
                     ) -> None:
    """OBSA-REG-001, 003, 005 and 006 at the end of the second full cycle."""
    bol = beginning_of_life(obsa, r.vector)
    cells = len(out["cell_capacity_Ah"])
    soh_capacity = truth.pack_capacity_Ah / bol["rated_capacity_Ah"]
    soh_resistance = truth.pack_resistance_ohm / (cells * bol["initial_resistance_ohm"])
    at = f"{message}; judged at {r.t_s[judged]:g} s"
    judge_replay(obsa, "OBSA-REG-001", {
        "soh_capacity_relative_error": _relative(out["soh_capacity"], soh_capacity)}, r,
        f"{at}: true soh_capacity {soh_capacity:.4f}, reported "
        f"{float(out['soh_capacity']):.4f}", events)
    judge_replay(obsa, "OBSA-REG-005", {
        "soh_resistance_relative_error": _relative(out["soh_resistance"], soh_resistance)}, r,
        f"{at}: true soh_resistance {soh_resistance:.4f}, reported "
        f"{float(out['soh_resistance']):.4f}", events)
    first, last = ends[FULL_CYCLES - 2], ends[FULL_CYCLES - 1]
    e_in, e_out = cycle_energies_Wh(r, first, last)
    efficiency = e_out / e_in
    judge_replay(obsa, "OBSA-REG-003", {
        "round_trip_efficiency_error": abs(float(out["round_trip_efficiency"]) - efficiency)},
        r, f"{at}: from {first:g} s to {last:g} s the estimator was given {e_in:.1f} Wh in "
           f"and {e_out:.1f} Wh out (ratio {efficiency:.4f}), it reports "
           f"{float(out['round_trip_efficiency']):.4f}", events)
    energy = last_discharge_Wh(r.vector, last, cells)
    soce = energy / bol["certified_energy_Wh"]
    judge_replay(obsa, "OBSA-REG-006", {
        "soce_relative_error": _relative(out["soce"], soce)}, r,
        f"{at}: the second discharge delivered {energy:.1f} Wh, over certified_energy_Wh "
        f"{bol['certified_energy_Wh']:.1f} Wh a soce of {soce:.4f}; reported "
        f"{float(out['soce']):.4f}", events)
