"""The reference balancing against the behaviour of the spec (OBSA-BAL-001..008).

Every requirement has a check (``check_bal00x``) that drives a balancing component through
the boundaries of the requirement — threshold ± a few mV, threshold − hysteresis, rest time
just before and after, minimum voltage, maximum temperature, fault and lockout, invalid cells
(one of them reading lowest) — and raises AssertionError on a wrong command. Each check runs
on the reference for several pack sizes (1, 12, 96 cells) and declared parameter sets, every
reply validated with the suite's compiled output check. The same checks run on deliberately
defective subclasses (``DEFECTS``), which they must catch: a check that passes a wrong
implementation proves nothing.

The first step after a reset comes at a large, odd time (never 0), as the contract allows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from reference_helpers import reply_check

from conformance.spec import load_spec
from reference_impl.component import Block, ConfigurationError
from reference_impl.functions.balancing import Balancing
from reference_impl.interfaces import PARAMETER_DEFAULTS, SafetyState

P: dict[str, float] = {k: float(v) for k, v in PARAMETER_DEFAULTS["balancing"].items()}
MV = 1e-3
V_LOW = 3.5  # the lowest cell, above every declared minimum voltage used here
T0 = 2.0 ** 24 + 0.37  # first step after reset: past 2^24 s, off the step grid

#: Declared parameter sets: the spec defaults (foxBMS 2) and others.
PARAMETER_SETS: dict[str, dict[str, float]] = {
    "defaults": dict(P),
    "libre_solar": {"balancing_threshold_V": 0.01, "balancing_hysteresis_V": 0.005,
                    "balancing_min_cell_voltage_V": 3.0, "balancing_max_temperature_degC": 45.0,
                    "balancing_rest_current_A": 0.1, "balancing_rest_time_s": 1800.0},
    "ennoid": {"balancing_threshold_V": 0.005, "balancing_hysteresis_V": 0.0,
               "balancing_min_cell_voltage_V": 2.5, "balancing_max_temperature_degC": 60.0,
               "balancing_rest_current_A": 1.0, "balancing_rest_time_s": 0.0},
    # binary-exact values: a naive comparison meets the boundaries exactly
    "binary": {"balancing_threshold_V": 0.25, "balancing_hysteresis_V": 0.125,
               "balancing_min_cell_voltage_V": 3.25, "balancing_max_temperature_degC": 50.0,
               "balancing_rest_current_A": 0.5, "balancing_rest_time_s": 2.5},
    "mid": {"balancing_threshold_V": 0.05, "balancing_hysteresis_V": 0.03,
            "balancing_min_cell_voltage_V": 1.0, "balancing_max_temperature_degC": 0.0,
            "balancing_rest_current_A": 10.0, "balancing_rest_time_s": 7200.0},
}
#: (cells, temperature sensors)
SIZES = [(1, 1), (12, 4), (96, 32)]

CASES = [pytest.param(name, n, m, id=f"{name}-{n}cells")
         for name in PARAMETER_SETS for n, m in SIZES]


def validator(n: int, m: int) -> Callable[[Any], Any]:
    return reply_check("balancing", n, m)


class Rig:
    """One balancing component fed a synthetic pack, stepped at t0 + k·dt (k counted, never
    summed); ``skip`` leaves steps out (a longer step interval)."""

    def __init__(self, cls: type[Block], params: dict[str, float], n: int, m: int,
                 *, t0: float = T0, dt: float = 1.0) -> None:
        self.component = cls()
        self.component.configure(params)
        self.p = {**P, **params}
        self.n, self.m = n, m
        self.check = validator(n, m)
        self.t0, self.dt, self.k = t0, dt, 0
        self.voltages = np.full(n, V_LOW)
        self.valid = np.ones(n, dtype=bool)
        # a cold pack when the declared maximum temperature is 0 °C
        self.temperatures = np.full(m, min(25.0, self.p["balancing_max_temperature_degC"] - 5))
        self.temperatures_valid = np.ones(m, dtype=bool)
        self.current = 0.0
        self.state: Any = SafetyState.NORMAL

    @property
    def t(self) -> float:
        return self.t0 + self.k * self.dt

    @property
    def threshold(self) -> float:
        return self.p["balancing_threshold_V"]

    @property
    def stop(self) -> float:
        return self.p["balancing_threshold_V"] - self.p["balancing_hysteresis_V"]

    def step(self) -> np.ndarray:
        reply = self.component.step(self.t, {
            "cell_voltage_V": self.voltages.copy(),
            "cell_voltage_valid": self.valid.copy(),
            "cell_temperature_degC": self.temperatures.copy(),
            "cell_temperature_valid": self.temperatures_valid.copy(),
            "pack_current_A": self.current,
            "safety_state": self.state,
        })
        self.check(reply)  # raises on a reply the schema refuses
        cmd = np.asarray(reply["balancing_cmd"], dtype=bool)
        assert cmd.shape == (self.n,)
        assert reply["balancing_active"] == bool(cmd.any()), "balancing_active != any(cmd)"
        self.k += 1
        return cmd

    def skip(self, seconds: float) -> None:
        self.k += round(seconds / self.dt)

    def settle(self) -> None:
        """Bring the pack to rest: the next step is the first at rest."""
        self.current = 0.0
        assert not self.step().any(), "commanded on the first step below the rest current"
        self.k += max(steps_until(self.p["balancing_rest_time_s"], self.dt) - 1, 0)

    def offsets(self, offsets: Any) -> None:
        self.voltages = V_LOW + np.asarray(offsets, dtype=float)


def steps_until(seconds: float, dt: float) -> int:
    """The number of steps of dt after which at least ``seconds`` have passed."""
    return math.ceil(seconds / dt - 1e-9)


def expect(cmd: np.ndarray, expected: Any, what: str) -> None:
    expected = np.asarray(expected, dtype=bool)
    wrong = np.flatnonzero(cmd != expected)
    assert wrong.size == 0, (f"{what}: cells {wrong.tolist()[:8]} commanded "
                             f"{cmd[wrong].tolist()[:8]}, expected {expected[wrong].tolist()[:8]}")


def none(cmd: np.ndarray, what: str) -> None:
    assert not cmd.any(), f"{what}: cells {np.flatnonzero(cmd).tolist()[:8]} commanded"


def _balancing_rig(cls: type[Block], params: dict[str, float], n: int, m: int,
                   **kw: Any) -> tuple[Rig, int]:
    """A rig at rest with cell 0 (the target) 10 mV above the threshold, commanded; the
    lowest is cell n − 1 (every other cell level with it)."""
    rig = Rig(cls, params, n, m, **kw)
    rig.settle()
    offsets = np.zeros(n)
    if n > 1:
        offsets[0] = rig.threshold + 10 * MV
    rig.offsets(offsets)
    expect(rig.step(), offsets > rig.threshold, "at rest, 10 mV above the threshold")
    return rig, 0


# ============================================================================ the checks
def check_bal001(cls: type[Block], params: dict[str, float], n: int, m: int) -> None:
    """OBSA-BAL-001: at rest, every valid cell more than the threshold above the lowest valid
    cell is commanded, within the step, and no other cell."""
    rig = Rig(cls, params, n, m)
    rig.settle()
    thr = rig.threshold
    if n == 1:
        for offset in (0.0, thr + 3 * MV, 0.4):
            rig.offsets([offset])
            none(rig.step(), "a single cell is its own lowest")
        return
    low = n // 2
    # offsets in 0.1 mV relative to the threshold; None: level with the lowest
    pattern: list[int | None] = [-30, -10, 0, 10, 30, None, -round(thr * 5000), 500]
    rel: list[int | None] = [None] * n
    others = [i for i in range(n) if i != low]
    for j, i in enumerate(others):
        rel[i] = pattern[j % len(pattern)]

    def apply(lowest_shift: float = 0.0) -> None:
        rig.offsets([0.0 if r is None else thr + r * 1e-4 for r in rel])
        rig.voltages[low] -= lowest_shift

    apply()
    on = np.array([r is not None and r > 0 for r in rel])
    expect(rig.step(), on, "threshold ± 3 mV (exactly at it: not above)")
    expect(rig.step(), on, "held")
    # crossing the threshold commands in the very step (start_delay_s <= one step)
    for i in others:
        if rel[i] == -10:
            rel[i] = 10
            on[i] = True
        elif rel[i] == -30:
            rel[i] = -10
    apply()
    expect(rig.step(), on, "-1 mV -> +1 mV commanded at once, -3 mV -> -1 mV not")
    # the lowest cell falls by 2 mV: the differences grow by 2 mV
    apply(lowest_shift=2 * MV)
    on |= np.array([r is not None and r + 20 > 0 for r in rel])
    expect(rig.step(), on, "lowest 2 mV lower")
    assert not rig.step()[low], "the lowest cell commanded"


def check_bal002(cls: type[Block], params: dict[str, float], n: int, m: int) -> None:
    """OBSA-BAL-002: a balanced cell stops once no more than threshold − hysteresis above
    the lowest, and not before."""
    rig, target = _balancing_rig(cls, params, n, m)
    if n == 1:
        none(rig.step(), "a single cell")
        return
    thr, stop, hyst = rig.threshold, rig.stop, rig.p["balancing_hysteresis_V"]
    others = np.arange(n) != target

    def at(offset: float, expected: bool, what: str) -> None:
        rig.voltages[target] = V_LOW + offset
        cmd = rig.step()
        assert bool(cmd[target]) == expected, f"{what}: target commanded {bool(cmd[target])}"
        none(cmd[others], f"{what}: level cells")

    at(thr + 2 * MV, True, "2 mV above the threshold")
    if hyst >= 3 * MV:
        at(thr - 1 * MV, True, "hysteresis: 1 mV below the threshold, still balanced")
    at(stop + 3 * MV, True, "3 mV above threshold - hysteresis, not stopped yet")
    at(stop + 1 * MV, True, "1 mV above threshold - hysteresis, not stopped yet")
    at(stop, False, "exactly threshold - hysteresis: stopped")
    at(stop + 1 * MV, hyst < 1 * MV, "stopped cell 1 mV above the stop level")
    at(thr + 1 * MV, True, "restarted 1 mV above the threshold")
    at(stop - 1 * MV if stop >= 1 * MV else 0.0, False, "below the stop level")
    # the lowest cell rising to threshold - hysteresis below the target stops it too
    at(thr + 4 * MV, True, "restarted")
    rig.voltages[np.flatnonzero(others)] = V_LOW + thr + 4 * MV - stop
    cmd = rig.step()
    assert not cmd[target], "stopped by the lowest cell rising"


def check_bal003(cls: type[Block], params: dict[str, float], n: int, m: int,
                 dt: float = 1.0) -> None:
    """OBSA-BAL-003: no command at or above the rest current, nor before the rest time has
    passed below it, measured from the step in which it fell below (not from t = 0, nor from
    the first step, nor across an interruption)."""
    rig = Rig(cls, params, n, m, dt=dt)
    rest_i, rest_t = rig.p["balancing_rest_current_A"], rig.p["balancing_rest_time_s"]
    offsets = np.zeros(n)
    if n > 1:
        offsets[0] = rig.threshold + 10 * MV
    rig.offsets(offsets)
    want = offsets > rig.threshold
    for current in (rest_i, -rest_i, rest_i + 0.01, -50.0, 120.0, math.nan):
        rig.current = current
        none(rig.step(), f"current {current} A, at or above the rest current")
    rig.skip(100.0)  # long under load before the current falls
    rig.current = -50.0
    none(rig.step(), "under load")

    def rest_from_here(current: float) -> None:
        rig.current = current
        k_fall, t_fall = rig.k, rig.t
        if rest_t == 0.0:
            expect(rig.step(), want, "rest time 0: at rest at once")
            return
        none(rig.step(), "first step below the rest current")
        k_rest = k_fall + steps_until(rest_t, rig.dt)  # the first step at the rest time
        if k_rest - 1 > k_fall:
            rig.k = k_rest - 1
            assert rig.t < t_fall + rest_t
            none(rig.step(), f"{t_fall + rest_t - rig.t + rig.dt:.3g} s before the rest time")
        rig.k = k_rest
        assert rig.t >= t_fall + rest_t - 1e-9
        expect(rig.step(), want, "at the rest time")
        expect(rig.step(), want, "after the rest time")

    rest_from_here(0.5 * rest_i)
    rig.current = rest_i  # one step at the rest current interrupts the rest
    none(rig.step(), "one step at the rest current")
    rest_from_here(-0.5 * rest_i)
    rig.current = -rest_i - 0.001
    none(rig.step(), "discharge just above the rest current")
    rest_from_here(0.0)


def check_bal004(cls: type[Block], params: dict[str, float], n: int, m: int) -> None:
    """OBSA-BAL-004: no command while any cell is below the minimum voltage."""
    rig, target = _balancing_rig(cls, params, n, m)
    want = rig.voltages - V_LOW > rig.threshold
    v_min = rig.p["balancing_min_cell_voltage_V"]
    base = rig.voltages - V_LOW
    for shift_mV, blocked in ((-1.0, True), (-0.1, True), (0.0, False), (1.0, False),
                              (-50.0, True), (3.0, False)):
        rig.voltages = v_min + shift_mV * MV + base  # the lowest cell at v_min + shift
        cmd = rig.step()
        if blocked:
            none(cmd, f"lowest cell {shift_mV} mV below the minimum")
        else:
            expect(cmd, want, f"lowest cell {shift_mV} mV from the minimum")
    if n > 1:  # one cell alone below the minimum, the target far above
        rig.voltages = V_LOW + base
        rig.voltages[-1] = v_min - 1 * MV
        none(rig.step(), "one cell 1 mV below the minimum")


def check_bal005(cls: type[Block], params: dict[str, float], n: int, m: int) -> None:
    """OBSA-BAL-005: no command while any cell temperature is above the maximum; (reference
    choice) nor while a temperature sensor is invalid or reads NaN."""
    rig, _ = _balancing_rig(cls, params, n, m)
    want = rig.voltages - V_LOW > rig.threshold
    t_max = rig.p["balancing_max_temperature_degC"]
    normal = rig.temperatures.copy()
    hot = m - 1
    for reading, valid, blocked in ((t_max + 0.1, True, True), (t_max, True, False),
                                    (t_max - 0.1, True, False), (t_max + 20.0, True, True),
                                    (t_max + 1.0, False, True), (normal[0], False, True),
                                    (math.nan, True, True), (math.inf, True, True)):
        rig.temperatures = normal.copy()
        rig.temperatures[hot] = reading
        rig.temperatures_valid[:] = True
        rig.temperatures_valid[hot] = valid
        cmd = rig.step()
        what = f"sensor {hot} reading {reading} °C ({'valid' if valid else 'invalid'})"
        if blocked:
            none(cmd, what)
        else:
            expect(cmd, want, what)
    rig.temperatures, rig.temperatures_valid[:] = normal.copy(), True
    expect(rig.step(), want, "every sensor back to normal")


def check_bal006(cls: type[Block], params: dict[str, float], n: int, m: int) -> None:
    """OBSA-BAL-006: no command while safety_state is fault or lockout."""
    rig, _ = _balancing_rig(cls, params, n, m)
    want = rig.voltages - V_LOW > rig.threshold
    states: list[tuple[Any, bool]] = [
        (SafetyState.WARNING, False), (SafetyState.FAULT, True), (SafetyState.DERATING, False),
        (SafetyState.LOCKOUT, True), (int(SafetyState.NORMAL), False),
        (np.int64(SafetyState.FAULT), True), (int(SafetyState.LOCKOUT), True),
        (np.int8(SafetyState.DERATING), False)]
    for state, blocked in states:
        rig.state = state
        for _ in range(2):
            cmd = rig.step()
            if blocked:
                none(cmd, f"safety_state {state!r}")
            else:
                expect(cmd, want, f"safety_state {state!r}")


def check_bal007(cls: type[Block], params: dict[str, float], n: int, m: int) -> None:
    """OBSA-BAL-007: an invalid cell (or a non-finite voltage) is never commanded, nor taken
    as the lowest cell."""
    rig = Rig(cls, params, n, m)
    rig.settle()
    thr = rig.threshold
    if n == 1:
        for voltage, valid in ((V_LOW, False), (math.nan, True), (math.inf, True)):
            rig.voltages[0], rig.valid[0] = voltage, valid
            none(rig.step(), f"the only cell at {voltage} V, valid={valid}")
        return
    bad = n // 3  # not the first, not the last
    target = n - 1
    offsets = np.zeros(n)
    offsets[target] = thr + 2 * MV
    rig.offsets(offsets)
    want = offsets > thr
    cases = [  # (voltage, valid flag) of the bad cell; it must change nothing
        (0.0, False),  # open wire reading lowest (and below the minimum voltage)
        (V_LOW - thr - 3 * MV, False),  # lowest by just more than the threshold
        (V_LOW + thr + 0.1, False),  # reading high: not balanced
        (-math.inf, True), (math.nan, True), (math.inf, True),
    ]
    for voltage, valid in cases:
        rig.voltages[bad], rig.valid[bad] = voltage, valid
        cmd = rig.step()
        expect(cmd, want, f"cell {bad} at {voltage} V, valid={valid}")
    # a balanced cell that becomes invalid stops, its reading unchanged
    rig.voltages[bad], rig.valid[bad] = V_LOW + thr + 0.1, True
    expect(rig.step(), want | (np.arange(n) == bad), "cell valid again, 100 mV above")
    rig.valid[bad] = False
    expect(rig.step(), want, "the balanced cell turns invalid")
    # the lowest valid cell decides: the valid lowest invalid, the next one up is the lowest
    rig.voltages[bad], rig.valid[bad] = V_LOW, True
    low = 0
    rig.voltages[low] = V_LOW - thr - 5 * MV
    rig.valid[low] = False
    expect(rig.step(), want, "the lowest cell invalid")
    rig.valid[:] = False
    none(rig.step(), "every cell invalid")


CHECKS = {
    "OBSA-BAL-001": check_bal001, "OBSA-BAL-002": check_bal002, "OBSA-BAL-003": check_bal003,
    "OBSA-BAL-004": check_bal004, "OBSA-BAL-005": check_bal005, "OBSA-BAL-006": check_bal006,
    "OBSA-BAL-007": check_bal007,
}


# ============================================================================ the reference
@pytest.mark.parametrize("requirement", sorted(CHECKS))
@pytest.mark.parametrize(("name", "n", "m"), CASES)
def test_reference_meets(requirement: str, name: str, n: int, m: int) -> None:
    CHECKS[requirement](Balancing, PARAMETER_SETS[name], n, m)


@pytest.mark.parametrize("dt", [0.01, 0.1, 2.5])
@pytest.mark.parametrize("name", ["defaults", "binary", "ennoid"])
def test_rest_time_at_other_step_intervals(name: str, dt: float) -> None:
    """OBSA-BAL-003 on the bench's 10 ms step and slower ones (the rest time is measured on
    the step times, whatever the interval)."""
    check_bal003(Balancing, PARAMETER_SETS[name], 12, 4, dt=dt)


@pytest.mark.parametrize("t0", [0.0, 65.536, 1.0e9 + 0.123])
def test_first_step_at_any_time(t0: float) -> None:
    """The rest time counts from the first step seen below the rest current, wherever the
    run starts (OBSA-BAL-003, contract: time)."""
    rig = Rig(Balancing, PARAMETER_SETS["binary"], 12, 4, t0=t0, dt=0.5)
    rig.offsets(np.r_[0.3, np.zeros(11)])
    for _ in range(5):  # 2 s < 2.5 s
        none(rig.step(), f"{rig.t - t0} s after the first step")
    assert rig.step()[0], "at rest 2.5 s after the first step"


def test_a_block_ends_the_balancing() -> None:
    """Reference choice: a cell whose balancing a block ended starts over from the
    threshold (the hysteresis does not carry it across the block)."""
    for block in ("state", "current"):
        rig, target = _balancing_rig(Balancing, PARAMETER_SETS["binary"], 12, 4)
        rig.voltages[target] = V_LOW + rig.threshold - 10 * MV  # inside the hysteresis band
        assert rig.step()[target], "balanced inside the hysteresis band"
        if block == "state":
            rig.state = SafetyState.FAULT
            none(rig.step(), "fault")
            rig.state = SafetyState.NORMAL
        else:
            rig.current = 1.0
            none(rig.step(), "under load")
            rig.settle()
        none(rig.step(), "after the block, inside the band: not restarted")


def test_reset_restarts_rest_and_hysteresis() -> None:
    rig, target = _balancing_rig(Balancing, PARAMETER_SETS["binary"], 12, 4)
    rig.voltages[target] = V_LOW + rig.threshold - 10 * MV
    assert rig.step()[target]
    rig.component.reset()
    rig.skip(1000.0)
    none(rig.step(), "first step after reset: not at rest yet")
    rig.skip(1.0)
    none(rig.step(), "2 s after the first step after reset: not at rest yet")
    rig.voltages[target] = V_LOW + rig.threshold + 10 * MV
    assert rig.step()[target], "at rest 3 s after the first step after reset"


def test_outputs_are_the_components_own() -> None:
    """The returned command array is a copy: changing it changes nothing in the component."""
    rig, target = _balancing_rig(Balancing, PARAMETER_SETS["binary"], 12, 4)
    comp = rig.component
    out = comp.step(rig.t, {"cell_voltage_V": rig.voltages, "cell_voltage_valid": rig.valid,
                            "cell_temperature_degC": rig.temperatures,
                            "cell_temperature_valid": rig.temperatures_valid,
                            "pack_current_A": 0.0, "safety_state": 0})
    rig.k += 1
    assert set(out) == {"balancing_cmd", "balancing_active"}
    assert out["balancing_cmd"].dtype == np.bool_ and type(out["balancing_active"]) is bool
    out["balancing_cmd"][:] = True
    cmd = rig.step()
    assert cmd[target] and not cmd[1:].any()


def test_lists_as_inputs_and_no_temperature_sensor() -> None:
    """Plain lists are accepted; a pack without temperature sensors is not blocked."""
    comp = Balancing()
    comp.configure({"balancing_rest_time_s": 0.0})
    inputs = {"cell_voltage_V": [3.7, 3.95, 3.8], "cell_voltage_valid": [True, True, True],
              "cell_temperature_degC": [], "cell_temperature_valid": [],
              "pack_current_A": 0.0, "safety_state": 0}
    out = comp.step(12.0, inputs)
    validator(3, 0)(out)
    assert out["balancing_cmd"].tolist() == [False, True, False] and out["balancing_active"]


def test_pack_size_change_restarts_balancing() -> None:
    comp = Balancing()
    comp.configure({"balancing_rest_time_s": 0.0})
    rec = {"cell_temperature_degC": [25.0], "cell_temperature_valid": [True],
           "pack_current_A": 0.0, "safety_state": 0}
    out = comp.step(1.0, {**rec, "cell_voltage_V": [3.5, 3.8], "cell_voltage_valid": [1, 1]})
    assert out["balancing_cmd"].tolist() == [False, True]
    out = comp.step(2.0, {**rec, "cell_voltage_V": [3.5, 3.6, 3.65],
                          "cell_voltage_valid": [1, 1, 1]})
    assert out["balancing_cmd"].tolist() == [False, False, False]


def test_missing_input_is_an_input_error() -> None:
    from reference_impl.component import InputError

    comp = Balancing()
    with pytest.raises(InputError, match="safety_state"):
        comp.step(1.0, {"cell_voltage_V": [3.7], "cell_voltage_valid": [True],
                        "cell_temperature_degC": [25.0], "cell_temperature_valid": [True],
                        "pack_current_A": 0.0})


# ============================================================================ configure
def test_configure_rejects_an_unknown_parameter() -> None:
    with pytest.raises(ConfigurationError, match="unknown parameter.*balancing_treshold_V"):
        Balancing().configure({"balancing_treshold_V": 0.1})


def test_configure_rejects_a_mistyped_parameter() -> None:
    with pytest.raises(ConfigurationError, match="balancing_rest_time_s"):
        Balancing().configure({"balancing_rest_time_s": "600"})


def test_declared_hysteresis_within_the_threshold() -> None:
    """OBSA-BAL-008 (verification: inspection): the interface's rule — the hysteresis 'not
    above balancing_threshold_V' — is what configure enforces, at the boundary."""
    spec = load_spec()
    req = spec.requirements["OBSA-BAL-008"]
    assert req.verification == "inspection"
    hysteresis = next(p for p in spec.interfaces["balancing"].parameters
                      if p.name == "balancing_hysteresis_V")
    assert "not above balancing_threshold_V" in hysteresis.description
    assert P["balancing_hysteresis_V"] <= P["balancing_threshold_V"]
    for thr in (0.005, 0.01, 0.2, 0.5):
        Balancing().configure({"balancing_threshold_V": thr, "balancing_hysteresis_V": thr})
        Balancing().configure({"balancing_threshold_V": thr, "balancing_hysteresis_V": 0.0})
        with pytest.raises(ConfigurationError, match="OBSA-BAL-008"):
            Balancing().configure({"balancing_threshold_V": thr,
                                   "balancing_hysteresis_V": thr + 0.001})
    # the spec default hysteresis (200 mV) with a smaller declared threshold is refused
    with pytest.raises(ConfigurationError, match="balancing_hysteresis_V"):
        Balancing().configure({"balancing_threshold_V": 0.01})
    # equal: a cell is balanced down to the lowest (OBSA-BAL-002 with threshold − hysteresis 0)
    rig, target = _balancing_rig(Balancing, PARAMETER_SETS["defaults"], 12, 4)
    rig.voltages[target] = V_LOW + 1 * MV
    assert rig.step()[target], "1 mV above the lowest, still balanced"
    rig.voltages[target] = V_LOW
    assert not rig.step()[target], "level with the lowest: stopped"


# ============================================================================ the defects
class GreaterOrEqualThreshold(Balancing):
    """Starts at the threshold (>=), not above it."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._thr = p["balancing_threshold_V"]

    def _select(self, difference: np.ndarray, balancing: np.ndarray) -> np.ndarray:
        return (difference >= self._thr) | (balancing & (difference > self._stop_at_V))


class NoHysteresis(Balancing):
    def _select(self, difference: np.ndarray, balancing: np.ndarray) -> np.ndarray:
        return difference > self._start_above_V


class StopsBelowTheStopLevel(Balancing):
    """Continues at exactly threshold − hysteresis (stops only below it)."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._stop = p["balancing_threshold_V"] - p["balancing_hysteresis_V"]

    def _select(self, difference: np.ndarray, balancing: np.ndarray) -> np.ndarray:
        return (difference > self._start_above_V) | (balancing & (difference >= self._stop))


class StopsAtTheLowestAlways(Balancing):
    """Balances every cell down to the lowest, ignoring the declared hysteresis."""

    def _select(self, difference: np.ndarray, balancing: np.ndarray) -> np.ndarray:
        return (difference > self._start_above_V) | (balancing & (difference > 1e-9))


class LowestOverInvalidCells(Balancing):
    @staticmethod
    def _lowest(voltages: np.ndarray, usable: np.ndarray) -> float:
        finite = voltages[np.isfinite(voltages)]
        return float(finite.min())


class IgnoresValidity(Balancing):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        return super()._step(t, {**inputs, "cell_voltage_valid": np.ones(
            len(inputs["cell_voltage_V"]), dtype=bool)})


class BalancesInvalidCells(Balancing):
    """Takes the lowest over the valid cells but also commands an invalid cell above it."""

    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        out = super()._step(t, inputs)
        voltages = np.asarray(inputs["cell_voltage_V"], dtype=float)
        valid = np.asarray(inputs["cell_voltage_valid"], dtype=bool)
        if out["balancing_active"] and valid.any():
            extra = ~valid & (voltages - voltages[valid].min() > self._start_above_V)
            out["balancing_cmd"] = out["balancing_cmd"] | extra
        return out


class RestFromFirstStep(Balancing):
    """Starts the rest timer at the first step after reset, whatever the current."""

    def reset(self) -> None:
        super().reset()
        self._first: float | None = None

    def _at_rest(self, t: float, current_A: float) -> bool:
        self._first = t if self._first is None else self._first
        return abs(current_A) < self._rest_current_A and t - self._first >= self._rest_time_s


class RestFromTimeZero(Balancing):
    """Counts the rest time from t = 0 (a timer that starts at power-on)."""

    def _at_rest(self, t: float, current_A: float) -> bool:
        return abs(current_A) < self._rest_current_A and t >= self._rest_time_s


class RestNotContinuous(Balancing):
    """Remembers when the current first fell below the rest current, across interruptions."""

    def reset(self) -> None:
        super().reset()
        self._since: float | None = None

    def _at_rest(self, t: float, current_A: float) -> bool:
        below = abs(current_A) < self._rest_current_A
        if below and self._since is None:
            self._since = t
        return below and self._since is not None and t - self._since >= self._rest_time_s


class RestAtTheRestCurrent(Balancing):
    def _at_rest(self, t: float, current_A: float) -> bool:
        return self._rest.update(abs(current_A) <= self._rest_current_A, t)


class RestSignedCurrent(Balancing):
    """Takes any discharge current as rest (no magnitude)."""

    def _at_rest(self, t: float, current_A: float) -> bool:
        return self._rest.update(current_A < self._rest_current_A, t)


class RestOneStepEarly(Balancing):
    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup({**p, "balancing_rest_time_s": max(p["balancing_rest_time_s"] - 1.0,
                                                          0.0)})


class NoMinimumVoltage(Balancing):
    def _voltages_permit(self, voltages: np.ndarray, usable: np.ndarray) -> bool:
        return True


class MinimumOnTheHighestCell(Balancing):
    """Blocks only when every cell is below the minimum."""

    def _voltages_permit(self, voltages: np.ndarray, usable: np.ndarray) -> bool:
        return bool((voltages[usable] >= self._min_cell_V).any())


class NoTemperatureLimit(Balancing):
    def _temperatures_permit(self, temperatures: np.ndarray, valid: np.ndarray) -> bool:
        return True


class MeanTemperature(Balancing):
    def _temperatures_permit(self, temperatures: np.ndarray, valid: np.ndarray) -> bool:
        return bool(temperatures.mean() <= self._max_temperature_degC)


class InvalidTemperatureIgnored(Balancing):
    def _temperatures_permit(self, temperatures: np.ndarray, valid: np.ndarray) -> bool:
        return not bool((valid & (temperatures > self._max_temperature_degC)).any())


class LockoutIgnored(Balancing):
    @staticmethod
    def _safety_permits(state: int) -> bool:
        return state != int(SafetyState.FAULT)


class FaultIgnored(Balancing):
    @staticmethod
    def _safety_permits(state: int) -> bool:
        return state != int(SafetyState.LOCKOUT)


class BlocksOnDerating(Balancing):
    @staticmethod
    def _safety_permits(state: int) -> bool:
        return state < int(SafetyState.DERATING)


#: (defect, requirement whose check must catch it, parameter set, cells)
DEFECTS = [
    (GreaterOrEqualThreshold, "OBSA-BAL-001", "binary", 12),
    (GreaterOrEqualThreshold, "OBSA-BAL-001", "defaults", 96),
    (NoHysteresis, "OBSA-BAL-002", "libre_solar", 12),
    (NoHysteresis, "OBSA-BAL-002", "defaults", 96),
    (StopsBelowTheStopLevel, "OBSA-BAL-002", "binary", 12),
    (StopsAtTheLowestAlways, "OBSA-BAL-002", "mid", 12),
    (LowestOverInvalidCells, "OBSA-BAL-007", "defaults", 12),
    (LowestOverInvalidCells, "OBSA-BAL-007", "ennoid", 96),
    (IgnoresValidity, "OBSA-BAL-007", "libre_solar", 12),
    (BalancesInvalidCells, "OBSA-BAL-007", "binary", 96),
    (RestFromFirstStep, "OBSA-BAL-003", "binary", 12),
    (RestFromTimeZero, "OBSA-BAL-003", "defaults", 12),
    (RestNotContinuous, "OBSA-BAL-003", "binary", 12),
    (RestAtTheRestCurrent, "OBSA-BAL-003", "libre_solar", 12),
    (RestSignedCurrent, "OBSA-BAL-003", "mid", 96),
    (RestOneStepEarly, "OBSA-BAL-003", "defaults", 12),
    (NoMinimumVoltage, "OBSA-BAL-004", "defaults", 12),
    (MinimumOnTheHighestCell, "OBSA-BAL-004", "libre_solar", 96),
    (NoTemperatureLimit, "OBSA-BAL-005", "defaults", 12),
    (MeanTemperature, "OBSA-BAL-005", "mid", 96),
    (InvalidTemperatureIgnored, "OBSA-BAL-005", "binary", 12),
    (LockoutIgnored, "OBSA-BAL-006", "defaults", 12),
    (FaultIgnored, "OBSA-BAL-006", "ennoid", 12),
    (BlocksOnDerating, "OBSA-BAL-006", "binary", 96),
]


@pytest.mark.parametrize(
    ("defect", "requirement", "name", "n"),
    [pytest.param(*d, id=f"{d[0].__name__}-{d[1]}-{d[2]}-{d[3]}") for d in DEFECTS])
def test_checks_catch_a_defective_balancing(defect: type[Balancing], requirement: str,
                                            name: str, n: int) -> None:
    m = {1: 1, 12: 4, 96: 32}[n]
    with pytest.raises(AssertionError):
        CHECKS[requirement](defect, PARAMETER_SETS[name], n, m)
