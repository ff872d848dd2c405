"""Conformance test cases of the passive balancing (area BAL, component balancing).

Only the balancing runs in the loop, stepped at its interface's step period (1 s): a rest
time of up to two hours is then a few thousand steps. Its inputs are the bench's
measurements with ideal sensors, shaped by measurement faults: the measured pack current
(an offset at, above and below the declared rest current, in both directions), the
measured cell voltages (offsets and ramps per cell, an open wire) and temperatures (an
offset per sensor, a sensor flagged invalid); safety_state is set by the test case. Every
pack is fair game: the cells read at least 50 mV above the declared minimum voltage and the
sensors 5 K below the declared maximum temperature (a measurement offset on every channel),
so that balancing is permitted wherever a declaration allows it at all.

Each case measures, per step, the module's commands against what it was given: the
difference of every cell to the lowest valid cell, the current, the temperatures and the
safety state. Conditions that end balancing are judged "after one step": a module that
reacts in the step after its input changed is not late (OBSA-BAL-003..007); thresholds are
judged between the differences of the step before a reaction and of its step
(OBSA-BAL-001, 002).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest

from conformance.harness.context import Harness, PreconditionFailed, Stimulus
from conformance.harness.loop import ClosedLoop
from conformance.suite import steps as S

BAL = "balancing"
req = pytest.mark.requirement

#: how far (V) a swept cell starts below the start threshold, at most (the threshold itself
#: when it is smaller: a swept cell never reads below the lowest)
START_MARGIN_V = 0.02
#: how far (V) beyond the threshold a sweep goes: a module 50 mV off still starts in it
SWEEP_BEYOND_V = 0.1
#: how fast (V/s) a swept cell's reading moves: one step of 1 s moves it 2 mV, within the
#: 5 mV threshold accuracy of OBSA-BAL-001/002
SWEEP_RATE_V_PER_S = 0.002
#: how far (V) above the threshold the cell sits that is balanced while a blocking
#: condition is applied (as far as a sweep goes: a module that starts anywhere in the sweep
#: of OBSA-BAL-001 balances it)
BALANCED_ABOVE_V = SWEEP_BEYOND_V
#: how far (V) a cell reads below the declared minimum cell voltage (OBSA-BAL-004)
BELOW_MIN_V = 0.01
#: how far (K) a sensor reads above the declared maximum temperature (OBSA-BAL-005)
ABOVE_MAX_K = 1.0
#: steps a blocking condition is held, and steps given afterwards to balance again
HOLD_STEPS = 5
#: the margins every reading keeps from the declared blocking limits
MIN_VOLTAGE_MARGIN_V = 0.05
MAX_TEMPERATURE_MARGIN_K = 5.0


# ----------------------------------------------------------------------------- the bench
def _period(h: Harness) -> float:
    return float(h.step_period(BAL))


def threshold_tolerance(h: Harness) -> float:
    """The accuracy of a balancing threshold (OBSA-BAL-001's start_threshold_error_V): a
    cell whose difference is below the threshold by more is not due for balancing."""
    for c in h.spec.requirements["OBSA-BAL-001"].acceptance:
        if c.name == "start_threshold_error_V":
            return float(c.value or 0.0)
    raise RuntimeError("OBSA-BAL-001 defines no start_threshold_error_V")


def _normal(h: Harness) -> int:
    return h.enum("safety_state", "normal")


def balancing_loop(h: Harness, below_V: float = 0.0) -> ClosedLoop:
    """The balancing alone, stepped at its step period, with ideal sensors; the cells read
    at least MIN_VOLTAGE_MARGIN_V above the declared minimum cell voltage (and ``below_V``
    more, for a cell the test case makes read that much lower) and the sensors at
    least MAX_TEMPERATURE_MARGIN_K below the declared maximum temperature; safety state
    normal, no current."""
    period = _period(h)
    loop = h.run(components=[BAL], ideal_sensors=True, dt_s=period,
                 cell_monitor_cycle_s=period, insulation_monitor_cycle_s=period)
    truth = loop.bench.truth()
    lowest_V = float(np.min(truth["true_cell_voltage_V"]))
    lift_V = (float(h.param(BAL, "balancing_min_cell_voltage_V")) + MIN_VOLTAGE_MARGIN_V
              + below_V - lowest_V)
    if lift_V > 0.0:
        loop.bench.inject(S.Offset(signal="cell_voltage_V", start_s=loop.t, value=lift_V))
    hottest = float(np.max(truth["true_cell_temperature_degC"]))
    cool_K = (float(h.param(BAL, "balancing_max_temperature_degC"))
              - MAX_TEMPERATURE_MARGIN_K - hottest)
    if cool_K < 0.0:
        loop.bench.inject(S.Offset(signal="cell_temperature_degC", start_s=loop.t,
                                   value=cool_K))
    loop.set("safety_state", _normal(h))
    return loop


def rest_steps(h: Harness) -> int:
    """Steps until the pack counts as at rest from the first step, and one more."""
    return math.ceil(float(h.param(BAL, "balancing_rest_time_s")) / _period(h) - 1e-9) + 1


def needs_rest(h: Harness, requirement: str) -> bool:
    """False (and the case is not applicable) when the declared rest current is 0 A: no
    current magnitude is below it, the pack is never at rest and never balanced."""
    if float(h.param(BAL, "balancing_rest_current_A")) > 0.0:
        return True
    h.not_applicable(requirement, "the declared balancing_rest_current_A is 0 A: no current "
                                  "magnitude is below it, so the pack is never at rest and no "
                                  "cell is ever balanced")
    return False


def needs_two_cells(h: Harness, requirement: str) -> bool:
    """False (and the case is not applicable) on a pack of one cell: no cell can be above
    the lowest, nothing is ever balanced."""
    if int(h.session.dimensions.get("cell", 0)) >= 2:
        return True
    h.not_applicable(requirement, "the pack has one cell: no cell can be above the lowest, "
                                  "so no cell is ever balanced")
    return False


@dataclass
class Record:
    """What the module was given and what it commanded, per step."""

    t: list[float] = field(default_factory=list)
    voltage: list[np.ndarray] = field(default_factory=list)
    valid: list[np.ndarray] = field(default_factory=list)
    cmd: list[np.ndarray] = field(default_factory=list)
    current: list[float] = field(default_factory=list)
    too_hot: list[bool] = field(default_factory=list)  # a sensor above the maximum or invalid
    below_min: list[bool] = field(default_factory=list)  # a valid cell below the minimum
    state: list[int] = field(default_factory=list)

    def run(self, h: Harness, loop: ClosedLoop, steps: int,
            every: Callable[[ClosedLoop], None] | None = None) -> None:
        max_T = float(h.param(BAL, "balancing_max_temperature_degC"))
        min_V = float(h.param(BAL, "balancing_min_cell_voltage_V"))
        for _ in range(steps):
            if every is not None:
                every(loop)
            loop.step()
            p = loop.seen
            v = np.array(p["cell_voltage_V"], dtype=float)
            ok = np.array(p["cell_voltage_valid"], dtype=bool) & np.isfinite(v)
            temp = np.asarray(p["cell_temperature_degC"], dtype=float)
            temp_ok = np.asarray(p["cell_temperature_valid"], dtype=bool)
            self.t.append(loop.t_s[-1])
            self.voltage.append(v)
            self.valid.append(ok)
            self.cmd.append(np.array(p["balancing_cmd"], dtype=bool).reshape(v.shape))
            self.current.append(float(p["pack_current_A"]))
            self.too_hot.append(not bool(np.all(temp_ok & (temp <= max_T))))
            self.below_min.append(bool(np.any(ok & (v < min_V))))
            self.state.append(int(p["safety_state"]))

    def difference(self, k: int) -> np.ndarray:
        """Every cell's difference to the lowest valid cell at step ``k`` (NaN: invalid)."""
        v, ok = self.voltage[k], self.valid[k]
        if not ok.any():
            return np.full(v.shape, math.nan)
        return np.where(ok, v - float(np.min(v[ok])), math.nan)

    def any_cmd(self, k: int) -> bool:
        return bool(self.cmd[k].any())

    def blocked_steps(self, condition: list[bool], start: int = 0) -> tuple[int, float | None]:
        """Steps from ``start`` with any command while ``condition`` held in this step and
        the one before (after one step), and the first such step's time."""
        count, first = 0, None
        for k in range(max(start, 1), len(self.t)):
            if condition[k] and condition[k - 1] and self.any_cmd(k):
                count += 1
                first = self.t[k] if first is None else first
        return count, first

    def newly_commanded_within(self, h: Harness, start: int = 0,
                               only_valid: bool = True) -> tuple[int, float | None]:
        """Steps from ``start`` in which a valid cell is commanded that was not commanded in
        the step before, with a difference to the lowest valid cell below the threshold by
        more than its accuracy: a cell that was not due for balancing."""
        below = float(h.param(BAL, "balancing_threshold_V")) - threshold_tolerance(h)
        count, first = 0, None
        for k in range(max(start, 1), len(self.t)):
            new = self.cmd[k] & ~self.cmd[k - 1] & self.valid[k]
            if not new.any():
                continue
            diff = self.difference(k)
            if bool(np.any(new & (diff <= below))):
                count += 1
                first = self.t[k] if first is None else first
        return count, first


def _offset(loop: ClosedLoop, signal: str, index: int | None, value: float,
            steps: int | None = None) -> None:
    """A measurement offset from now, for ``steps`` steps (None: for ever)."""
    t0 = loop.t
    end = None if steps is None else t0 + (steps - 0.5) * loop.bench.clock.dt_s
    loop.bench.inject(S.Offset(signal=signal, index=index, start_s=t0, end_s=end,
                               value=float(value)))


def lowest_and_swept(h: Harness, purpose: str) -> tuple[int | None, list[int]]:
    """The cells a threshold case sweeps (the first, the last and seeded others) and the one
    that reads lowest (seeded among the others; None when every cell is swept: then one of
    the swept cells, drawn from the seed, stays put as the lowest)."""
    n = int(h.session.dimensions["cell"])
    swept = S.sample_indices(h, "cell", purpose)
    rest = [i for i in range(n) if i not in swept]
    rng = S.seeded_rng(h, purpose + " lowest")
    if rest:
        return int(rest[int(rng.integers(len(rest)))]), swept
    lowest = swept.pop(int(rng.integers(len(swept))))
    return lowest, swept


def _bulk_difference(h: Harness) -> float:
    """How far (V) the cells that are not swept read above the lowest cell: half-way to the
    threshold less its accuracy (0 when the threshold is no more than its accuracy)."""
    return max(0.0, float(h.param(BAL, "balancing_threshold_V")) - threshold_tolerance(h)) / 2


def rested(h: Harness, loop: ClosedLoop, rec: Record) -> None:
    """Run until the pack counts as at rest (no current, the declared rest time)."""
    rec.run(h, loop, rest_steps(h))


def balance_one(h: Harness, loop: ClosedLoop, rec: Record, cell: int) -> None:
    """A precondition: ``cell`` reads BALANCED_ABOVE_V beyond the threshold above the others
    (for ever) and is commanded within two steps."""
    threshold = float(h.param(BAL, "balancing_threshold_V"))
    _offset(loop, "cell_voltage_V", cell, threshold + BALANCED_ABOVE_V)
    rec.run(h, loop, 2)
    if not rec.cmd[-1][cell]:
        raise PreconditionFailed(
            f"awaited balancing of {S.channel_label('cell_voltage_V', cell)}, "
            f"{threshold + BALANCED_ABOVE_V:.3f} V above the others at rest; seen instead: "
            f"balancing_active={loop.seen['balancing_active']} at t={loop.t:.0f} s",
            blame="OBSA-BAL-001")


def still_balancing(h: Harness, loop: ClosedLoop, rec: Record, cell: int, what: str) -> None:
    """A precondition of the next stimulus: ``cell`` is being balanced again."""
    rec.run(h, loop, 2)
    if not rec.cmd[-1][cell]:
        raise PreconditionFailed(
            f"awaited balancing of {S.channel_label('cell_voltage_V', cell)} again "
            f"{HOLD_STEPS} steps after {what} ended; seen instead: "
            f"balancing_active={loop.seen['balancing_active']} at t={loop.t:.0f} s",
            blame="OBSA-BAL-001")


def _balanced_cell(h: Harness, avoid: list[int]) -> int:
    """The cell kept balanced while blocking conditions are applied: seeded, not among
    ``avoid`` when another is left."""
    n = int(h.session.dimensions["cell"])
    others = [i for i in range(n) if i not in avoid] or list(range(n))
    return int(others[int(S.seeded_rng(h, "balanced cell").integers(len(others)))])


# ----------------------------------------------------------------------------- thresholds
def crossing_error(diff: np.ndarray, k: int, threshold: float) -> float:
    """How far ``threshold`` lies from the differences a cell read in the step before the
    module reacted (``k``) and in that step: the module switched somewhere between the two,
    so 0 when the threshold lies between them (inf: a difference is not a number)."""
    lo, hi = sorted((float(diff[max(k - 1, 0)]), float(diff[k])))
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return math.inf
    return max(0.0, lo - threshold, threshold - hi)


def threshold_sweep(h: Harness, direction: int) -> tuple[ClosedLoop, Record, list[int], int,
                                                         int]:
    """At rest, the swept cells' readings ramp at SWEEP_RATE_V_PER_S: upwards (``direction``
    +1) from below the start threshold to SWEEP_BEYOND_V beyond it; downwards (−1) from
    SWEEP_BEYOND_V above the threshold, once they are balanced, to 30 mV below the stop
    point.
    Returns the loop, the record, the swept cells, the lowest cell and the sweep's first
    step."""
    threshold = float(h.param(BAL, "balancing_threshold_V"))
    hysteresis = float(h.param(BAL, "balancing_hysteresis_V"))
    bulk = _bulk_difference(h)
    loop = balancing_loop(h, below_V=bulk)
    rec = Record()
    lowest, swept = lowest_and_swept(h, f"threshold sweep {direction:+d}")
    if lowest is not None and bulk > 0.0:
        _offset(loop, "cell_voltage_V", lowest, -bulk)
    rested(h, loop, rec)
    period = _period(h)
    if direction > 0:
        start_diff = threshold - min(START_MARGIN_V, threshold)
        end_diff = threshold + SWEEP_BEYOND_V
    else:
        start_diff = threshold + SWEEP_BEYOND_V
        end_diff = threshold - hysteresis - 0.03
    rate = direction * SWEEP_RATE_V_PER_S
    t0 = loop.t
    for i in swept:
        loop.bench.inject(S.Offset(signal="cell_voltage_V", index=i, start_s=t0,
                                   value=start_diff - bulk))
    if direction < 0:  # balanced first
        rec.run(h, loop, 2)
        t0 = loop.t
        missing = [i for i in swept if not rec.cmd[-1][i]]
        if missing:
            raise PreconditionFailed(
                f"awaited balancing of cells {[i + 1 for i in missing]}, "
                f"{SWEEP_BEYOND_V:g} V beyond the threshold at rest; seen instead: "
                f"balancing_active={loop.seen['balancing_active']} at t={loop.t:.0f} s",
                blame="OBSA-BAL-001")
    first = len(rec.t)
    for i in swept:
        loop.bench.inject(S.Ramp(signal="cell_voltage_V", index=i, start_s=t0, rate=rate))
    rec.run(h, loop, math.ceil(abs(end_diff - start_diff) / SWEEP_RATE_V_PER_S / period) + 2)
    return loop, rec, swept, -1 if lowest is None else lowest, first


@req("OBSA-BAL-001")
def test_start_threshold(obsa: Harness) -> None:
    """At rest, the first, the last and seeded cells read from below the declared threshold
    above the lowest (a seeded cell) up to 100 mV beyond it, at 2 mV per step; the other
    cells read half-way to the threshold. Per swept cell: the difference at which it was
    first commanded and the delay from the difference exceeding the threshold; on every
    step: a cell newly commanded that was not due."""
    if not (needs_two_cells(obsa, "OBSA-BAL-001") and needs_rest(obsa, "OBSA-BAL-001")):
        return
    threshold = float(obsa.param(BAL, "balancing_threshold_V"))
    loop, rec, swept, lowest, first = threshold_sweep(obsa, +1)
    wrong, t_wrong = rec.newly_commanded_within(obsa, start=first)
    stimuli = []
    for i in swept:
        diff = np.array([rec.difference(k)[i] for k in range(len(rec.t))])
        ks = range(first, len(rec.t))
        k_exceed = next((k for k in ks if diff[k] > threshold), None)
        k_cmd = next((k for k in ks if rec.cmd[k][i]), None)
        events = {} if t_wrong is None else {"cell not due commanded": t_wrong}
        error = delay = None
        if k_cmd is not None:
            error = crossing_error(diff, k_cmd, threshold)
            events["commanded"] = rec.t[k_cmd]
            if k_exceed is not None:
                delay = max(0.0, rec.t[k_cmd] - rec.t[k_exceed])
        if k_exceed is not None:
            events["difference above the threshold"] = rec.t[k_exceed]
        stimuli.append(Stimulus(
            label=S.channel_label("cell_voltage_V", i),
            measured={"start_threshold_error_V": error, "start_delay_s": delay,
                      "wrong_cells_balanced": wrong},
            events=events, loop=loop,
            message=("commanded at a difference of "
                     f"{diff[k_cmd]:.4f} V" if k_cmd is not None else "never commanded")))
    lowest_text = ("" if lowest < 0 else
                   f", {S.channel_label('cell_voltage_V', lowest)} reads lowest")
    obsa.judge_each("OBSA-BAL-001", stimuli,
                    message=f"swept at {SWEEP_RATE_V_PER_S * 1e3:g} mV/s across the declared "
                            f"threshold {threshold:g} V{lowest_text}")


@req("OBSA-BAL-002")
def test_stop_threshold(obsa: Harness) -> None:
    """At rest, the first, the last and seeded cells are balanced 100 mV beyond the declared
    threshold, then read down at 2 mV per step to 30 mV below threshold − hysteresis (a cell
    reading below the lowest is the lowest). Per swept cell: the difference at which it was
    first no longer commanded."""
    if not (needs_two_cells(obsa, "OBSA-BAL-002") and needs_rest(obsa, "OBSA-BAL-002")):
        return
    stop = (float(obsa.param(BAL, "balancing_threshold_V"))
            - float(obsa.param(BAL, "balancing_hysteresis_V")))
    loop, rec, swept, _lowest, first = threshold_sweep(obsa, -1)
    stimuli = []
    for i in swept:
        k_stop = next((k for k in range(first, len(rec.t)) if not rec.cmd[k][i]), None)
        error = None
        events: dict[str, float] = {}
        message = "never stopped"
        if k_stop is not None:
            diffs = np.array([rec.difference(k)[i] for k in range(len(rec.t))])
            diff = float(diffs[k_stop])
            error = crossing_error(diffs, k_stop, stop)
            events["stopped"] = rec.t[k_stop]
            message = f"stopped at a difference of {diff:.4f} V"
        stimuli.append(Stimulus(label=S.channel_label("cell_voltage_V", i),
                                measured={"stop_threshold_error_V": error}, events=events,
                                loop=loop, message=message))
    obsa.judge_each("OBSA-BAL-002", stimuli,
                    message=f"swept down at {SWEEP_RATE_V_PER_S * 1e3:g} mV/s across the "
                            f"declared threshold − hysteresis {stop:g} V")


# ----------------------------------------------------------------------------- rest
@req("OBSA-BAL-003")
def test_rest(obsa: Harness) -> None:
    """A seeded cell reads 100 mV beyond the threshold throughout. The measured current is
    first a discharge above the declared rest current, then exactly the rest current (a
    charge), each for the rest time and three steps; then below it for half the rest time,
    exactly at it (a discharge) for one step, below it again for the rest time and three
    steps, and last a charge above it for five steps. On every step: any command while the
    current is at or above the rest current (after one step); and how much earlier than the
    declared rest time after the last interruption balancing started."""
    if not (needs_two_cells(obsa, "OBSA-BAL-003") and needs_rest(obsa, "OBSA-BAL-003")):
        return
    rest_A = float(obsa.param(BAL, "balancing_rest_current_A"))
    rest_s = float(obsa.param(BAL, "balancing_rest_time_s"))
    loop = balancing_loop(obsa)
    rec = Record()
    cell = _balanced_cell(obsa, [])
    threshold = float(obsa.param(BAL, "balancing_threshold_V"))
    _offset(loop, "cell_voltage_V", cell, threshold + BALANCED_ABOVE_V)
    long = rest_steps(obsa) + 2
    half = rest_steps(obsa) // 2
    for current, steps in ((-(rest_A + 1.0), long), (rest_A, long), (0.5 * rest_A, half),
                           (-rest_A, 1), (0.5 * rest_A, long), (rest_A + 1.0, HOLD_STEPS)):
        if steps == 0:  # no half of a rest time of one step or none
            continue
        _offset(loop, "pack_current_A", None, current, steps)
        rec.run(obsa, loop, steps)
    at_or_above = [abs(i) >= rest_A for i in rec.current]
    not_at_rest, t_bad = rec.blocked_steps(at_or_above)
    k_cmd = next((k for k in range(len(rec.t)) if rec.any_cmd(k) and not at_or_above[k]),
                 None)
    events = {} if t_bad is None else {"commanded at or above the rest current": t_bad}
    early = None
    if k_cmd is not None:
        k_below = k_cmd
        while k_below > 0 and not at_or_above[k_below - 1]:
            k_below -= 1
        early = rest_s - (rec.t[k_cmd] - rec.t[k_below])
        events |= {"current below the rest current": rec.t[k_below],
                   "first command": rec.t[k_cmd]}
    elif not_at_rest == 0:
        raise PreconditionFailed(
            f"awaited balancing of {S.channel_label('cell_voltage_V', cell)} "
            f"{threshold + BALANCED_ABOVE_V:.3f} V above the others after "
            f"{rest_s:g} s below the rest current; seen instead: none at t={loop.t:.0f} s",
            blame="OBSA-BAL-001")
    obsa.judge("OBSA-BAL-003",
               {"commands_not_at_rest": not_at_rest, "early_start_s": early},
               message=f"measured current {-(rest_A + 1.0):g} A, then {rest_A:g} A, each "
                       f"{long} steps, then {0.5 * rest_A:g} A for {half} steps, {-rest_A:g} A "
                       f"for one step, {0.5 * rest_A:g} A for {long} steps and "
                       f"{rest_A + 1.0:g} A for {HOLD_STEPS}; declared rest "
                       f"{rest_s:g} s below {rest_A:g} A",
               events=events, notes=None if early is not None else
               {"early_start_s": "no command below the rest current"})


# ----------------------------------------------------------------------------- blocking
#: applies a blocking condition; returns what it did and how to lift it
Apply = Callable[[ClosedLoop], tuple[str, Callable[[], None]]]


def _nothing() -> None:
    """A condition that lifts itself (a fault with an end)."""


def blocking_case(h: Harness, requirement: str, criterion: str,
                  stimuli: list[tuple[str, Apply]], condition: Callable[[Record], list[bool]],
                  avoid: list[int], message: str) -> None:
    """At rest, a seeded cell is balanced; each stimulus applies a blocking condition for
    HOLD_STEPS steps, then lifts it and balancing resumes (a precondition of the next). Per
    stimulus: the steps with any command while the condition held (after one step)."""
    loop = balancing_loop(h)
    rec = Record()
    rested(h, loop, rec)
    cell = _balanced_cell(h, avoid)
    balance_one(h, loop, rec, cell)
    made: list[tuple[str, Callable[[], Stimulus]]] = []
    state = {"ok": True}

    def maker(label: str, apply: Apply) -> Callable[[], Stimulus]:
        def make() -> Stimulus:
            if not state["ok"]:
                raise PreconditionFailed("balancing did not resume after the previous stimulus",
                                         blame="OBSA-BAL-001")
            first = len(rec.t)
            what, lift = apply(loop)
            rec.run(h, loop, HOLD_STEPS)
            lift()
            rec.run(h, loop, HOLD_STEPS)
            count, t_first = rec.blocked_steps(condition(rec), start=first)
            try:
                still_balancing(h, loop, rec, cell, what)
            except PreconditionFailed:
                state["ok"] = False
            events = {f"{what}": rec.t[first]}
            if t_first is not None:
                events["commanded while blocked"] = t_first
            return Stimulus(label=label, measured={criterion: count}, events=events,
                            loop=loop, message=f"{what} for {HOLD_STEPS} steps")
        return make

    for label, apply in stimuli:
        made.append((label, maker(label, apply)))
    S.judge_each_possible(h, requirement, made,
                          message=message + f"; {S.channel_label('cell_voltage_V', cell)} "
                                            "balanced before each")


@req("OBSA-BAL-004")
def test_min_cell_voltage(obsa: Harness) -> None:
    """At rest with a seeded cell balanced, the first, the last and seeded other cells each
    read 10 mV below the declared minimum cell voltage for five steps: any command while a
    valid cell reads below it (after one step)."""
    if not (needs_two_cells(obsa, "OBSA-BAL-004") and needs_rest(obsa, "OBSA-BAL-004")):
        return
    min_V = float(obsa.param(BAL, "balancing_min_cell_voltage_V"))
    cells = S.sample_indices(obsa, "cell", "below minimum voltage")

    def low(i: int) -> Apply:
        def apply(loop: ClosedLoop) -> tuple[str, Callable[[], None]]:
            now = float(np.asarray(loop.bench.measurements()["cell_voltage_V"])[i])
            _offset(loop, "cell_voltage_V", i, min_V - BELOW_MIN_V - now, HOLD_STEPS)
            return (f"{S.channel_label('cell_voltage_V', i)} at {min_V - BELOW_MIN_V:.3f} V",
                    _nothing)
        return apply

    blocking_case(obsa, "OBSA-BAL-004", "commands_below_min_voltage",
                  [(S.channel_label("cell_voltage_V", i), low(i)) for i in cells],
                  lambda rec: rec.below_min, cells,
                  f"declared balancing_min_cell_voltage_V {min_V:g} V")


@req("OBSA-BAL-005")
def test_max_temperature(obsa: Harness) -> None:
    """At rest with a seeded cell balanced, the first, the last and seeded other temperature
    sensors each read 1 K above the declared maximum temperature for five steps, then are
    flagged invalid (reading a normal temperature) for five: any command while a sensor
    reads above the maximum or invalid (after one step)."""
    if not (needs_two_cells(obsa, "OBSA-BAL-005") and needs_rest(obsa, "OBSA-BAL-005")):
        return
    max_T = float(obsa.param(BAL, "balancing_max_temperature_degC"))
    sensors = S.sample_indices(obsa, "temperature_sensor", "above maximum temperature")

    def hot(j: int) -> Apply:
        def apply(loop: ClosedLoop) -> tuple[str, Callable[[], None]]:
            now = float(np.asarray(loop.bench.measurements()["cell_temperature_degC"])[j])
            _offset(loop, "cell_temperature_degC", j, max_T + ABOVE_MAX_K - now, HOLD_STEPS)
            return (f"{S.channel_label('cell_temperature_degC', j)} at "
                    f"{max_T + ABOVE_MAX_K:g} °C", _nothing)
        return apply

    def invalid(j: int) -> Apply:
        def apply(loop: ClosedLoop) -> tuple[str, Callable[[], None]]:
            t0 = loop.t
            loop.bench.inject(S.Stuck(signal="cell_temperature_valid", index=j, start_s=t0,
                                      end_s=t0 + (HOLD_STEPS - 0.5) * loop.bench.clock.dt_s,
                                      value=False))
            return f"{S.channel_label('cell_temperature_degC', j)} flagged invalid", _nothing
        return apply

    stimuli: list[tuple[str, Apply]] = []
    for j in sensors:
        label = S.channel_label("cell_temperature_degC", j)
        stimuli += [(f"{label} hot", hot(j)), (f"{label} invalid", invalid(j))]
    blocking_case(obsa, "OBSA-BAL-005", "commands_above_max_temperature", stimuli,
                  lambda rec: rec.too_hot, [],
                  f"declared balancing_max_temperature_degC {max_T:g} °C")


@req("OBSA-BAL-006")
def test_fault_and_lockout(obsa: Harness) -> None:
    """At rest with a seeded cell balanced, safety_state is fault for five steps, normal
    again, then lockout for five steps: any command while it is fault or lockout (after one
    step)."""
    if not (needs_two_cells(obsa, "OBSA-BAL-006") and needs_rest(obsa, "OBSA-BAL-006")):
        return
    blocked = {obsa.enum("safety_state", "fault"), obsa.enum("safety_state", "lockout")}
    normal = _normal(obsa)

    def state(name: str) -> Apply:
        value = obsa.enum("safety_state", name)

        def apply(loop: ClosedLoop) -> tuple[str, Callable[[], None]]:
            loop.set("safety_state", value)
            return f"safety_state {name}", lambda: loop.set("safety_state", normal)
        return apply

    blocking_case(obsa, "OBSA-BAL-006", "commands_while_faulted",
                  [(name, state(name)) for name in ("fault", "lockout")],
                  lambda rec: [s in blocked for s in rec.state], [],
                  "safety_state set by the bench")


@req("OBSA-BAL-007")
def test_invalid_cells(obsa: Harness) -> None:
    """At rest, the first, the last and seeded other cells each read invalid for five steps:
    once high (100 mV beyond the threshold above the others, flagged invalid) and once with
    an open sense wire (0 V, invalid). Per stimulus: the steps with an invalid cell
    commanded (after one step), and the steps with a valid cell newly commanded that was not
    due against the lowest valid cell."""
    if not (needs_two_cells(obsa, "OBSA-BAL-007") and needs_rest(obsa, "OBSA-BAL-007")):
        return
    threshold = float(obsa.param(BAL, "balancing_threshold_V"))
    cells = S.sample_indices(obsa, "cell", "invalid cells")
    loop = balancing_loop(obsa)
    rec = Record()
    rested(obsa, loop, rec)
    makers: list[tuple[str, Callable[[], Stimulus]]] = []

    def maker(i: int, kind: str) -> Callable[[], Stimulus]:
        def make() -> Stimulus:
            t0 = loop.t
            end = t0 + (HOLD_STEPS - 0.5) * loop.bench.clock.dt_s
            if kind == "high":
                loop.bench.inject(S.Offset(signal="cell_voltage_V", index=i, start_s=t0,
                                           end_s=end, value=threshold + BALANCED_ABOVE_V))
                loop.bench.inject(S.Stuck(signal="cell_voltage_valid", index=i, start_s=t0,
                                          end_s=end, value=False))
            else:
                loop.bench.inject(S.OpenWire(signal="cell_voltage_V", index=i, start_s=t0,
                                             end_s=end))
            first = len(rec.t)
            rec.run(obsa, loop, HOLD_STEPS)
            invalid = 0
            t_bad = None
            for k in range(max(first, 1), len(rec.t)):
                both = ~rec.valid[k] & ~rec.valid[k - 1]
                if bool(np.any(rec.cmd[k] & both)):
                    invalid += 1
                    t_bad = rec.t[k] if t_bad is None else t_bad
            caused, t_caused = rec.newly_commanded_within(obsa, start=first)
            rec.run(obsa, loop, HOLD_STEPS)
            events = {"invalid": rec.t[first]}
            if t_bad is not None:
                events["invalid cell commanded"] = t_bad
            if t_caused is not None:
                events["valid cell not due commanded"] = t_caused
            what = ("reads high, flagged invalid" if kind == "high" else
                    "open sense wire (0 V, invalid)")
            return Stimulus(label=f"{S.channel_label('cell_voltage_V', i)} {kind}",
                            measured={"invalid_cells_balanced": invalid,
                                      "commands_caused_by_invalid": caused},
                            events=events, loop=loop,
                            message=f"{S.channel_label('cell_voltage_V', i)} {what} for "
                                    f"{HOLD_STEPS} steps")
        return make

    for i in cells:
        for kind in ("high", "open wire"):
            makers.append((f"{S.channel_label('cell_voltage_V', i)} {kind}", maker(i, kind)))
    S.judge_each_possible(obsa, "OBSA-BAL-007", makers,
                          message=f"declared threshold {threshold:g} V")

