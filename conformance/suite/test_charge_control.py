"""Conformance test cases of the charge control (area CHG, component charge_control).

The charge control runs alone in closed loop with the bench's CC-CV charger
(:mod:`conformance.bench.charger`), which follows its requests with a lag of one step
period, and the pack it charges. Its other inputs — the safety supervisor's charge current
limit and state, the SoP limit, the contactor state — are set by the test case, so that
every input the requirement names is stimulated on purpose (each limit the smallest in turn,
every state that forbids charging) and no other component's behaviour decides the verdict;
the HV path is closed by commanding the bench's contactors directly. The bench steps at the
charge control's step period.

A whole charge starts from a seeded state of charge, a few tens of millivolts of open-circuit
voltage below the declared limit, with the cells spread below the fullest one; the fullest is
the first, the last or a seeded cell.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from conformance.bench import CHEMISTRIES, Chemistry
from conformance.bench.charger import Charger
from conformance.harness.context import Harness, Stimulus
from conformance.harness.loop import ClosedLoop, TraceChannel
from conformance.suite import steps as S

CHG = "charge_control"
req = pytest.mark.requirement

#: open-circuit voltage of the fullest cell below the limit at the start of a charge (V):
#: drawn from the seed in this span
START_MARGIN_V = (0.02, 0.05)
#: state of charge by which the other cells sit below the fullest one, at most
CELL_SPREAD = 0.05
#: seconds the charger stays connected after the charge is complete (OBSA-CHG-006)
HOLD_AFTER_COMPLETE_S = 5.0
#: limit segments of the constant-current scenario, each held this long (s)
LIMIT_SEGMENTS = 8
SEGMENT_S = 1.0
#: seconds each condition that forbids charging is held, drawn in this span (OBSA-CHG-004)
FORBIDDEN_S = (1.0, 2.0)
#: time allowed for the constant-voltage phase of a charge, and for a whole charge at most (s)
TAPER_S = 300.0
MAX_CHARGE_S = 3600.0
#: the charger's lag, in step periods of the charge control
CHARGER_LAG_STEPS = 1.0

#: besides the standard channels and the requests and SoP limit the always-on monitors record
CHANNELS = [
    TraceChannel("charge_phase", "1", "charge_phase"),
    TraceChannel("charger_connected", "1", "charger_connected"),
    TraceChannel("true_cell_voltage_max_V", "V", "true_cell_voltage_V", "max"),
]


# ----------------------------------------------------------------------------- set-up
def _v_limit(h: Harness) -> float:
    return float(h.param(CHG, "charge_voltage_limit_V"))


def _i_max(h: Harness) -> float:
    return float(h.param(CHG, "charge_current_max_A"))


def _chemistry(loop: ClosedLoop) -> Chemistry:
    return CHEMISTRIES[loop.bench.config.chemistry]


def soc_at(chemistry: Chemistry, ocv_V: float) -> float:
    """The state of charge at which the bench's cell has ``ocv_V`` (its OCV table inverted)."""
    return float(np.interp(ocv_V, chemistry.ocv_knots_V, chemistry.soc_knots))


@dataclass
class Charge:
    """A closed loop of the charge control with the bench's charger, permitted to charge."""

    h: Harness
    loop: ClosedLoop
    charger: Charger
    n: int
    #: called before each step after the charger (scenario controls)
    scenario: list[Callable[[ClosedLoop], None]] = field(default_factory=list)

    def every(self, loop: ClosedLoop) -> None:
        for control in self.scenario:
            control(loop)
        self.charger.drive(loop)
        loop.pool["true_cell_voltage_V"] = loop.bench.truth()["true_cell_voltage_V"]

    def run(self, seconds: float, until: Callable[[Mapping[str, Any]], bool] | None = None
            ) -> float | None:
        return self.loop.run(seconds, until=until, every=self.every)


def start(h: Harness, ample_A: float | None = None) -> Charge:
    """A fresh loop: HV path closed, safety state normal, both limits ``ample_A`` (above the
    declared maximum by default), a charger connected whose rating is above every request
    the module may make and above n × the declared limit."""
    period = h.step_period(CHG)
    loop = h.run(components=[CHG], channels=CHANNELS, dt_s=period)
    n = int(h.session.dimensions["cell"])
    ample = 2.0 * _i_max(h) + 1.0 if ample_A is None else ample_A
    for cmd in ("main_negative_close_cmd", "main_positive_close_cmd"):
        loop.set(cmd, True)
    loop.set("contactor_state", h.enum("contactor_state", "closed"))
    loop.set("safety_state", h.enum("safety_state", "normal"))
    loop.set("charge_current_limit_A", ample)
    loop.set("sop_charge_current_limit_A", ample)
    charger = Charger(current_max_A=max(2.0 * ample, 1.0),
                      voltage_max_V=1.2 * n * _v_limit(h) + 1.0,
                      lag_s=CHARGER_LAG_STEPS * period)
    return Charge(h, loop, charger, n)


def _reachable(h: Harness, loop: ClosedLoop) -> str | None:
    """Why a charge of the declared pack can never reach the declared limit, if it cannot."""
    chem = _chemistry(loop)
    full_V = float(chem.ocv_knots_V[-1])  # the table's end, beyond the rated window
    if _v_limit(h) - START_MARGIN_V[1] - resistive_drop_V(h, loop) < float(chem.ocv_V(0.0)):
        return (f"the declared charge_voltage_limit_V {_v_limit(h):g} V is below the bench's "
                f"{chem.name} cell at empty plus the start margin and its resistive drop at "
                f"charge_current_max_A")
    if _v_limit(h) >= full_V:
        return (f"the bench's {chem.name} cell reaches only {full_V:.3f} V even overcharged, "
                f"not the declared charge_voltage_limit_V {_v_limit(h):g} V: no constant-"
                f"voltage phase to judge")
    return None


def resistive_drop_V(h: Harness, loop: ClosedLoop) -> float:
    """The largest steady voltage rise of a bench cell at the declared charge current (its
    R0 and RC pair): a charge starts this much lower, so that the constant-current phase
    that OBSA-CHG-005 asks for can end at the limit without a cell already above it."""
    cells = loop.bench.cells
    factor = float(np.max(cells.resistance_factor)) if len(cells.resistance_factor) else 1.0
    return (float(cells.r0_ohm) + float(cells.r1_ohm)) * factor * _i_max(h)


def set_charge_start(c: Charge, fullest: int, purpose: str) -> str:
    """The fullest cell a seeded margin (plus the resistive drop at the declared current)
    below the limit, the others spread below it."""
    rng = S.seeded_rng(c.h, purpose)
    chem = _chemistry(c.loop)
    margin = float(rng.uniform(*START_MARGIN_V))
    drop = resistive_drop_V(c.h, c.loop)
    soc_hi = soc_at(chem, _v_limit(c.h) - margin - drop)
    socs = np.clip(soc_hi - rng.uniform(0.0, CELL_SPREAD, c.n), 0.0, 1.0)
    socs[fullest] = soc_hi
    for i in range(c.n):
        c.loop.bench.set_cell_soc(float(socs[i]), i)
    return (f"cell {fullest + 1} of {c.n} fullest at SoC {soc_hi:.4f} (OCV {margin * 1e3:.1f} mV "
            f"+ its resistive drop {drop * 1e3:.1f} mV below the limit), the others up to "
            f"{CELL_SPREAD:g} below")


def charge_bound_s(h: Harness, loop: ClosedLoop) -> float:
    """Longest a charge from the start state may take: twice the time the declared current
    takes to bring the emptiest possible start to the limit's open-circuit voltage, plus
    TAPER_S for the constant-voltage phase (a charge that has not ended by then never ends;
    the reference ends in about a tenth of it)."""
    chem = _chemistry(loop)
    v_limit = _v_limit(h)
    lowest_V = v_limit - START_MARGIN_V[1] - resistive_drop_V(h, loop)
    soc_span = soc_at(chem, v_limit) - soc_at(chem, lowest_V) + CELL_SPREAD
    capacity_As = float(loop.bench.config.capacity_Ah) * 3600.0
    cc_s = 2.0 * soc_span * capacity_As / max(_i_max(h), 1e-3)
    return min(cc_s + TAPER_S, MAX_CHARGE_S)


def _phase(h: Harness, name: str) -> int:
    return h.enum("charge_phase", name)


def full_charge(h: Harness, fullest: int, purpose: str) -> tuple[Charge, str, float | None]:
    """A whole charge from the seeded start, until the phase is complete (or the bound)."""
    c = start(h)
    why = _reachable(h, c.loop)
    if why is not None:
        raise _NotApplicable(why)
    text = set_charge_start(c, fullest, purpose)
    complete = _phase(h, "complete")
    t_done = c.run(charge_bound_s(h, c.loop), until=lambda p: int(p["charge_phase"]) == complete)
    return c, text, t_done


class _NotApplicable(Exception):
    """The declaration leaves nothing for the test case to test."""


def _voltage_excess(h: Harness, loop: ClosedLoop, n: int) -> tuple[float, float]:
    v = S.channel(loop, "charge_voltage_request_V")
    excess = v - n * _v_limit(h)
    if not len(excess):
        return -math.inf, math.nan
    k = int(np.argmax(np.where(np.isnan(excess), np.inf, excess)))
    return float(excess[k]) if math.isfinite(excess[k]) else math.inf, float(loop.t_s[k])


# ----------------------------------------------------------------------------- the limits scenario
def limit_segments(h: Harness) -> list[tuple[float, float]]:
    """(charge_current_limit_A, sop_charge_current_limit_A) of each segment: the declared
    maximum the smallest, each limit the smallest in turn, both below, both above the
    maximum; the values drawn from the seed."""
    rng = S.seeded_rng(h, "charge limits")
    i_max = _i_max(h)
    ample = 2.0 * i_max + 1.0
    out: list[tuple[float, float]] = []
    for k in range(LIMIT_SEGMENTS):
        a, b = (float(x) for x in rng.uniform(0.1, 0.9, 2) * max(i_max, 0.1))
        kind = k % 4
        out.append([(ample, ample), (a, ample), (ample, b), (a, b)][kind])
    out[-1] = (float(rng.uniform(1.1, 1.5)) * i_max + 0.1, float(rng.uniform(1.1, 1.5)) * i_max
               + 0.1)
    return out


def limits_scenario(h: Harness) -> tuple[Charge, str]:
    """Constant current in the middle of the window while both limits step through
    :func:`limit_segments`."""
    c = start(h)
    chem = _chemistry(c.loop)
    low = float(chem.ocv_V(0.0))
    c.loop.bench.set_cell_soc(soc_at(chem, low + 0.4 * (min(_v_limit(h), float(chem.ocv_V(1.0)))
                                                            - low)))
    for limit_A, sop_A in limit_segments(h):
        c.loop.set("charge_current_limit_A", limit_A)
        c.loop.set("sop_charge_current_limit_A", sop_A)
        c.run(SEGMENT_S)
    return c, (f"{LIMIT_SEGMENTS} segments of {SEGMENT_S:g} s: the declared maximum, "
               f"charge_current_limit_A and sop_charge_current_limit_A each the smallest in "
               f"turn, both below it, both above it (seeded values)")


# ----------------------------------------------------------------------------- OBSA-CHG-001
@req("OBSA-CHG-001")
def test_voltage_request_limit(obsa: Harness) -> None:
    """The voltage request against n × the declared limit on every step of the limits
    scenario (constant current) and of a whole charge from a seeded state (constant voltage,
    completion)."""
    c, text = limits_scenario(obsa)
    worst, t_worst = _voltage_excess(obsa, c.loop, c.n)
    loops: list[tuple[ClosedLoop, float, float]] = [(c.loop, worst, t_worst)]
    fullest = S.seeded_index(obsa, "cell", "voltage request fullest cell")
    try:
        charge, ctext, _ = full_charge(obsa, fullest, "voltage request charge")
        w, tw = _voltage_excess(obsa, charge.loop, charge.n)
        loops.append((charge.loop, w, tw))
        text += f"; a whole charge, {ctext}"
    except _NotApplicable as why:
        text += f"; no whole charge ({why})"
    loop, worst, t_worst = max(loops, key=lambda x: x[1])
    obsa.loop = loop
    obsa.judge("OBSA-CHG-001", {"voltage_request_excess_V": worst},
               message=f"{c.n} cells × {_v_limit(obsa):g} V = {c.n * _v_limit(obsa):.2f} V; "
                       f"{text}",
               events={"largest voltage request": t_worst} if math.isfinite(t_worst) else {})


# ----------------------------------------------------------------------------- OBSA-CHG-002
@req("OBSA-CHG-002")
def test_no_cell_above_limit(obsa: Harness) -> None:
    """Whole charges, each with another cell the fullest (the first, the last, seeded
    ones): the largest true cell voltage above the declared limit."""
    n = int(obsa.session.dimensions["cell"])
    stimuli: list[Stimulus] = []
    for i in S.sample_list(obsa, n, "fullest cell"):
        try:
            c, text, t_done = full_charge(obsa, i, f"fullest cell {i}")
        except _NotApplicable as why:
            obsa.not_applicable("OBSA-CHG-002", str(why))
            return
        true_max = S.channel(c.loop, "true_cell_voltage_max_V")
        if not len(true_max):
            raise S.PreconditionFailed("the charge ran no step")
        true_max = np.where(np.isnan(true_max), np.inf, true_max)
        k = int(np.argmax(true_max))
        done = (f"complete at {t_done:.1f} s" if t_done is not None
                else f"not complete after {c.loop.t:.0f} s")
        stimuli.append(Stimulus(
            f"cell {i + 1}", {"cell_overshoot_V": float(true_max[k]) - _v_limit(obsa)},
            events={"highest cell voltage": float(c.loop.t_s[k])}, loop=c.loop,
            message=f"{text}; charge {done}; highest true cell voltage "
                    f"{true_max[k]:.4f} V"))
    obsa.judge_each("OBSA-CHG-002", stimuli,
                    message=f"the charger follows the requests with a lag of "
                            f"{CHARGER_LAG_STEPS:g} step")


# ----------------------------------------------------------------------------- OBSA-CHG-003
@req("OBSA-CHG-003")
def test_current_request_limits(obsa: Harness) -> None:
    """The current request against the declared maximum and both limits of the same step,
    on every step of the limits scenario."""
    c, text = limits_scenario(obsa)
    loop = c.loop
    request = S.channel(loop, "charge_current_request_A")
    smallest = np.minimum(S.channel(loop, "charge_current_limit_A"),
                          S.channel(loop, "sop_charge_current_limit_A"))
    excess = request - smallest
    bad = np.where(np.isnan(request), np.inf, request)
    k_req = int(np.argmax(bad))
    k_ex = int(np.argmax(np.where(np.isnan(excess), np.inf, excess)))
    t = loop.t_s
    obsa.judge("OBSA-CHG-003", {"current_request_A": float(bad[k_req]),
                                "limit_excess_A": float(np.where(np.isnan(excess), np.inf,
                                                                 excess)[k_ex])},
               message=text, events={"largest request": t[k_req],
                                     "largest excess over a limit": t[k_ex]})


# ----------------------------------------------------------------------------- OBSA-CHG-004
def forbidden_conditions(h: Harness) -> list[tuple[str, str, object]]:
    """(label, signal, value) of every condition that forbids charging: the charger
    disconnected, every contactor state but closed, the safety states fault and lockout,
    no charge current permitted."""
    out: list[tuple[str, str, object]] = [("charger disconnected", "charger_connected", False)]
    out += [(f"contactor_state {v.name}", "contactor_state", v.value)
            for v in h.spec.enums["contactor_state"].values if v.name != "closed"]
    out += [(f"safety_state {name}", "safety_state", h.enum("safety_state", name))
            for name in ("fault", "lockout")]
    out.append(("charge_current_limit_A zero", "charge_current_limit_A", 0.0))
    return out


@req("OBSA-CHG-004")
def test_no_request_when_forbidden(obsa: Harness) -> None:
    """Charging in constant current; each condition that forbids charging in turn, at a
    seeded instant for a seeded time, then charging permitted again: the steps, after the
    first, with a current request or a phase other than inhibited or idle."""
    c = start(obsa)
    loop = c.loop
    chem = _chemistry(loop)
    low = float(chem.ocv_V(0.0))
    loop.bench.set_cell_soc(soc_at(chem, low + 0.4 * (min(_v_limit(obsa),
                                                           float(chem.ocv_V(1.0))) - low)))
    rng = S.seeded_rng(obsa, "forbidden conditions")
    allowed = {_phase(obsa, "inhibited"), _phase(obsa, "idle")}
    stimuli: list[Stimulus] = []
    for label, signal, value in forbidden_conditions(obsa):
        c.run(float(rng.uniform(1.0, 2.0)))
        before = float(loop.seen["charge_current_request_A"])
        saved = loop.seen[signal]
        if signal == "charger_connected":
            c.charger.connected = False
        else:
            loop.set(signal, value)
        t0 = loop.t
        first = len(loop.t_s)
        c.run(float(rng.uniform(*FORBIDDEN_S)))
        requests = S.channel(loop, "charge_current_request_A")[first + 1:]
        phases = S.channel(loop, "charge_phase")[first + 1:]
        wrong = ~((requests == 0.0) & np.isin(phases, list(allowed)))
        t_bad = [loop.t_s[first + 1 + int(k)] for k in np.nonzero(wrong)[0][:1]]
        stimuli.append(Stimulus(
            label, {"requests_not_permitted": int(np.count_nonzero(wrong))},
            events={"forbidden from": t0, **({"first step requesting": t_bad[0]} if t_bad
                                             else {})},
            loop=loop, message=f"{label} at {t0:.2f} s (current request {before:.2f} A "
                               f"before)"))
        if signal == "charger_connected":
            c.charger.connected = True
        else:
            loop.set(signal, saved)
    obsa.judge_each("OBSA-CHG-004", stimuli)


# ----------------------------------------------------------------------------- OBSA-CHG-005
@req("OBSA-CHG-005")
def test_constant_current(obsa: Harness) -> None:
    """The limits scenario, every cell below the limit: on every step after the first of a
    charge and after each change of a limit, the smallest limit minus the current request,
    and the steps whose phase is not constant_current."""
    c, text = limits_scenario(obsa)
    loop = c.loop
    i_max = _i_max(obsa)
    request = S.channel(loop, "charge_current_request_A")
    smallest = np.minimum(np.minimum(S.channel(loop, "charge_current_limit_A"),
                                     S.channel(loop, "sop_charge_current_limit_A")), i_max)
    phases = S.channel(loop, "charge_phase")
    below = S.channel(loop, "cell_voltage_max_V") < _v_limit(obsa)
    settled = np.zeros(len(request), dtype=bool)
    settled[1:] = smallest[1:] == smallest[:-1]
    settled[0] = False
    judged = settled & below
    if not np.any(judged):
        raise S.PreconditionFailed("no step of the scenario had every cell below the limit")
    shortfall = np.where(np.isnan(request), np.inf, smallest - request)
    shortfall = np.where(judged, shortfall, -np.inf)
    k = int(np.argmax(shortfall))
    wrong = judged & (phases != _phase(obsa, "constant_current"))
    t_wrong = [loop.t_s[int(j)] for j in np.nonzero(wrong)[0][:1]]
    obsa.judge("OBSA-CHG-005", {"current_shortfall_A": float(shortfall[k]),
                                "phase_not_constant_current": int(np.count_nonzero(wrong))},
               message=f"{text}; {int(np.count_nonzero(judged))} steps judged",
               events={"largest shortfall": loop.t_s[k],
                       **({"first step not constant_current": t_wrong[0]} if t_wrong else {})})


# ----------------------------------------------------------------------------- OBSA-CHG-006
@req("OBSA-CHG-006")
def test_termination(obsa: Harness) -> None:
    """A whole charge from a seeded state (a seeded cell the fullest): the measured current
    when the phase becomes complete, then the requests while the charger stays connected."""
    i_term = float(obsa.param(CHG, "charge_termination_current_A"))
    if not i_term > 0.0 or _i_max(obsa) <= i_term:
        obsa.not_applicable("OBSA-CHG-006", (
            f"the declared charge_termination_current_A {i_term:g} A leaves no taper to end: "
            f"it is not above zero or not below charge_current_max_A {_i_max(obsa):g} A"))
        return
    fullest = S.seeded_index(obsa, "cell", "termination fullest cell")
    try:
        c, text, t_done = full_charge(obsa, fullest, "termination charge")
    except _NotApplicable as why:
        obsa.not_applicable("OBSA-CHG-006", str(why))
        return
    loop = c.loop
    if t_done is None:
        obsa.judge("OBSA-CHG-006", {"current_at_completion_A": None,
                                    "requests_after_completion": 0},
                   message=f"{text}; the phase never became complete in {loop.t:.0f} s "
                           f"(last current request "
                           f"{float(loop.seen['charge_current_request_A']):.3f} A)",
                   notes={"current_at_completion_A": "never complete",
                          "requests_after_completion": "never complete"})
        return
    current = float(loop.seen["pack_current_A"])
    first = len(loop.t_s)
    c.run(HOLD_AFTER_COMPLETE_S)
    after = S.channel(loop, "charge_current_request_A")[first:]
    bad = int(np.count_nonzero(~(after == 0.0)))
    obsa.judge("OBSA-CHG-006", {"current_at_completion_A": current,
                                "requests_after_completion": bad},
               message=f"{text}; complete at {t_done:.1f} s at a measured {current:.3f} A; "
                       f"the charger connected {HOLD_AFTER_COMPLETE_S:g} s more",
               events={"complete": t_done})
