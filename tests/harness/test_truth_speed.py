"""The truth model's fast drawing (:mod:`conformance.harness.truth`, vectorised over cells and
steps, the power current by regula falsi) against the model written plainly: one cell at a
time with np.interp, one step at a time, the power current by bisection."""

from __future__ import annotations

import numpy as np
import pytest

from conformance.harness.truth import DT_S, TruthPack, truth_model
from conformance.paths import vectors_dir
from conformance.vectors import Vector, load_vector

VECTOR = "nmc-pack4-wltc-25c"  # four cells that differ
HORIZON_S = 10.0


@pytest.fixture(scope="module")
def vector() -> Vector:
    return load_vector(vectors_dir() / f"{VECTOR}.json")


@pytest.fixture(scope="module")
def pack(vector: Vector) -> TruthPack:
    return truth_model(vector)


def _per_cell(x: np.ndarray, y: np.ndarray, soc: np.ndarray) -> np.ndarray:
    return np.array([np.interp(soc[j], x[j], y[j]) for j in range(soc.size)])


def _ocv(p: TruthPack, soc: np.ndarray) -> np.ndarray:
    return _per_cell(p.ocv_soc, p.ocv_V, soc)


def _rc(p: TruthPack, soc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (np.stack([_per_cell(p.point_soc, p.r[i], soc) for i in range(2)]),
            np.stack([_per_cell(p.point_soc, p.tau[i], soc) for i in range(2)]))


def _at_steps(p: TruthPack, soc: np.ndarray) -> np.ndarray:
    """The instantaneous resistance (cells, step currents) at each cell's SoC."""
    return np.array([[np.interp(soc[j], p.point_soc[j], p.r0[j, :, s])
                      for s in range(p.step_A.size)] for j in range(soc.size)])


def _instant_r(p: TruthPack, soc: np.ndarray, amps: float) -> np.ndarray:
    at_steps = _at_steps(p, soc)
    return np.array([np.interp(amps, p.step_A, at_steps[j]) for j in range(soc.size)])


def _states(p: TruthPack, soc: np.ndarray, u: np.ndarray, current: float, dt: float
            ) -> tuple[np.ndarray, np.ndarray]:
    r, tau = _rc(p, soc)
    a = np.exp(-dt / tau)
    return soc + current * dt / (3600.0 * p.capacity_Ah), a * u + r * (1.0 - a) * current


def _draw_current(p: TruthPack, soc: np.ndarray, u: np.ndarray, amps: float) -> np.ndarray:
    steps = round(HORIZON_S / DT_S)
    out = []
    for n in range(steps + 1):
        out.append(_ocv(p, soc) + _instant_r(p, soc, amps) * amps + u.sum(axis=0))
        if n < steps:
            soc, u = _states(p, soc, u, amps, HORIZON_S / steps)
    return np.array(out)


def _power_current(p: TruthPack, soc: np.ndarray, base: np.ndarray, power: float,
                   sign: float, counts: np.ndarray) -> float:
    at_steps = _at_steps(p, soc)

    def string_power(m: np.ndarray) -> np.ndarray:  # the magnitudes (n,) → the powers (n,)
        volts = np.array([base[j] + np.interp(sign * m, p.step_A, at_steps[j]) * sign * m
                          for j in range(soc.size)])
        return m * (counts @ volts)

    e = float(np.sum(counts * base))
    if power <= 0.0 or e <= 0.0:
        return 0.0
    top = 4.0 * power / e + 1.0
    if sign > 0:
        while string_power(np.array([top]))[0] < power:
            top *= 2.0
    else:
        top = max(top, e / float(np.sum(counts * at_steps[:, 0])))
    grid = np.linspace(0.0, top, 401)
    powers = string_power(grid)
    above = np.flatnonzero(powers >= power)
    if above.size == 0:
        return sign * float(grid[int(np.argmax(powers))])
    lo, hi = float(grid[above[0] - 1]), float(grid[above[0]])
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if string_power(np.array([mid]))[0] < power else (lo, mid)
    return sign * hi


def _draw_power(p: TruthPack, soc: np.ndarray, u: np.ndarray, power: float, sign: float,
                counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    steps = round(HORIZON_S / DT_S)
    volts, amps = [], []
    for n in range(steps + 1):
        base = _ocv(p, soc) + u.sum(axis=0)
        current = _power_current(p, soc, base, power, sign, counts)
        volts.append(base + _instant_r(p, soc, current) * current)
        amps.append(current)
        if n < steps:
            soc, u = _states(p, soc, u, current, HORIZON_S / steps)
    return np.array(volts), np.array(amps)


def _state(pack: TruthPack, vector: Vector, row: int) -> tuple[np.ndarray, np.ndarray]:
    return (vector["cell_soc"][row].astype(float),
            pack.states_along(vector, np.array([row]))[0])


def test_the_model_at_a_soc_is_the_per_cell_interpolation(pack: TruthPack) -> None:
    rng = np.random.default_rng(5)
    for soc in [rng.uniform(-0.1, 1.1, pack.n_cells) for _ in range(20)]:
        assert np.allclose(pack.ocv(soc), _ocv(pack, soc), rtol=0, atol=1e-12)
        for got, want in zip(pack.rc(soc), _rc(pack, soc), strict=True):
            assert np.allclose(got, want, rtol=1e-12, atol=0)
        for amps in (-40.0, -15.0, -3.3, 0.0, 7.0, 10.0, 25.0):
            assert np.allclose(pack.instant_r(soc, amps)[:, 0], _instant_r(pack, soc, amps),
                               rtol=1e-12, atol=0)


def test_the_states_along_the_vector_are_those_of_a_step_by_step_run(
        pack: TruthPack, vector: Vector) -> None:
    rows = np.array([0, 1, 250, 999, 1000])
    t, current, soc = (vector[k].astype(float) for k in ("t_s", "current_A", "cell_soc"))
    u, want = np.zeros((2, pack.n_cells)), []
    for n in range(int(rows.max()) + 1):
        if n > 0:
            r, tau = _rc(pack, 0.5 * (soc[n - 1] + soc[n]))
            a = np.exp(-float(t[n] - t[n - 1]) / tau)
            u = a * u + r * (1.0 - a) * 0.5 * (current[n - 1] + current[n])
        if n in rows:
            want.append(u)
    assert np.allclose(pack.states_along(vector, rows), np.array(want), rtol=0, atol=1e-12)


def test_the_states_along_a_vector_in_pieces_are_those_of_one_run(vector: Vector) -> None:
    """A later call goes on from the furthest sample reached (the SoP case asks once per
    window, in no order of time): the same values, to the bit, as one run from the start."""
    whole = truth_model(vector).states_along(vector, np.arange(1501))
    pieces = truth_model(vector)
    for rows in (np.array([700, 20]), np.array([5, 1500]), np.array([1000, 0, 1200])):
        assert np.array_equal(pieces.states_along(vector, rows), whole[rows])


@pytest.mark.parametrize("amps", [-40.0, -12.0, 0.0, 6.0, 30.0])
def test_a_drawn_current_is_the_step_by_step_run(pack: TruthPack, vector: Vector,
                                                 amps: float) -> None:
    soc, u = _state(pack, vector, 9000)
    assert np.allclose(pack.draw_current(soc, u, amps, HORIZON_S),
                       _draw_current(pack, soc, u, amps), rtol=0, atol=1e-9)


@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize("fraction", [0.0, 0.3, 3.0, 1e3])
def test_a_drawn_power_is_the_bisected_one(pack: TruthPack, vector: Vector, sign: float,
                                           fraction: float) -> None:
    """Within the solvers' tolerance, whether the power is reached or not (1e3: beyond what
    the string gives on discharge)."""
    soc, u = _state(pack, vector, 9000)
    counts = np.array([24.0, 24.0, 24.0, 24.0])
    power = fraction * float(np.sum(counts * (pack.ocv(soc) + u.sum(axis=0))))
    volts, amps = pack.draw_power(soc, u, power, sign, counts, HORIZON_S)
    want_volts, want_amps = _draw_power(pack, soc, u, power, sign, counts)
    assert np.allclose(amps, want_amps, rtol=1e-9, atol=1e-9)
    assert np.allclose(volts, want_volts, rtol=0, atol=1e-9)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_draws_at_once_are_each_the_draw_alone(pack: TruthPack, vector: Vector,
                                               sign: float) -> None:
    """Several draws at once (each from its own state, with its own power: none, reached,
    beyond what the string gives) are, to the bit, each drawn alone."""
    rows = np.array([600, 3000, 9000, 12000, 9000])
    socs = vector["cell_soc"][rows].astype(float)
    states = pack.states_along(vector, rows)
    counts = np.array([24.0, 24.0, 24.0, 24.0])
    e = np.sum(counts * (pack.ocv(socs) + states.sum(axis=1)), axis=1)
    powers = e * np.array([0.3, 0.0, 3.0, 1.2, 1e3])
    volts, amps = pack.draw_powers(socs, states, powers, sign, counts, HORIZON_S)
    for k in range(rows.size):
        alone = pack.draw_power(socs[k], states[k], float(powers[k]), sign, counts, HORIZON_S)
        assert np.array_equal(volts[k], alone[0]) and np.array_equal(amps[k], alone[1])


def test_draws_of_both_directions_at_once_are_each_as_alone(pack: TruthPack, vector: Vector):
    """A sign per draw: charge and discharge draws in one call give, bit for bit, what each
    direction's call gives alone."""
    rows = np.array([40, 400, 900])
    socs = vector["cell_soc"][rows].astype(float)
    states = pack.states_along(vector, rows)
    counts = np.array([3.0, 2.0, 2.0, 2.0])
    charge, discharge = np.array([150.0, 90.0, 40.0]), np.array([300.0, 120.0, 60.0])
    both = pack.draw_powers(np.concatenate([socs, socs]), np.concatenate([states, states]),
                            np.concatenate([charge, discharge]), np.repeat([1.0, -1.0], 3),
                            counts, HORIZON_S)
    alone = [pack.draw_powers(socs, states, p, sign, counts, HORIZON_S)
             for p, sign in ((charge, 1.0), (discharge, -1.0))]
    for k in range(2):
        assert np.array_equal(both[k][:3], alone[0][k])
        assert np.array_equal(both[k][3:], alone[1][k])
