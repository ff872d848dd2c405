"""The reference charge control against OBSA-CHG-001 … 006.

Open-loop checks drive the component with synthetic records; OBSA-CHG-002 and 006 also run a
closed-loop charge: unbalanced cells (different charge, capacity and resistance, one RC pair
each), a cell monitor that samples every 100 ms and rounds to 0.1 mV, and a charger that
follows the requests one step late (the current request, capped so that the pack does not
exceed the voltage request). Every check runs on several pack sizes and declared parameter
sets, at the nominal 0.1 s step and at a fast 10 ms step started late (the time rule); every
reply is validated with the suite's compiled outputs check. The defect subclasses at the end
are plausible wrong implementations that the checks must catch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from reference_helpers import reply_check, unchecked

from conformance.spec import load_spec
from reference_impl.functions.charging import ChargeControl
from reference_impl.interfaces import ChargePhase, ContactorState, SafetyState

COMPONENT = "charge_control"
SPEC = load_spec()
CC, CV = int(ChargePhase.CONSTANT_CURRENT), int(ChargePhase.CONSTANT_VOLTAGE)
IDLE, COMPLETE, INHIBITED = int(ChargePhase.IDLE), int(ChargePhase.COMPLETE), int(
    ChargePhase.INHIBITED)
CLOSED = int(ContactorState.CLOSED)

#: Declared parameter sets (charge_current_max_A and charge_termination_current_A have no
#: default); the Libre Solar charge voltages of NMC, LFP and LTO, and a large pack.
PARAMETER_SETS: dict[str, dict[str, float]] = {
    "nmc": {"charge_current_max_A": 50.0, "charge_termination_current_A": 2.5},
    "lfp": {"charge_voltage_limit_V": 3.55, "charge_current_max_A": 100.0,
            "charge_termination_current_A": 5.0},
    "lto": {"charge_voltage_limit_V": 2.8, "charge_current_max_A": 10.0,
            "charge_termination_current_A": 0.5},
    "large": {"charge_voltage_limit_V": 4.1, "charge_current_max_A": 300.0,
              "charge_termination_current_A": 10.0},
}
#: (cells, temperature sensors)
PACKS = [(1, 1), (12, 4), (96, 32)]
#: (step s, first step time s): the nominal step, and a fast bench step past 2^24 s
CLOCKS = [(0.1, 12.3), (0.01, 2.0**24 + 0.25)]
NOMINAL_STEP_S = 0.1

# every parameter set on every pack at the nominal step; the fast step (ten times the steps
# of a closed loop) on one pack per parameter set, each set on another
CASES = [(name, pack, clock) for k, name in enumerate(PARAMETER_SETS) for pack in PACKS
         for clock in CLOCKS if clock[0] == NOMINAL_STEP_S or pack == PACKS[k % len(PACKS)]]
CASE_IDS = [f"{name}-{pack[0]}c-dt{clock[0]}" for name, pack, clock in CASES]

SHORTFALL_A = 0.1  # OBSA-CHG-005 current_shortfall_A
OVERSHOOT_V = 0.01  # OBSA-CHG-002 cell_overshoot_V


def params_of(name: str) -> dict[str, float]:
    return {"charge_voltage_limit_V": 4.2, **PARAMETER_SETS[name]}


class Bench:
    """One charge control (class ``cls``) stepped on a clock, every reply validated and
    judged against OBSA-CHG-001 and 003 (which hold in every step)."""

    def __init__(self, cls: type[ChargeControl], name: str, pack: tuple[int, int],
                 clock: tuple[float, float]) -> None:
        self.p = params_of(name)
        self.component = cls()
        self.component.configure(PARAMETER_SETS[name])
        self.cells, sensors = pack
        self.dt, self.t0 = clock
        self.check = reply_check(COMPONENT, self.cells, sensors)
        self.k = 0
        self.v_limit = self.p["charge_voltage_limit_V"]
        self.i_max = self.p["charge_current_max_A"]
        self.inputs: dict[str, Any] = {
            "cell_voltage_V": np.full(self.cells, self.v_limit - 0.3),
            "cell_voltage_valid": np.ones(self.cells, dtype=bool),
            "pack_voltage_V": self.cells * (self.v_limit - 0.3),
            "pack_current_A": 0.0,
            "charge_current_limit_A": self.i_max,
            "sop_charge_current_limit_A": self.i_max,
            "safety_state": int(SafetyState.NORMAL),
            "contactor_state": CLOSED,
            "charger_connected": True,
        }

    @property
    def steps_per_nominal(self) -> int:
        return max(1, round(NOMINAL_STEP_S / self.dt))

    def cells_at(self, highest: float, others: float | None = None) -> dict[str, Any]:
        """Cell voltages: the last cell at ``highest``, the others at ``others``."""
        v = np.full(self.cells, self.v_limit - 0.3 if others is None else others)
        v[-1] = highest
        return {"cell_voltage_V": v, "pack_voltage_V": float(v.sum())}

    def step(self, **changes: Any) -> dict[str, Any]:
        self.inputs.update(changes)
        inputs = dict(self.inputs)
        inputs["cell_voltage_V"] = np.array(inputs["cell_voltage_V"], dtype=float)
        inputs["cell_voltage_valid"] = np.array(inputs["cell_voltage_valid"], dtype=bool)
        out = self.component.step(self.t0 + self.k * self.dt, inputs)
        self.check(out)
        self.k += 1
        # OBSA-CHG-001 and 003 hold in every step of every check
        assert out["charge_voltage_request_V"] <= self.cells * self.v_limit, \
            "OBSA-CHG-001: voltage request above n × charge_voltage_limit_V"
        assert out["charge_current_request_A"] <= self.i_max, \
            "OBSA-CHG-003: current request above charge_current_max_A"
        limit = min(inputs["charge_current_limit_A"], inputs["sop_charge_current_limit_A"])
        if np.isnan(inputs["charge_current_limit_A"]) or np.isnan(
                inputs["sop_charge_current_limit_A"]):
            limit = 0.0  # an unknown limit permits nothing
        assert out["charge_current_request_A"] <= limit, \
            "OBSA-CHG-003: current request above a limit of the same step"
        return out

    def run(self, steps: int, **changes: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        self.inputs.update(changes)
        for _ in range(steps):
            out = self.step()
        return out


# -------------------------------------------------------------------- closed-loop plant
@dataclass
class Pack:
    """Unbalanced series cells: linear OCV through the charge limit, ohmic resistance and
    one RC pair each; a cell monitor sampling every 100 ms (0.1 mV resolution)."""

    v_limit: float
    i_max: float
    cells: int
    seed: int = 0
    soc: np.ndarray = field(init=False)
    capacity_As: np.ndarray = field(init=False)
    r_ohm: np.ndarray = field(init=False)
    r1_ohm: np.ndarray = field(init=False)
    tau_s: float = 4.0
    v_rc: np.ndarray = field(init=False)
    measured: np.ndarray = field(init=False)
    last_sample_s: float = -1.0

    def __post_init__(self) -> None:
        rng = np.random.default_rng(self.seed)
        n = self.cells
        ir_drop = rng.uniform(0.03, 0.15)  # at the full current
        # the constant-voltage taper's time constant capacity × R / (dOCV/dSoC) is 45 s, a
        # short charge whose OCV still rises in constant current; the fullest cell starts
        # 1.5 IR drops + 30 mV below the limit, the others up to 60 mV lower
        self.capacity_As = self.i_max * 27.0 / ir_drop * rng.uniform(0.9, 1.1, n)
        fullest = (0.5 - 1.5 * ir_drop - 0.03) / 0.6
        self.soc = fullest - rng.uniform(0.0, 0.1, n)
        self.soc[rng.integers(n)] = fullest
        self.r_ohm = ir_drop / self.i_max * rng.uniform(0.8, 1.2, n)
        self.r1_ohm = 0.5 * self.r_ohm
        self.v_rc = np.zeros(n)
        self.measured = self.ocv()

    def ocv(self) -> np.ndarray:
        # reaches the charge limit at SoC 0.83 and stays above it at full
        return self.v_limit - 0.5 + 0.6 * self.soc

    def terminal(self, current_A: float) -> np.ndarray:
        return self.ocv() + self.v_rc + self.r_ohm * current_A

    def advance(self, current_A: float, dt: float, t: float) -> None:
        self.soc = self.soc + current_A * dt / self.capacity_As
        decay = np.exp(-dt / self.tau_s)
        self.v_rc = self.v_rc * decay + self.r1_ohm * current_A * (1.0 - decay)
        if t - self.last_sample_s >= 0.1 - 1e-9:
            self.measured = np.round(self.terminal(current_A), 4)
            self.last_sample_s = t


@dataclass
class ChargeRun:
    """The result of a closed-loop charge."""

    outs: list[dict[str, Any]]
    currents: list[float]
    overshoot_V: float
    completed_at: int | None


def closed_loop_charge(cls: type[ChargeControl], name: str, pack: tuple[int, int],
                       clock: tuple[float, float], seconds: float = 400.0,
                       interruption: tuple[float, float] | None = None) -> ChargeRun:
    """Charge an unbalanced pack with a charger that follows the requests one step late;
    ``interruption``: (from, to) s in which the HV path reads open."""
    b = Bench(cls, name, pack, clock)
    plant = Pack(b.v_limit, b.i_max, b.cells, seed=pack[0])
    current_A, overshoot = 0.0, -np.inf
    outs: list[dict[str, Any]] = []
    currents: list[float] = []
    completed_at = None
    request_A, request_V = 0.0, 0.0
    for k in range(round(seconds / b.dt)):
        t = b.t0 + k * b.dt
        # the charger: the last request, no more than the voltage request allows
        base = float((plant.ocv() + plant.v_rc).sum())
        headroom_A = max(0.0, (request_V - base) / float(plant.r_ohm.sum()))
        current_A = min(request_A, headroom_A)
        plant.advance(current_A, b.dt, t)
        overshoot = max(overshoot, float(plant.terminal(current_A).max()) - b.v_limit)
        v = plant.measured
        state = CLOSED
        if interruption and interruption[0] <= k * b.dt < interruption[1]:
            state = int(ContactorState.OPENING)
        out = b.step(cell_voltage_V=v, pack_voltage_V=float(v.sum()),
                     pack_current_A=round(current_A, 1), contactor_state=state)
        outs.append(out)
        currents.append(round(current_A, 1))
        request_A, request_V = out["charge_current_request_A"], out["charge_voltage_request_V"]
        if out["charge_phase"] == COMPLETE and completed_at is None:
            completed_at = k
        if completed_at is not None and k >= completed_at + round(5.0 / b.dt):
            break  # five seconds after completion tell whether anything is requested
    return ChargeRun(outs, currents, overshoot, completed_at)


# ------------------------------------------------------------------------------- checks
def check_voltage_request(cls: type[ChargeControl], name: str, pack: tuple[int, int],
                          clock: tuple[float, float]) -> None:
    """OBSA-CHG-001: never above n × charge_voltage_limit_V (judged in Bench.step), also with
    cells above the limit and a pack voltage far above n × limit."""
    b = Bench(cls, name, pack, clock)
    rng = np.random.default_rng(1)
    highest = 0.0
    for _ in range(300):
        v = rng.uniform(b.v_limit - 0.5, b.v_limit + 0.2, b.cells)
        out = b.step(cell_voltage_V=v, pack_voltage_V=float(v.sum()) + rng.uniform(-5, 50),
                     pack_current_A=float(rng.uniform(0, b.i_max)))
        highest = max(highest, out["charge_voltage_request_V"])
    assert highest > 0.0, "charging was never requested"
    run = closed_loop_charge(cls, name, pack, clock, seconds=60.0)
    assert max(o["charge_voltage_request_V"] for o in run.outs) <= b.cells * b.v_limit


def check_no_cell_above_limit(cls: type[ChargeControl], name: str, pack: tuple[int, int],
                              clock: tuple[float, float]) -> None:
    """OBSA-CHG-002: in closed loop, no true cell above the limit by more than 0.01 V — also
    after an interruption of the charge in constant voltage."""
    run = closed_loop_charge(cls, name, pack, clock)
    assert run.overshoot_V <= OVERSHOOT_V, f"a cell {run.overshoot_V * 1e3:.1f} mV above"
    assert any(o["charge_phase"] == CV for o in run.outs), "constant voltage never reached"
    assert run.completed_at is not None, "the charge never completed"
    run = closed_loop_charge(cls, name, pack, clock, interruption=(40.0, 50.0))
    assert run.overshoot_V <= OVERSHOOT_V, \
        f"after an interruption a cell {run.overshoot_V * 1e3:.1f} mV above"


def check_current_limits(cls: type[ChargeControl], name: str, pack: tuple[int, int],
                         clock: tuple[float, float]) -> None:
    """OBSA-CHG-003: never above charge_current_max_A nor either limit of the same step
    (judged in Bench.step), in constant current and voltage, with the limits changing."""
    b = Bench(cls, name, pack, clock)
    rng = np.random.default_rng(3)
    phases = set()
    for k in range(600):
        limit = float(rng.choice([0.0, rng.uniform(0, 2 * b.i_max), 2000.0]))
        sop = float(rng.choice([0.0, rng.uniform(0, 2 * b.i_max), 2000.0]))
        highest = b.v_limit - 0.05 if k < 200 else b.v_limit + float(rng.uniform(-0.02, 0.01))
        out = b.step(**b.cells_at(highest), charge_current_limit_A=max(limit, 0.1),
                     sop_charge_current_limit_A=sop, pack_current_A=b.i_max)
        phases.add(out["charge_phase"])
    assert {CC, CV} <= phases
    # the smallest of the three, whichever it is
    for limit, sop in ((b.i_max * 2, b.i_max * 3), (b.i_max / 2, b.i_max), (b.i_max, 1.0)):
        b2 = Bench(cls, name, pack, clock)
        out = b2.step(charge_current_limit_A=limit, sop_charge_current_limit_A=sop)
        assert out["charge_current_request_A"] == pytest.approx(min(b.i_max, limit, sop))


def check_not_permitted(cls: type[ChargeControl], name: str, pack: tuple[int, int],
                        clock: tuple[float, float]) -> None:
    """OBSA-CHG-004: zero current and inhibited / idle in the very step in which charging is
    not permitted (acceptance: within one step), for every condition, in CC and CV."""
    conditions: list[tuple[dict[str, Any], int]] = [
        ({"charger_connected": False}, IDLE),
        ({"contactor_state": int(ContactorState.OPEN)}, INHIBITED),
        ({"contactor_state": int(ContactorState.PRECHARGING)}, INHIBITED),
        ({"contactor_state": int(ContactorState.OPENING)}, INHIBITED),
        ({"contactor_state": int(ContactorState.ERROR)}, INHIBITED),
        ({"safety_state": int(SafetyState.FAULT)}, INHIBITED),
        ({"safety_state": int(SafetyState.LOCKOUT)}, INHIBITED),
        ({"charge_current_limit_A": 0.0}, INHIBITED),
        ({"charger_connected": False, "safety_state": int(SafetyState.FAULT)}, IDLE),
    ]
    for highest in ("cc", "cv"):
        for change, phase in conditions:
            b = Bench(cls, name, pack, clock)
            v = b.v_limit - 0.1 if highest == "cc" else b.v_limit + 0.005
            out = b.run(3 * b.steps_per_nominal, **b.cells_at(v), pack_current_A=b.i_max / 2)
            assert out["charge_current_request_A"] > 0.0
            restore = {key: b.inputs[key] for key in change}
            outs = [b.step(**change)] + [b.step() for _ in range(2 * b.steps_per_nominal)]
            for o in outs:
                assert o["charge_current_request_A"] == 0.0, (change, o)
                assert o["charge_phase"] == phase, (change, o)
            if highest == "cv":  # below the limit again, so that the taper ramps up
                restore.update(b.cells_at(b.v_limit - 0.01))
            back = b.run(5 * b.steps_per_nominal, **restore)
            assert back["charge_phase"] in (CC, CV) and back["charge_current_request_A"] > 0.0
    # permitted in warning and derating, at the derated limit
    b = Bench(cls, name, pack, clock)
    for state in (SafetyState.WARNING, SafetyState.DERATING):
        out = b.step(safety_state=int(state), charge_current_limit_A=b.i_max / 4)
        assert out["charge_phase"] == CC
        assert out["charge_current_request_A"] == pytest.approx(b.i_max / 4)


def check_constant_current(cls: type[ChargeControl], name: str, pack: tuple[int, int],
                           clock: tuple[float, float]) -> None:
    """OBSA-CHG-005: every cell below the limit → the smallest limit, constant current; a
    cell reaching the limit ends it."""
    b = Bench(cls, name, pack, clock)
    rng = np.random.default_rng(5)
    for k in range(300):
        limit = float(rng.uniform(0.1, 2 * b.i_max))
        sop = float(rng.uniform(0.0, 2 * b.i_max))
        highest = b.v_limit - float(rng.choice([0.5, 0.05, 0.001, 0.0001]))
        out = b.step(**b.cells_at(highest, others=highest - 0.02 * (k % 3)),
                     charge_current_limit_A=limit, sop_charge_current_limit_A=sop,
                     pack_current_A=float(rng.uniform(0, b.i_max)))
        smallest = min(b.i_max, limit, sop)
        assert out["charge_phase"] == CC, out
        assert smallest - out["charge_current_request_A"] <= SHORTFALL_A, (smallest, out)
    # the boundary: reaching the limit (>=) is constant voltage, from the same step
    out = b.step(**b.cells_at(b.v_limit - 0.0001), charge_current_limit_A=b.i_max,
                 sop_charge_current_limit_A=b.i_max)
    assert out["charge_phase"] == CC
    out = b.step(**b.cells_at(b.v_limit))
    assert out["charge_phase"] == CV
    assert out["charge_current_request_A"] <= b.i_max
    # an invalid cell inhibits (nothing vouches that it is below the limit)
    valid = np.ones(b.cells, dtype=bool)
    valid[0] = False
    b2 = Bench(cls, name, pack, clock)
    out = b2.step(cell_voltage_valid=valid)
    assert out["charge_phase"] == INHIBITED and out["charge_current_request_A"] == 0.0
    # in the closed loop, constant current is the full current until the limit is reached
    run = closed_loop_charge(cls, name, pack, clock, seconds=30.0)
    for o in run.outs[1:]:
        if o["charge_phase"] == CC:
            assert b.i_max - o["charge_current_request_A"] <= SHORTFALL_A


def check_termination(cls: type[ChargeControl], name: str, pack: tuple[int, int],
                      clock: tuple[float, float]) -> None:
    """OBSA-CHG-006: complete once the measured current falls below the termination
    current in constant voltage; zero requests until the charger is reconnected."""
    b = Bench(cls, name, pack, clock)
    term = b.p["charge_termination_current_A"]
    b.run(b.steps_per_nominal, **b.cells_at(b.v_limit - 0.01), pack_current_A=b.i_max)
    # below the termination current in constant current: no completion
    assert b.step(pack_current_A=term / 2)["charge_phase"] == CC
    assert b.step(**b.cells_at(b.v_limit), pack_current_A=b.i_max)["charge_phase"] == CV
    for current in (b.i_max / 2, term + 0.1, term):  # at the termination current: not below
        out = b.run(b.steps_per_nominal, pack_current_A=current)
        assert out["charge_phase"] == CV, (current, out)
    out = b.step(pack_current_A=term - 0.1)
    assert out["charge_phase"] == COMPLETE and out["charge_current_request_A"] == 0.0
    assert out["charge_voltage_request_V"] == 0.0
    # complete holds whatever follows while the charger stays connected
    for change in ({"cell_voltage_V": np.full(b.cells, b.v_limit - 0.3)},
                   {"pack_current_A": 0.0}, {"contactor_state": int(ContactorState.OPEN)},
                   {"contactor_state": CLOSED}, {"safety_state": int(SafetyState.FAULT)},
                   {"safety_state": int(SafetyState.NORMAL)}):
        outs = [b.step(**change) for _ in range(b.steps_per_nominal * 3)]
        assert all(o["charge_current_request_A"] == 0.0 for o in outs), change
        assert outs[-1]["charge_phase"] in (COMPLETE, INHIBITED), change
    assert b.step()["charge_phase"] == COMPLETE
    # reconnection starts a new charge
    assert b.step(charger_connected=False)["charge_phase"] == IDLE
    out = b.step(charger_connected=True)
    assert out["charge_phase"] == CC and out["charge_current_request_A"] == pytest.approx(
        b.i_max)
    # closed loop: the measured current at completion is at most the termination current,
    # and nothing is requested after it
    run = closed_loop_charge(cls, name, pack, clock)
    assert run.completed_at is not None, "the charge never completed"
    assert run.currents[run.completed_at] <= term
    after = run.outs[run.completed_at:]
    assert all(o["charge_current_request_A"] == 0.0 and o["charge_phase"] == COMPLETE
               for o in after)


CHECKS: dict[str, Callable[..., None]] = {
    "OBSA-CHG-001": check_voltage_request,
    "OBSA-CHG-002": check_no_cell_above_limit,
    "OBSA-CHG-003": check_current_limits,
    "OBSA-CHG-004": check_not_permitted,
    "OBSA-CHG-005": check_constant_current,
    "OBSA-CHG-006": check_termination,
}


@pytest.mark.parametrize("requirement", list(CHECKS))
@pytest.mark.parametrize(("name", "pack", "clock"), CASES, ids=CASE_IDS)
def test_reference_meets(requirement: str, name: str, pack: tuple[int, int],
                         clock: tuple[float, float]) -> None:
    CHECKS[requirement](ChargeControl, name, pack, clock)


def test_every_tested_requirement_has_a_check() -> None:
    assert not unchecked(COMPONENT, CHECKS)


def test_reset_starts_a_new_charge() -> None:
    b = Bench(ChargeControl, "nmc", (12, 4), (0.1, 0.0))
    b.step(**b.cells_at(4.2), pack_current_A=50.0)
    assert b.step(pack_current_A=1.0)["charge_phase"] == COMPLETE
    b.component.reset()
    assert b.step(**b.cells_at(4.0))["charge_phase"] == CC


def test_nan_inputs_do_not_crash_or_charge_blind() -> None:
    b = Bench(ChargeControl, "lfp", (12, 4), (0.1, 0.0))
    v = np.full(12, 3.3)
    v[4] = np.nan
    assert b.step(cell_voltage_V=v)["charge_current_request_A"] == 0.0
    out = b.step(cell_voltage_V=np.full(12, 3.3), sop_charge_current_limit_A=float("nan"))
    assert out["charge_current_request_A"] == 0.0
    out = b.step(sop_charge_current_limit_A=10.0, charge_current_limit_A=float("nan"))
    assert out["charge_current_request_A"] == 0.0
    out = b.step(charge_current_limit_A=20.0, pack_current_A=float("nan"))
    assert out["charge_current_request_A"] == 10.0 and out["charge_phase"] == CC


# ------------------------------------------------------------------------------ defects
class NeverConstantVoltage(ChargeControl):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        self._cv = False
        return super()._step(t, {**inputs, "cell_voltage_V": np.minimum(
            np.asarray(inputs["cell_voltage_V"], dtype=float), self._v_limit - 1e-3)})


class CvStepsDownOnce(ChargeControl):
    """Drops to half the current in constant voltage and holds it (no taper)."""

    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        out = super()._step(t, inputs)
        if out["charge_phase"] == CV:
            limit = min(self._i_max, inputs["charge_current_limit_A"],
                        inputs["sop_charge_current_limit_A"])
            out["charge_current_request_A"] = max(0.0, limit / 2)
        return out


class IgnoresSop(ChargeControl):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        return super()._step(t, {**inputs, "sop_charge_current_limit_A": 2000.0})


class IgnoresChargeLimit(ChargeControl):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        limit = inputs["charge_current_limit_A"]
        return super()._step(t, {**inputs, "charge_current_limit_A": 2000.0 if limit > 0
                                 else limit})


class IgnoresCurrentMax(ChargeControl):
    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._i_max = 2000.0


class VoltageMargin(ChargeControl):
    """Asks for 1 % more than n × limit (a 'headroom' for cable drop)."""

    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        out = super()._step(t, inputs)
        out["charge_voltage_request_V"] *= 1.01
        return out


class ChargesInFault(ChargeControl):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        return super()._step(t, {**inputs, "safety_state": int(SafetyState.NORMAL)})


class ChargesWhilePrecharging(ChargeControl):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        state = inputs["contactor_state"]
        if state == int(ContactorState.PRECHARGING):
            state = CLOSED
        return super()._step(t, {**inputs, "contactor_state": state})


class InhibitsTwoStepsLate(ChargeControl):
    """Follows the permission only 0.2 s (two nominal steps) late."""

    def reset(self) -> None:
        super().reset()
        self._history: list[tuple[float, dict[str, Any]]] = []

    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        self._history.append((t, dict(inputs)))
        while len(self._history) > 1 and t - self._history[1][0] >= 0.2 - 1e-9:
            self._history.pop(0)
        return super()._step(t, self._history[0][1])


class CcShortfall(ChargeControl):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        out = super()._step(t, inputs)
        if out["charge_phase"] == CC:
            out["charge_current_request_A"] *= 0.95
        return out


class CvStrictlyAbove(ChargeControl):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        v = np.asarray(inputs["cell_voltage_V"], dtype=float)
        if not self._cv:
            v = np.where(v == self._v_limit, self._v_limit - 1e-6, v)
        return super()._step(t, {**inputs, "cell_voltage_V": v})


class CompletionNotLatched(ChargeControl):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        self._complete = False
        return super()._step(t, inputs)


class TerminatesAtTheCurrent(ChargeControl):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        current = float(inputs["pack_current_A"])
        if current == self._i_term:
            current -= 1e-6
        return super()._step(t, {**inputs, "pack_current_A": current})


class TerminatesInConstantCurrent(ChargeControl):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        out = super()._step(t, inputs)
        if out["charge_phase"] == CC and float(inputs["pack_current_A"]) < self._i_term:
            self._complete = True
            return self._stopped(COMPLETE)
        return out


class NoReconnectionRestart(ChargeControl):
    def _step(self, t: float, inputs: Any) -> dict[str, Any]:
        complete = self._complete
        out = super()._step(t, inputs)
        self._complete = complete or self._complete
        return out


DEFECTS = [
    (NeverConstantVoltage, "OBSA-CHG-002"),
    (NeverConstantVoltage, "OBSA-CHG-006"),
    (CvStepsDownOnce, "OBSA-CHG-002"),
    (IgnoresSop, "OBSA-CHG-003"),
    (IgnoresChargeLimit, "OBSA-CHG-003"),
    (IgnoresCurrentMax, "OBSA-CHG-003"),
    (VoltageMargin, "OBSA-CHG-001"),
    (ChargesInFault, "OBSA-CHG-004"),
    (ChargesWhilePrecharging, "OBSA-CHG-004"),
    (InhibitsTwoStepsLate, "OBSA-CHG-004"),
    (CcShortfall, "OBSA-CHG-005"),
    (CvStrictlyAbove, "OBSA-CHG-005"),
    (CompletionNotLatched, "OBSA-CHG-006"),
    (TerminatesAtTheCurrent, "OBSA-CHG-006"),
    (TerminatesInConstantCurrent, "OBSA-CHG-006"),
    (NoReconnectionRestart, "OBSA-CHG-006"),
]


@pytest.mark.parametrize(("defect", "requirement"), DEFECTS,
                         ids=[f"{d.__name__}-{r}" for d, r in DEFECTS])
def test_defect_is_caught(defect: type[ChargeControl], requirement: str) -> None:
    caught = 0
    for name, pack, clock in CASES:
        try:
            CHECKS[requirement](defect, name, pack, clock)
        except AssertionError:
            caught += 1
            break
    assert caught, f"{defect.__name__} passes every {requirement} case"
