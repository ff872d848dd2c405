"""Conformance test cases of the cell monitor (area MEAS, component cell_monitor).

The cell monitor under test reads the plant side: the true cell voltages and sensor
temperatures as its input pins see them (``Bench.plant_inputs()``), with the front-end
faults of the bench (open sense wire, open or shorted sensor) acting there. Accuracy is
judged on every cell and sensor over many cycles at several seeded operating points that
include both ends of the range; timing and detection on every channel at once (cycle) or
on the first, the last and seeded others (faults), each at a seeded phase of the module's
own cycle.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import numpy as np
import pytest

from conformance.bench import CHEMISTRIES, OpenSenseWire, OpenSensor, ShortedSensor
from conformance.bench.faults import FrontEndFault
from conformance.harness.context import Harness, Stimulus
from conformance.harness.loop import ClosedLoop, TraceChannel
from conformance.suite import steps as S

CMU = "cell_monitor"
SUP = "safety_supervisor"
req = pytest.mark.requirement

#: operating points besides the two ends of the range, drawn from the seed
SEEDED_LEVELS = 3
#: share of the range by which the cells of one operating point spread (towards the middle)
LEVEL_SPREAD = 0.1
#: measured cycles per operating point, after the settling cycles
MEASURED_CYCLES = 8
#: cycles a changed true value is given before the readings count as steady state
SETTLE_CYCLES = 2
#: cycles after a fault within which a missing flag counts as never raised (OBSA-MEAS-004)
WATCH_CYCLES = 10


# ----------------------------------------------------------------------------- helpers
def _cycle(h: Harness) -> float:
    return float(h.param(CMU, "measurement_cycle_s"))


def _steps(loop: ClosedLoop, seconds: float) -> int:
    return max(1, loop.bench.clock.steps_for(seconds))


def _error_channel(name: str, unit: str, measured: str, true: str) -> TraceChannel:
    """Largest |measured − true| over the channels of one step (NaN truth left out)."""

    def read(pool: dict) -> float:
        diff = np.abs(np.asarray(pool[measured], dtype=float)
                      - np.asarray(pool[true], dtype=float))
        finite = diff[np.isfinite(diff)]
        return float(finite.max()) if len(finite) else math.nan

    return TraceChannel(name, unit, read=read)


CHANNELS = [
    _error_channel("cell_voltage_error_V", "V", "cell_voltage_V", "true_cell_voltage_V"),
    _error_channel("cell_temperature_error_K", "K", "cell_temperature_degC",
                   "true_cell_temperature_degC"),
]


def _cmu_loop(h: Harness) -> ClosedLoop:
    return h.run(components=[CMU], channels=CHANNELS)


def _levels(h: Harness, purpose: str) -> list[float]:
    """Operating points as fractions of the range: both ends first, then seeded ones."""
    rng = S.seeded_rng(h, purpose)
    return [0.0, 1.0, *(float(x) for x in rng.uniform(0.05, 0.95, SEEDED_LEVELS))]


def _spread(level: float, r: np.ndarray) -> np.ndarray:
    """Per-channel fractions of the range around ``level``, spread towards the middle, so
    that one channel sits at the end itself."""
    r = r.copy()
    r[0] = 0.0
    return level + (0.5 - level) * LEVEL_SPREAD * r


def temperature_range(h: Harness) -> tuple[float, float]:
    """The temperatures at which a safety supervisor temperature limit can be set: the
    widest span of its temperature limit parameters' ranges (spec)."""
    lows, highs = [], []
    for p in h.spec.interfaces[SUP].parameters:
        if p.unit == "degC" and "temperature" in p.name and p.range is not None:
            if p.range.min is not None:
                lows.append(float(p.range.min))
            if p.range.max is not None:
                highs.append(float(p.range.max))
    if not lows or not highs:
        raise S.PreconditionFailed("the spec gives the safety supervisor no temperature limit "
                                   "with a range")
    return min(lows), max(highs)


def voltage_window(loop: ClosedLoop) -> tuple[float, float]:
    """The declared chemistry's operating window: the open-circuit voltage at empty and full
    (the bench's cell model)."""
    chemistry = CHEMISTRIES[loop.bench.config.chemistry]
    return float(chemistry.ocv_V(0.0)), float(chemistry.ocv_V(1.0))


def _steady(loop: ClosedLoop, cycle_s: float, measure: Callable[[], None]) -> None:
    """Let a changed true value settle for SETTLE_CYCLES, then measure every step of
    MEASURED_CYCLES cycles."""
    loop.run(SETTLE_CYCLES * cycle_s)
    for _ in range(_steps(loop, MEASURED_CYCLES * cycle_s)):
        loop.step()
        measure()


# ----------------------------------------------------------------------------- accuracy
@req("OBSA-MEAS-001")
def test_cell_voltage_accuracy(obsa: Harness) -> None:
    """Every cell at both ends of the chemistry's window and at seeded operating points in
    between, each cell at its own seeded voltage, over many cycles: the largest error and
    the readings flagged invalid."""
    cycle = _cycle(obsa)
    loop = _cmu_loop(obsa)
    n = int(obsa.session.dimensions["cell"])
    rng = S.seeded_rng(obsa, "cell voltage levels")
    worst = {"error": 0.0, "invalid": 0, "samples": 0}
    events: dict[str, float] = {}
    low_V, high_V = voltage_window(loop)

    def measure() -> None:
        p = loop.seen
        v = np.asarray(p["cell_voltage_V"], dtype=float)
        true = np.asarray(p["true_cell_voltage_V"], dtype=float)
        err = float(np.max(np.abs(v - true)))
        if not err <= worst["error"]:  # NaN counts as the worst
            worst["error"] = err if math.isfinite(err) else math.inf
            events["largest error"] = loop.t_s[-1]
        worst["invalid"] += int(np.count_nonzero(~np.asarray(p["cell_voltage_valid"],
                                                             dtype=bool)))
        worst["samples"] += n

    for level in _levels(obsa, "cell voltage levels"):
        socs = np.clip(_spread(level, rng.random(n)), 0.0, 1.0)
        for i in rng.permutation(n):
            loop.bench.set_cell_soc(float(socs[i]), int(i))
        _steady(loop, cycle, measure)
    obsa.judge("OBSA-MEAS-001",
               {"cell_voltage_error_V": worst["error"], "invalid_readings": worst["invalid"]},
               message=f"{n} cells at {len(_levels(obsa, 'cell voltage levels'))} operating "
                       f"points of the window {low_V:.3f} … {high_V:.3f} V (both ends and "
                       f"seeded ones), {worst['samples']} steady readings",
               events=events)


@req("OBSA-MEAS-002")
def test_cell_temperature_accuracy(obsa: Harness) -> None:
    """Every sensor at both ends of the range where a temperature limit can be set and at
    seeded operating points in between, each at its own seeded temperature, over many
    cycles: the largest error and the readings flagged invalid."""
    cycle = _cycle(obsa)
    low, high = temperature_range(obsa)
    loop = _cmu_loop(obsa)
    n = int(obsa.session.dimensions["temperature_sensor"])
    rng = S.seeded_rng(obsa, "cell temperature levels")
    worst = {"error": 0.0, "invalid": 0, "samples": 0}
    events: dict[str, float] = {}

    def measure() -> None:
        p = loop.seen
        temp = np.asarray(p["cell_temperature_degC"], dtype=float)
        true = np.asarray(p["true_cell_temperature_degC"], dtype=float)
        err = float(np.max(np.abs(temp - true)))
        if not err <= worst["error"]:
            worst["error"] = err if math.isfinite(err) else math.inf
            events["largest error"] = loop.t_s[-1]
        worst["invalid"] += int(np.count_nonzero(~np.asarray(p["cell_temperature_valid"],
                                                             dtype=bool)))
        worst["samples"] += n

    levels = _levels(obsa, "cell temperature levels")
    for level in levels:
        fractions = _spread(level, rng.random(n))
        loop.bench.set_ambient_temperature(low + level * (high - low))
        for i in rng.permutation(n):
            loop.bench.set_cell_temperature(float(low + fractions[i] * (high - low)), int(i))
        _steady(loop, cycle, measure)
    obsa.judge("OBSA-MEAS-002",
               {"temperature_error_K": worst["error"], "invalid_readings": worst["invalid"]},
               message=f"{n} sensors at {len(levels)} operating points of {low:g} … {high:g} °C "
                       f"(both ends and seeded ones), {worst['samples']} steady readings",
               events=events)


# ----------------------------------------------------------------------------- cycle and age
def _golden(k: int, start: float) -> float:
    """A sequence in [0, 1) whose values at any two steps up to a few cycles apart differ
    clearly: a measurement anew always reads a new value."""
    return (start + k * 0.6180339887498949) % 1.0


def _age_error(h: Harness, loop: ClosedLoop) -> tuple[float, float]:
    """The true values change every step, so every measurement anew reads a new value; a
    cycle is complete when every cell and sensor has read a new value since the last
    complete one. Returns the largest |cell_monitor_age_s − time since then| over every
    step after the settling cycles, and when it occurred."""
    cycle = _cycle(h)
    low_T, high_T = temperature_range(h)
    starts = S.seeded_rng(h, "age").random(2)
    prev: tuple[np.ndarray, np.ndarray] | None = None
    pending = np.zeros(0, dtype=bool)
    completed_at = math.nan
    worst, t_worst = 0.0, math.nan
    skip = _steps(loop, SETTLE_CYCLES * cycle)
    for k in range(_steps(loop, (SETTLE_CYCLES + 2 * MEASURED_CYCLES) * cycle)):
        loop.bench.set_cell_soc(0.05 + 0.9 * _golden(k, float(starts[0])))
        loop.bench.set_cell_temperature(low_T + 0.25 * (high_T - low_T)
                                        + 0.5 * (high_T - low_T) * _golden(k, float(starts[1])))
        loop.step()
        t = loop.t_s[-1]
        now = (np.array(loop.seen["cell_voltage_V"], dtype=float),
               np.array(loop.seen["cell_temperature_degC"], dtype=float))
        if prev is None:
            completed_at = t  # the first reading after reset is a complete cycle
            pending = np.zeros(len(now[0]) + len(now[1]), dtype=bool)
        else:
            pending |= np.concatenate([now[0] != prev[0], now[1] != prev[1]])
            if pending.all():
                completed_at = t
                pending[:] = False
        prev = now
        if k >= skip:
            err = abs(float(loop.seen["cell_monitor_age_s"]) - (t - completed_at))
            if not err <= worst:
                worst, t_worst = (err if math.isfinite(err) else math.inf), t
    return worst, t_worst


def _update_delays(h: Harness, loop: ClosedLoop) -> tuple[np.ndarray, np.ndarray, int]:
    """Every cell and every sensor steps its true value at its own seeded instant (every
    phase of the module's cycle). Returns the delay until each measured value followed (inf:
    never within WATCH_CYCLES), the step instants, and the number of cells."""
    cycle = _cycle(h)
    n_cells = int(h.session.dimensions["cell"])
    n_temp = int(h.session.dimensions["temperature_sensor"])
    rng = S.seeded_rng(h, "update delay")
    low_T, high_T = temperature_range(h)
    temps = (low_T + 0.25 * (high_T - low_T), high_T - 0.25 * (high_T - low_T))
    loop.bench.set_ambient_temperature(temps[0])
    loop.bench.set_cell_soc(0.05)
    loop.bench.set_cell_temperature(temps[0])
    loop.run((SETTLE_CYCLES + 1) * cycle)
    window = _steps(loop, 3 * cycle)
    at = rng.integers(0, window, n_cells + n_temp)
    stepped = np.full(n_cells + n_temp, math.nan)
    old = np.full(n_cells + n_temp, math.nan)
    new = np.full(n_cells + n_temp, math.nan)
    old[n_cells:], new[n_cells:] = temps
    followed = np.full(n_cells + n_temp, math.inf)
    for k in range(window + _steps(loop, (WATCH_CYCLES + 1) * cycle)):
        for i in np.flatnonzero(at == k):
            if i < n_cells:
                old[i] = loop.bench.truth()["true_cell_voltage_V"][i]
                loop.bench.set_cell_soc(0.95, int(i))
                new[i] = loop.bench.truth()["true_cell_voltage_V"][i]
            else:
                loop.bench.set_cell_temperature(temps[1], int(i - n_cells))
            stepped[i] = loop.t
        loop.step()
        measured = np.concatenate([np.asarray(loop.seen["cell_voltage_V"], dtype=float),
                                   np.asarray(loop.seen["cell_temperature_degC"], dtype=float)])
        fresh = np.isinf(followed) & ~np.isnan(stepped) & (
            np.abs(measured - new) < np.abs(measured - old))
        followed[fresh] = loop.t_s[-1] - stepped[fresh]
    return followed, stepped, n_cells


@req("OBSA-MEAS-003")
def test_measurement_cycle(obsa: Harness) -> None:
    """The age against the module's own complete cycles while every true value changes every
    step; then every cell and every sensor steps at its own seeded instant, and the longest
    time until a measured value follows its step is the update delay."""
    loop = _cmu_loop(obsa)
    age_error, t_age = _age_error(obsa, loop)
    delays, stepped, n_cells = _update_delays(obsa, loop)
    worst = int(np.argmax(delays))
    what = (S.channel_label("cell_voltage_V", worst) if worst < n_cells
            else S.channel_label("cell_temperature_degC", worst - n_cells))
    never = int(np.count_nonzero(np.isinf(delays)))
    events = {f"{what} steps": float(stepped[worst])}
    if not math.isnan(t_age):
        events["largest age error"] = t_age
    obsa.judge("OBSA-MEAS-003",
               {"update_delay_s": float(delays[worst]), "age_error_s": age_error},
               message=f"age compared on every step while the true values changed every step; "
                       f"then {n_cells} cells and {len(delays) - n_cells} sensors stepped each "
                       f"at its own seeded instant, longest delay: {what}"
                       + (f"; {never} channel(s) never followed within {WATCH_CYCLES} cycles"
                          if never else ""),
               events=events)


# ----------------------------------------------------------------------------- front-end faults
def _detect(h: Harness, fault_of: Callable[[float], FrontEndFault], signal: str,
            affected: list[int], label: str, purpose: str, watch_cycles: int) -> Stimulus:
    """A fresh loop at a mid operating point; the fault acts at a seeded phase of the
    module's cycle; measured: cycles until every affected channel reads invalid."""
    cycle = _cycle(h)
    loop = _cmu_loop(h)
    loop.bench.set_cell_soc(0.5)
    loop.run((SETTLE_CYCLES + 1) * cycle)
    phase = int(S.seeded_rng(h, purpose).integers(0, _steps(loop, cycle)))
    for _ in range(phase):
        loop.step()
    t0 = loop.t
    loop.bench.inject(fault_of(t0))
    t_flag: float | None = None
    for _ in range(_steps(loop, watch_cycles * cycle)):
        loop.step()
        valid = np.asarray(loop.seen[signal], dtype=bool)
        if not valid[affected].any():
            t_flag = loop.t_s[-1]
            break
    events = {"fault": t0} | ({} if t_flag is None else {"flagged": t_flag})
    cycles = None if t_flag is None else round((t_flag - t0) / cycle, 9)
    return Stimulus(label=label, measured={"detection_cycles": cycles}, events=events,
                    loop=loop, notes=None if t_flag is not None else {
                        "detection_cycles": f"not flagged within {watch_cycles} cycles"})


def _open_wire(wire: int, t0: float) -> FrontEndFault:
    return OpenSenseWire(signal="true_cell_voltage_V", index=wire, start_s=t0)


def _sensor_fault(cls: type[FrontEndFault], sensor: int, t0: float) -> FrontEndFault:
    return cls(signal="true_cell_temperature_degC", index=sensor, start_s=t0)


@req("OBSA-MEAS-004")
def test_open_sense_wire(obsa: Harness) -> None:
    """The first (below cell 1), the last (above the last cell) and seeded sense wires, each
    opened on a fresh bench at a seeded phase: both cells beside it must read invalid."""
    n = int(obsa.session.dimensions["cell"])
    stimuli = []
    for w in S.sample_list(obsa, n + 1, "open sense wire"):
        affected = [c for c in (w - 1, w) if 0 <= c < n]
        st = _detect(obsa, functools.partial(_open_wire, w), "cell_voltage_valid", affected,
                     f"sense wire {w} (cells {', '.join(str(c + 1) for c in affected)})",
                     f"open sense wire {w}", WATCH_CYCLES)
        missed = 0 if st.measured["detection_cycles"] is not None else 1
        st.measured = {"detection_cycles": st.measured["detection_cycles"],
                       "missed_open_wires": missed}
        stimuli.append(st)
    obsa.judge_each("OBSA-MEAS-004", stimuli,
                    message=f"sense wires numbered 0 (below cell 1) … {n} (above cell {n})")


SENSOR_FAULTS: dict[str, type[FrontEndFault]] = {"open": OpenSensor,
                                                  "shorted": ShortedSensor}


@req("OBSA-MEAS-005")
@pytest.mark.parametrize("kind", [pytest.param(k, id=k) for k in SENSOR_FAULTS])
def test_temperature_sensor_fault(obsa: Harness, kind: str) -> None:
    """The first, the last and seeded temperature sensors, each opened (cold rail) or
    shorted (hot rail) on a fresh bench at a seeded phase: the sensor must read invalid."""
    cls = SENSOR_FAULTS[kind]
    stimuli = [
        _detect(obsa, functools.partial(_sensor_fault, cls, i), "cell_temperature_valid",
                [i], S.channel_label("cell_temperature_degC", i), f"{kind} sensor {i}",
                WATCH_CYCLES)
        for i in S.sample_indices(obsa, "temperature_sensor", f"{kind} temperature sensor")]
    obsa.judge_each("OBSA-MEAS-005", stimuli, message=f"{kind} temperature sensors")
