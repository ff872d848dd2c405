"""Conformance test cases of the SoP estimator (area SOP) in closed loop on the truth.

A state-of-power limit is a promise about the future, so it is judged by keeping it: the
vector is replayed to the estimator (:mod:`conformance.harness.replay`: the truth SoC and the
true cells' ohmic resistance as its cell_soc and cell_resistance_ohm inputs, what a perfect
SoC and SoH estimator would give), and at seeded sample times the limits it reports are drawn
from the vector's truth model (:mod:`conformance.harness.truth`: an equivalent circuit of
each true cell, fitted to the DFN the vector was simulated with, which the module does not
know) — as a constant current (OBSA-SOP-002) or a constant string power (OBSA-SOP-003) for
the declared sop_horizon_s, from the truth's state at that time. The measure is how far a
cell's voltage then goes beyond the declared voltage limits.

Each vector is replayed over :data:`WINDOW_S` around the time its cells' voltage comes
nearest each declared voltage limit (:func:`windows`), where a limit matters; the first
:data:`WARMUP_S` of a replay are not sampled (the estimator's own states settle). A sample
is not scored in a direction in which the truth is beyond its voltage limit even at rest
(no limit could hold it), nor where a cell's SoC is outside the range in which the truth
model fits the DFN within the criteria's tolerance (:meth:`TruthPack.covered_range`: there
it is no truth).

The voltage limits are the module's declaration for its pack, so a vector is judged only
when its cell is of the declared chemistry (as the bench models it,
:func:`conformance.bench.chemistry.bench_model`: NCA, LMO and LCO as layered oxides like
NMC): the limits of an LFP pack say nothing about an NMC cell. The other vectors' cases are
not applicable; with no vector of the declared chemistry at all, they are inconclusive
(nothing could judge the limits).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from conformance.bench.chemistry import bench_model
from conformance.harness.context import Harness
from conformance.harness.replay import Replay, configuration, judge_replay, replay
from conformance.harness.truth import TruthPack, truth_model
from conformance.paths import vectors_dir
from conformance.vectors import Vector, discovery, load_vector

SOP = "sop_estimator"
req = pytest.mark.requirement
WINDOW_S = 300.0
"""How long each replay is (s): it ends :data:`AFTER_S` after the voltage nearest a limit."""
AFTER_S = 60.0
WARMUP_S = 60.0
"""The start of a replay that is never sampled: the estimator's own states settle (s)."""
NEAR_V = 0.2
"""A voltage limit the cells come within this of gets a window of its own (V)."""
SAMPLES = 6
"""Seeded sample times per vector, besides the time nearest a limit."""


def _vectors() -> list[str]:
    """The ids of the shipped vectors that have a truth model."""
    return sorted(p.name[: -len(".truth.json")] for p in vectors_dir().glob("*.truth.json")
                  if p.with_name(p.name.replace(".truth.json", ".npz")).exists())


VECTORS = _vectors()


def _chemistry(vector_id: str) -> str:
    """The bench's model of the vector's cell chemistry (from its description alone)."""
    return bench_model(discovery.find(vector_id).info.chemistry)


def _unjudged_chemistry(obsa: Harness, vector_id: str) -> bool:
    """Whether the vector's cell is of another chemistry than the declared pack's; if so,
    the verdicts say so (see the module docstring)."""
    declared = bench_model(obsa.manifest.pack.chemistry)
    found = _chemistry(vector_id)
    if found == declared:
        return False
    same = [v for v in VECTORS if _chemistry(v) == declared]
    for rid in ("OBSA-SOP-002", "OBSA-SOP-003"):
        if same:
            obsa.not_applicable(rid, f"vector {vector_id} is of a {found} cell; the module's "
                                f"voltage limits are declared for a {declared} pack and are "
                                f"judged on {', '.join(same)}")
        else:
            obsa.inconclusive(rid, f"vector {vector_id} is of a {found} cell and no vector with "
                              f"a truth model is of the declared {declared} chemistry: the "
                              "declared voltage limits cannot be judged")
    return True


def _vector(vector_id: str) -> Vector:
    return load_vector(vectors_dir() / f"{vector_id}.json")


def windows(vector: Vector, truth: TruthPack, v_high: float, v_low: float, fit_V: float
            ) -> list[tuple[float, float, float]]:
    """(start, stop, t_near) of each replay: ``t_near`` the first time a cell's voltage comes
    nearest the charge voltage limit, then the discharge one, among the samples whose SoC
    the truth model covers (:meth:`TruthPack.covers`); a window ends :data:`AFTER_S` after
    it, inside the vector. A limit the cells never come within :data:`NEAR_V` of gets no
    window of its own (its limit is judged at the other window's samples), nor one whose
    time falls in the other's window."""
    t = vector["t_s"]
    v = vector["cell_voltage_V"]
    covered = truth.covers(vector["cell_soc"], fit_V)
    out: list[tuple[float, float, float]] = []
    distances = [np.where(covered, np.abs(v - limit).min(axis=1), np.inf)
                 for limit in (v_high, v_low)]
    for distance in sorted(distances, key=lambda d: float(np.min(d))):
        k = int(np.argmin(distance))
        if out and (distance[k] > NEAR_V or any(a <= t[k] <= b for a, b, _ in out)):
            continue
        near = float(t[k])
        stop = min(float(t[-1]), max(near + AFTER_S, float(t[0]) + WINDOW_S))
        start = max(float(t[0]), stop - WINDOW_S)
        out.append((start, stop, near))
    return out


@dataclass
class Drawn:
    """What drawing one limit from the truth gave."""

    t_s: float
    limit: float
    excess_V: float  # beyond the voltage limit (> 0: beyond)
    at_rest_V: float  # the same at zero current: > 0 means no limit can hold
    covered: bool  # the truth model covers the cells' SoC there
    sustained: float | None = None  # the truth's largest constant current (current limits)

    @property
    def scored(self) -> bool:
        return self.at_rest_V <= 0.0 and self.covered


def _counts(vector: Vector, cells: int) -> np.ndarray:
    """How many cells of the declared string are each cell of the vector."""
    n = vector.info.n_cells
    return np.array([len(range(j, cells, n)) for j in range(n)], dtype=float)


def _draw(truth: TruthPack, vector: Vector, r: Replay, samples: list[int], rows: np.ndarray,
          counts: np.ndarray, horizon: float, v_high: float, v_low: float, fit_V: float,
          drawn: dict[str, list[Drawn]]) -> None:
    """Draw every limit reported at ``samples`` of replay ``r`` from the truth (rows: the
    vector's samples) and add what it gave to ``drawn``."""
    states = truth.states_along(vector, rows)
    out = r.outputs
    inputs = r.inputs
    # the power limits of every sample drawn at once, charge and discharge (each draw from
    # its own state)
    socs = vector["cell_soc"][rows].astype(float)
    n = len(samples)
    volts = truth.draw_powers(
        np.concatenate([socs, socs]), np.concatenate([states, states]),
        np.maximum(np.concatenate([out["sop_charge_power_limit_W"][samples],
                                   out["sop_discharge_power_limit_W"][samples]]), 0.0),
        np.repeat([1.0, -1.0], n), counts, horizon)[0]
    powers = {"pc": volts[:n], "pd": volts[n:]}
    for k, (i, row, u) in enumerate(zip(samples, rows, states, strict=True)):
        soc = vector["cell_soc"][row].astype(float)
        covered = bool(truth.covers(soc[None, :], fit_V)[0])
        t = float(r.t_s[i])
        rest = truth.draw_current(soc, u, 0.0, horizon)
        rest_high, rest_low = float(np.max(rest - v_high)), float(np.max(v_low - rest))
        for key, sign, signal, ceiling in (
                ("ic", 1.0, "sop_charge_current_limit_A", "charge_current_limit_A"),
                ("id", -1.0, "sop_discharge_current_limit_A", "discharge_current_limit_A")):
            limit = float(out[signal][i])
            v = truth.draw_current(soc, u, sign * max(limit, 0.0), horizon)
            excess = float(np.max(v - v_high) if sign > 0 else np.max(v_low - v))
            sustained = truth.largest_current(soc, u, sign, float(inputs[ceiling][i]),
                                              v_high, v_low, horizon, bisections=10)
            drawn[key].append(Drawn(t, limit, excess, rest_high if sign > 0 else rest_low,
                                    covered, sustained))
        for key, sign, signal in (("pc", 1.0, "sop_charge_power_limit_W"),
                                  ("pd", -1.0, "sop_discharge_power_limit_W")):
            limit = float(out[signal][i])
            v = powers[key][k]
            excess = float(np.max(v - v_high) if sign > 0 else np.max(v_low - v))
            drawn[key].append(Drawn(t, limit, excess, rest_high if sign > 0 else rest_low,
                                    covered))



@pytest.mark.parametrize("vector_id", [pytest.param(v, id=v) for v in VECTORS])
@req("OBSA-SOP-002", "OBSA-SOP-003")
def test_sop_limits_hold_on_the_truth(obsa: Harness, vector_id: str) -> None:
    """The vector replayed around the times its cells come nearest the declared voltage
    limits; at seeded sample times (and those times) each reported limit drawn from the
    truth model for the declared sop_horizon_s: the largest rise above
    sop_charge_voltage_limit_V and fall below sop_discharge_voltage_limit_V, for the current
    (OBSA-SOP-002) and the power limits (OBSA-SOP-003)."""
    if _unjudged_chemistry(obsa, vector_id):
        return
    vector = _vector(vector_id)
    truth: TruthPack = truth_model(vector)
    params = configuration(obsa, SOP, vector)
    horizon = float(params["sop_horizon_s"])
    v_high = float(params["sop_charge_voltage_limit_V"])
    v_low = float(params["sop_discharge_voltage_limit_V"])
    cells = int(obsa.session.dimensions["cell"])
    counts = _counts(vector, cells)
    rng = np.random.default_rng([obsa.seed, 0x50F])
    drawn: dict[str, list[Drawn]] = {k: [] for k in ("ic", "id", "pc", "pd")}
    replays = []
    # the truth model is the truth where it fits the DFN within the criteria's tolerance
    fit_V = min(float(c.value or 0.0) for rid in ("OBSA-SOP-002", "OBSA-SOP-003")
                for c in obsa.spec.requirements[rid].acceptance)
    for start, stop, near in windows(vector, truth, v_high, v_low, fit_V):
        r = replay(obsa, vector, SOP, start_s=start, stop_s=stop)
        # a limit is drawn from the truth at a sample's time (not while a sparse vector's
        # sample is held over the estimator's steps)
        allowed = np.flatnonzero((r.t_s >= start + WARMUP_S - 1e-9) & r.on_sample)
        if allowed.size == 0:
            allowed = np.flatnonzero(r.on_sample)
        picks = set(rng.choice(allowed, size=min(SAMPLES, allowed.size),
                               replace=False).tolist())
        picks.add(int(allowed[np.argmin(np.abs(r.t_s[allowed] - near))]))
        samples = sorted(picks)
        rows = r.rows[samples]
        replays.append((r, start, stop, near, samples))
        _draw(truth, vector, r, samples, rows, counts, horizon, v_high, v_low, fit_V, drawn)

    def worst(key: str) -> float | None:
        scored = [d.excess_V for d in drawn[key] if d.scored]
        return max(scored) if scored else None

    def described(key: str, unit: str) -> str:
        return ", ".join(f"{d.t_s:g} s: {d.limit:.4g} {unit}"
                         + ("" if d.sustained is None else f" (truth {d.sustained:.4g} {unit})")
                         + f" → {d.excess_V * 1000:+.1f} mV"
                         + ("" if d.scored else " (not scored: " + (
                             "beyond at rest)" if d.covered else "SoC beyond the truth's)"))
                         for d in drawn[key])

    for rid, (charge, discharge, unit) in (("OBSA-SOP-002", ("ic", "id", "A")),
                                           ("OBSA-SOP-003", ("pc", "pd", "W"))):
        measured = {"charge_voltage_overshoot_V": worst(charge),
                    "discharge_voltage_undershoot_V": worst(discharge)}
        unscored = [name for name, value in measured.items() if value is None]
        if unscored:
            obsa.inconclusive(rid, f"vector {vector_id}: no sample scored for "
                                   f"{', '.join(unscored)} (the truth beyond the voltage "
                                   f"limit at rest, or its SoC beyond the truth model's)")
            continue
        # the evidence: the replay of the sample that came closest to failing
        scored = [d for d in drawn[charge] + drawn[discharge] if d.scored]
        t_worst = max(scored, key=lambda d: d.excess_V).t_s
        r, start, stop, near, samples = next(
            w for w in replays if w[1] - 1e-9 <= t_worst <= w[2] + 1e-9)
        events = {f"sample {n + 1}": float(r.t_s[i]) for n, i in enumerate(samples)}
        events["nearest a voltage limit"] = near
        windows_said = ", ".join(f"{w[1]:g}–{w[2]:g} s" for w in replays)
        judge_replay(obsa, rid, measured, r,
                     f"replayed {windows_said} (evidence: {start:g}–{stop:g} s); each limit "
                     f"drawn from the truth model for {horizon:g} s at the samples (limit, the "
                     f"largest current the truth sustains within the voltage limits and the "
                     f"safety supervisor's → largest excess over the voltage limit); charge: "
                     f"{described(charge, unit)}; discharge: {described(discharge, unit)}",
                     events)
