"""Conformance test cases of the thermal manager (area THERM, component thermal_manager).

The thermal manager runs alone on the bench (``h.run(components=["thermal_manager"])``) with
ideal sensors; the temperatures it reads are driven through the bench's measurements: every
sensor rests between the heating and the cooling band, and one sensor at a time — the first,
the last and seeded others — is swept across a declared threshold at RAMP_K_PER_S, starting
MARGIN_K before it. Each request is judged where it rises (the swept temperature in force at
that step, and the delay after the threshold was reached) and where it falls (after a jump
back to MARGIN_K beyond the release threshold, swept on across it). Where the pack has
another sensor, one of them is invalid and reads beyond the threshold (a shorted sensor
reads hot for cooling, an open one −50 °C for heating and the spread): the requirements
speak of the valid temperatures only, so a module that counts it requests too early and
never withdraws. Temperatures are judged as the module saw them: the highest and the lowest
*valid* measured temperature of every step (trace channels ``valid_temperature_*``).

Where only the priority of the requests is judged (OBSA-THERM-005), the temperatures jump
MARGIN_K beyond the thresholds instead of sweeping: four tolerances of the threshold
requirements, so any module that meets those is due at once. The closed-loop cases
(``test_conditioning_closes_the_loop``) drive nothing: the bench's coolant and heaters
follow the module's requests (``thermal_actuators``) and the cells' own temperatures must
come back to the off threshold.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from conformance.bench import OpenWire, chemistry
from conformance.harness.context import Harness, PreconditionFailed, Stimulus
from conformance.harness.loop import ClosedLoop, TraceChannel
from conformance.suite import steps as S

TM = "thermal_manager"
req = pytest.mark.requirement
T = "cell_temperature_degC"

#: how fast a swept temperature moves (far below one tolerance per nominal 1 s step)
RAMP_K_PER_S = 0.2
#: where a sweep starts before its threshold, and where a release sweep starts after a jump
MARGIN_K = 2.0
#: a sweep runs on this many margins past its threshold before the reaction counts as missing
SWEEP_MARGINS = 3
#: how long a request may take after a jump MARGIN_K beyond its threshold before it counts
#: as missing
JUMP_WATCH_S = 3.0
#: how far beyond the threshold an invalid sensor reads (the reading a module must ignore)
DECOY_BEYOND_K = 20.0


# ----------------------------------------------------------------------------- trace
def _valid_extreme(reduce: Callable[[np.ndarray], float]) -> Callable[[dict[str, Any]], float]:
    def read(pool: dict[str, Any]) -> float:
        temps = np.asarray(pool[T], dtype=float)
        valid = np.asarray(pool["cell_temperature_valid"], dtype=bool) & np.isfinite(temps)
        return reduce(temps[valid]) if valid.any() else float("nan")

    return read


def _spread(pool: dict[str, Any]) -> float:
    temps = np.asarray(pool[T], dtype=float)
    valid = np.asarray(pool["cell_temperature_valid"], dtype=bool) & np.isfinite(temps)
    return float(np.ptp(temps[valid])) if valid.any() else 0.0


CHANNELS = [
    TraceChannel("valid_temperature_max_degC", "degC",
                 read=_valid_extreme(lambda a: float(a.max()))),
    TraceChannel("valid_temperature_min_degC", "degC",
                 read=_valid_extreme(lambda a: float(a.min()))),
    TraceChannel("valid_temperature_spread_K", "K", read=_spread),
    TraceChannel("thermal_fault_flags", "1", "thermal_fault_flags"),
]
# cooling_request and heating_request: recorded in every loop that runs the thermal manager
# (the always-on monitor of OBSA-THERM-005 reads them)


# ----------------------------------------------------------------------------- the bench
def _rest(h: Harness) -> float:
    """Where every sensor rests: midway between heating_off and cooling_off (OBSA-THERM-007
    orders them), so that no request is due."""
    p = h.params(TM)
    return 0.5 * (float(p["heating_off_temperature_degC"])
                  + float(p["cooling_off_temperature_degC"]))


def _loop(h: Harness) -> ClosedLoop:
    """A fresh loop of the thermal manager alone, every cell at rest, run one step."""
    loop = h.run(components=[TM], channels=CHANNELS, ideal_sensors=True)
    rest = _rest(h)
    loop.bench.set_ambient_temperature(rest)
    loop.bench.set_cell_temperature(rest)
    loop.run(0.1)
    return loop


def _neighbour(n: int, index: int) -> int | None:
    """The sensor beside ``index`` (before it, else after it); None on a one-sensor pack."""
    if n < 2:
        return None
    return index - 1 if index > 0 else index + 1


def _sample_time(loop: ClosedLoop) -> float:
    """When the reading the module sees now was sampled: a fault starting then changes it
    at once (a fault reaches a sampled signal with the sample it starts at or before)."""
    return float(loop.bench.clock.time_of(loop.bench.cell_monitor.sample_step))


def _set_sensor(loop: ClosedLoop, index: int, value: float, rate_per_s: float = 0.0) -> float:
    """Sensor ``index`` reads ``value`` from its current reading on, moving at
    ``rate_per_s``; returns when the change reaches the module (now)."""
    ts = _sample_time(loop)
    loop.bench.inject(S.Offset(signal=T, index=index, start_s=ts,
                               value=value - S.true_value(loop, T, index)))
    if rate_per_s:
        loop.bench.inject(S.Ramp(signal=T, index=index, start_s=ts, rate=rate_per_s))
    return loop.t


@dataclass
class Drive:
    """One swept sensor and an optional invalid sensor beside it, on one loop."""

    loop: ClosedLoop
    index: int
    decoy: int | None
    decoy_value: float | None  # None: an open sensor (−50 °C, invalid)

    def _decoy(self) -> None:
        if self.decoy is None:
            return
        t0 = _sample_time(self.loop)
        if self.decoy_value is None:
            self.loop.bench.inject(OpenWire(signal=T, index=self.decoy, start_s=t0))
        else:
            self.loop.bench.inject(S.Stuck(signal=T, index=self.decoy, start_s=t0,
                                           value=float(self.decoy_value)))
            self.loop.bench.inject(S.Stuck(signal="cell_temperature_valid", index=self.decoy,
                                           start_s=t0, value=False))

    def sweep(self, target: float, direction: int, margin: float = MARGIN_K) -> float:
        """The swept sensor jumps to ``margin`` before ``target`` and moves across it
        (``direction`` +1 up, −1 down); returns the sweep's start."""
        self.loop.bench.clear_faults()
        self._decoy()
        return _set_sensor(self.loop, self.index, target - direction * margin,
                           direction * RAMP_K_PER_S)

    def run_sweep(self, until: Callable[[Mapping[str, Any]], bool]) -> float | None:
        return self.loop.run(SWEEP_MARGINS * MARGIN_K / RAMP_K_PER_S + MARGIN_K / RAMP_K_PER_S,
                             until=until)


def _edge(loop: ClosedLoop, name: str, rising: bool, after: float) -> float | None:
    on = S.channel(loop, name) > 0.5
    return S.first_time(loop, on if rising else ~on, after=after)


# ----------------------------------------------------------------------------- one switch
@dataclass(frozen=True)
class Switch:
    """A hysteresis switch of the thermal manager: which request, on which extreme of the
    valid temperatures, in which direction it rises, and its two declared thresholds."""

    request: str
    extreme: str  # trace channel of the temperature it follows
    direction: int  # +1: rises on a temperature going up (cooling), −1 (heating)
    on_param: str
    off_param: str
    on_requirement: str
    off_requirement: str


COOLING = Switch("cooling_request", "valid_temperature_max_degC", +1,
                 "cooling_on_temperature_degC", "cooling_off_temperature_degC",
                 "OBSA-THERM-001", "OBSA-THERM-002")
HEATING = Switch("heating_request", "valid_temperature_min_degC", -1,
                 "heating_on_temperature_degC", "heating_off_temperature_degC",
                 "OBSA-THERM-003", "OBSA-THERM-004")


def _request_is(name: str, value: bool) -> Callable[[Mapping[str, Any]], bool]:
    return lambda pool: bool(pool[name]) is value


def _switch_cycle(h: Harness, sw: Switch, index: int) -> tuple[Stimulus, Stimulus]:
    """Sensor ``index`` swept across the on threshold, then from MARGIN_K short of the off
    threshold (on the requesting side) across it: one stimulus per requirement."""
    p = h.params(TM)
    on, off = float(p[sw.on_param]), float(p[sw.off_param])
    loop = _loop(h)
    n = int(h.session.dimensions["temperature_sensor"])
    decoy = _neighbour(n, index)
    drive = Drive(loop, index, decoy, None if sw.direction < 0
                  else on + DECOY_BEYOND_K)
    label = S.channel_label(T, index)
    beside = "" if decoy is None else (
        f", {S.channel_label(T, decoy)} invalid reading "
        f"{'−50 °C (open)' if sw.direction < 0 else f'{on + DECOY_BEYOND_K:g} °C (shorted)'}")
    # on: the extreme reaches the threshold
    t0 = drive.sweep(on, sw.direction)
    drive.run_sweep(_request_is(sw.request, True))
    loop.run(0.05)
    extreme = S.channel(loop, sw.extreme)
    t_on = _edge(loop, sw.request, True, t0)
    reached = extreme >= on if sw.direction > 0 else extreme <= on
    t_reached = S.first_time(loop, reached, after=t0)
    on_measured: dict[str, float | None] = {"on_threshold_error_K": None, "on_delay_s": None}
    on_events = {"sweep starts": t0}
    if t_on is not None:
        on_events["request raised"] = t_on
        on_measured["on_threshold_error_K"] = abs(S.value_at(loop, sw.extreme, t_on) - on)
        on_measured["on_delay_s"] = 0.0 if t_reached is None or t_reached > t_on \
            else t_on - t_reached
    if t_reached is not None:
        on_events["threshold reached"] = t_reached
    on_st = Stimulus(label=label, measured=on_measured, events=on_events, loop=loop,
                     message=f"{label} swept {'up' if sw.direction > 0 else 'down'} from "
                             f"{on - sw.direction * MARGIN_K:g} °C at {RAMP_K_PER_S:g} K/s"
                             + beside)
    # off: back to MARGIN_K on the requesting side of the off threshold, then across it
    if t_on is None:
        off_st = Stimulus(label=label, measured={"off_threshold_error_K": None}, loop=loop,
                          notes={"off_threshold_error_K": f"precondition: {sw.request} was "
                                 f"never raised (see {sw.on_requirement})"})
        return on_st, off_st
    t1 = drive.sweep(off, -sw.direction)
    drive.run_sweep(_request_is(sw.request, False))
    loop.run(0.05)
    t_off = _edge(loop, sw.request, False, t1)
    off_events = {"release sweep starts": t1}
    off_measured: dict[str, float | None] = {"off_threshold_error_K": None}
    if t_off is not None:
        off_events["request withdrawn"] = t_off
        off_measured["off_threshold_error_K"] = abs(S.value_at(loop, sw.extreme, t_off) - off)
    off_st = Stimulus(label=label, measured=off_measured, events=off_events, loop=loop,
                      message=f"{label} raised the request, jumped to "
                              f"{off + sw.direction * MARGIN_K:g} °C and swept "
                              f"{'down' if sw.direction > 0 else 'up'} at {RAMP_K_PER_S:g} K/s"
                              + beside)
    return on_st, off_st


def _judge_switch(h: Harness, sw: Switch) -> None:
    pairs = [_switch_cycle(h, sw, i)
             for i in S.sample_indices(h, "temperature_sensor", sw.request)]
    p = h.params(TM)
    h.judge_each(sw.on_requirement, [on for on, _ in pairs],
                 message=f"declared {sw.on_param} = {p[sw.on_param]} °C")
    h.judge_each(sw.off_requirement, [off for _, off in pairs],
                 message=f"declared {sw.off_param} = {p[sw.off_param]} °C")


@req("OBSA-THERM-001")
@req("OBSA-THERM-002")
def test_cooling_request(obsa: Harness) -> None:
    """The first, the last and seeded sensors each swept up across cooling_on (the request
    rises at it) and back down across cooling_off (it falls there, not before)."""
    _judge_switch(obsa, COOLING)


@req("OBSA-THERM-003")
@req("OBSA-THERM-004")
def test_heating_request(obsa: Harness) -> None:
    """The first, the last and seeded sensors each swept down across heating_on (the
    request rises at it) and back up across heating_off (it falls there, not before)."""
    _judge_switch(obsa, HEATING)


# ----------------------------------------------------------------------------- both due
def _both_due(h: Harness, hot: int, cold: int) -> Stimulus:
    """Sensor ``cold`` MARGIN_K below heating_on until heating is requested; sensor ``hot``
    jumps MARGIN_K above cooling_on — four tolerances of OBSA-THERM-001 beyond it, so that
    any module that meets it is due at once — (cooling must rise, heating step back); then
    ``hot`` jumps MARGIN_K below cooling_off (heating, still due, must come back)."""
    p = h.params(TM)
    cool_on = float(p["cooling_on_temperature_degC"])
    cool_off = float(p["cooling_off_temperature_degC"])
    heat_on = float(p["heating_on_temperature_degC"])
    loop = _loop(h)
    cold_value = heat_on - MARGIN_K
    _set_sensor(loop, cold, cold_value)
    if loop.run(2.0, until=_request_is("heating_request", True)) is None:
        raise PreconditionFailed(
            f"awaited heating_request within 2 s of {S.channel_label(T, cold)} at "
            f"{cold_value:g} °C (declared heating_on {heat_on:g} °C)", blame="OBSA-THERM-003")
    t_heat = loop.t
    t0 = _set_sensor(loop, hot, cool_on + MARGIN_K)
    loop.run(JUMP_WATCH_S, until=_request_is("cooling_request", True))
    loop.run(0.05)
    hottest = S.channel(loop, "valid_temperature_max_degC")
    t_due = S.first_time(loop, hottest >= cool_on, after=t0)
    t_cool = _edge(loop, "cooling_request", True, t0)
    events = {"heating requested": t_heat, "hot sensor set": t0}
    measured: dict[str, float | None] = {"simultaneous_requests": None,
                                         "cooling_on_delay_s": None,
                                         "heating_resume_delay_s": None}
    notes: dict[str, str] = {}
    if t_due is not None:
        events["cooling due"] = t_due
    if t_cool is not None:
        events["cooling requested"] = t_cool
        measured["cooling_on_delay_s"] = 0.0 if t_due is None or t_due > t_cool \
            else t_cool - t_due
        # back below cooling_off: cooling ends, heating (still due) resumes
        loop.bench.clear_faults()
        _set_sensor(loop, cold, cold_value)
        t1 = _set_sensor(loop, hot, cool_off - MARGIN_K)
        loop.run(JUMP_WATCH_S, until=_request_is("heating_request", True))
        loop.run(0.05)
        t_end = _edge(loop, "cooling_request", False, t1)
        t_back = _edge(loop, "heating_request", True, t1)
        if t_end is None:
            raise PreconditionFailed(
                f"awaited cooling_request withdrawn within {JUMP_WATCH_S:g} s of "
                f"{S.channel_label(T, hot)} at {cool_off - MARGIN_K:g} °C (declared "
                f"cooling_off {cool_off:g} °C)",
                blame="OBSA-THERM-002")
        events["cooling withdrawn"] = t_end
        if t_back is not None:
            events["heating requested again"] = t_back
            measured["heating_resume_delay_s"] = max(0.0, t_back - t_end)
        else:
            notes["heating_resume_delay_s"] = "heating, still due, never requested again"
    else:
        notes["cooling_on_delay_s"] = "cooling never requested while heating was"
        notes["heating_resume_delay_s"] = "not measurable: cooling never requested"
    both = (S.channel(loop, "cooling_request") > 0.5) & (S.channel(loop, "heating_request") > 0.5)
    measured["simultaneous_requests"] = float(np.count_nonzero(both))
    if both.any():
        events["both requested"] = float(S.times(loop)[np.argmax(both)])
    return Stimulus(label=f"{S.channel_label(T, hot)} hot, {S.channel_label(T, cold)} cold",
                    measured=measured, events=events, loop=loop, notes=notes or None,
                    message=f"{S.channel_label(T, cold)} held at {cold_value:g} °C, "
                            f"{S.channel_label(T, hot)} set to {cool_on + MARGIN_K:g} °C, "
                            f"then to {cool_off - MARGIN_K:g} °C")


@req("OBSA-THERM-005")
def test_cooling_and_heating_due(obsa: Harness) -> None:
    """Heating requested on one cold sensor, then cooling due on another hot one (the
    first, the last and seeded ones, each with its neighbour cold): never both requests,
    cooling wins at once, heating back at once when cooling ends."""
    n = int(obsa.session.dimensions["temperature_sensor"])
    if n < 2:
        obsa.not_applicable("OBSA-THERM-005", f"{n} temperature sensor: the highest and the "
                            "lowest temperature are one reading, so cooling and heating "
                            "cannot both be due")
        return
    stimuli = []
    for hot in S.sample_indices(obsa, "temperature_sensor", "cooling and heating due"):
        cold = _neighbour(n, hot)
        assert cold is not None
        stimuli.append((S.channel_label(T, hot),
                        lambda hot=hot, cold=cold: _both_due(obsa, hot, cold)))
    S.judge_each_possible(obsa, "OBSA-THERM-005", stimuli,
                          message="cooling and heating both due")


# ----------------------------------------------------------------------------- spread
def _spread_stimulus(h: Harness, index: int, direction: int) -> Stimulus:
    """Sensor ``index`` swept away from the others (``direction`` +1 hotter, −1 colder)
    until the spread crosses the declared limit, then from MARGIN_K beyond it back."""
    limit = float(h.param(TM, "temperature_spread_limit_K"))
    mask = h.bit(TM, "temperature_spread")
    rest = _rest(h)
    loop = _loop(h)
    n = int(h.session.dimensions["temperature_sensor"])
    decoy = _neighbour(n, index) if n >= 3 else None
    drive = Drive(loop, index, decoy, None)
    label = f"{S.channel_label(T, index)} {'hotter' if direction > 0 else 'colder'}"
    # from the rest at the latest: a sweep from below it would start with a spread
    margin = min(MARGIN_K, limit)
    t0 = drive.sweep(rest + direction * limit, direction, margin)
    drive.run_sweep(S.flags_have(mask, "thermal_fault_flags"))
    loop.run(0.05)
    spread = S.channel(loop, "valid_temperature_spread_K")
    t_set = S.first_time(loop, S.flag_set(loop, "thermal_fault_flags", mask), after=t0)
    t_over = S.first_time(loop, spread > limit, after=t0)
    events = {"sweep starts": t0}
    measured: dict[str, float | None] = {"set_threshold_error_K": None, "set_delay_s": None,
                                         "clear_threshold_error_K": None}
    notes: dict[str, str] = {}
    if t_over is not None:
        events["limit exceeded"] = t_over
    if t_set is None:
        notes["clear_threshold_error_K"] = "not measurable: the warning never set"
    else:
        events["warning set"] = t_set
        measured["set_threshold_error_K"] = abs(S.value_at(loop, "valid_temperature_spread_K",
                                                           t_set) - limit)
        measured["set_delay_s"] = 0.0 if t_over is None or t_over > t_set else t_set - t_over
        t1 = drive.sweep(rest + direction * limit, -direction, margin)
        events["sweep back starts"] = t1
        drive.run_sweep(lambda pool: int(pool["thermal_fault_flags"]) & mask == 0)
        loop.run(0.05)
        t_clear = S.first_time(loop, ~S.flag_set(loop, "thermal_fault_flags", mask), after=t1)
        if t_clear is None:
            notes["clear_threshold_error_K"] = "the warning stayed set with the spread back " \
                                               "inside the limit"
        else:
            events["warning cleared"] = t_clear
            measured["clear_threshold_error_K"] = abs(
                S.value_at(loop, "valid_temperature_spread_K", t_clear) - limit)
    beside = "" if decoy is None else f", {S.channel_label(T, decoy)} open (−50 °C, invalid)"
    return Stimulus(label=label, measured=measured, events=events, loop=loop,
                    notes=notes or None,
                    message=f"the others at {rest:g} °C; {label} swept from "
                            f"{margin:g} K inside the limit across it and back at "
                            f"{RAMP_K_PER_S:g} K/s" + beside)


@req("OBSA-THERM-006")
def test_temperature_spread(obsa: Harness) -> None:
    """The first, the last and seeded sensors each made hotter, then colder, than the others
    until the spread crosses the declared limit, and back: the warning sets at the limit and
    clears there (it is not latched)."""
    n = int(obsa.session.dimensions["temperature_sensor"])
    if n < 2:
        obsa.not_applicable("OBSA-THERM-006", f"{n} temperature sensor: no spread to measure")
        return
    stimuli = [_spread_stimulus(obsa, i, d)
               for i in S.sample_indices(obsa, "temperature_sensor", "temperature spread")
               for d in (+1, -1)]
    obsa.judge_each("OBSA-THERM-006", stimuli,
                    message=f"declared temperature_spread_limit_K = "
                            f"{obsa.param(TM, 'temperature_spread_limit_K')} K")


# ----------------------------------------------------------------------------- closed loop
#: the coolant's time constant on the bench (its conductance is C / this), and how far below
#: cooling_off the coolant is: the cells cross cooling_off at (COOLANT_BELOW_K / τ) K/s
COOLANT_TAU_S = 60.0
COOLANT_BELOW_K = 10.0
#: how fast the heaters warm a cell (their power is C times this)
HEATING_K_PER_S = 0.2
#: where the cells start beyond the on threshold (four tolerances of OBSA-THERM-001/003:
#: any module that meets them is due at once)
START_BEYOND_K = MARGIN_K


def _closed_loop(h: Harness, sw: Switch) -> Stimulus:
    """Every cell starts START_BEYOND_K beyond the on threshold with the thermal actuators of
    the bench following the module's requests: the request must rise, bring the cells back
    and be withdrawn at the off threshold."""
    p = h.params(TM)
    on, off = float(p[sw.on_param]), float(p[sw.off_param])
    capacity_Ah = float(h.manifest.pack.capacity_Ah)
    c = chemistry.THERMAL_CAPACITY_J_PER_K_AH * capacity_Ah
    start = on + sw.direction * START_BEYOND_K
    loop = h.run(components=[TM], channels=CHANNELS, ideal_sensors=True,
                 thermal_actuators=True, initial_temperature_degC=start,
                 ambient_degC=start, ambient_gradient_K=0.0,
                 coolant_temperature_degC=off - COOLANT_BELOW_K,
                 coolant_heat_transfer_W_per_K=c / COOLANT_TAU_S,
                 heater_power_W=c * HEATING_K_PER_S)
    if sw.direction > 0:
        watch = COOLANT_TAU_S * math.log((start - off + COOLANT_BELOW_K) / COOLANT_BELOW_K)
    else:
        watch = (off - start) / HEATING_K_PER_S
    watch = 1.5 * watch + 5.0
    t0 = loop.t
    loop.run(JUMP_WATCH_S, until=_request_is(sw.request, True))
    t_on = _edge(loop, sw.request, True, t0) if loop.t_s else None
    events = {"start": t0}
    measured: dict[str, float | None] = {"off_threshold_error_K": None}
    notes: dict[str, str] = {}
    label = "every cell " + ("hot" if sw.direction > 0 else "cold")
    if t_on is None:
        raise PreconditionFailed(f"awaited {sw.request} within {JUMP_WATCH_S:g} s of every "
                                 f"cell at {start:g} °C", blame=sw.on_requirement)
    events["request raised"] = t_on
    loop.run(watch, until=_request_is(sw.request, False))
    loop.run(0.05)
    t_off = _edge(loop, sw.request, False, t_on)
    extreme = S.channel(loop, sw.extreme)
    if t_off is None:
        notes["off_threshold_error_K"] = (
            f"{sw.request} still raised {watch:g} s after it rose, the "
            f"{'highest' if sw.direction > 0 else 'lowest'} temperature at "
            f"{float(extreme[-1]):.2f} °C")
    else:
        events["request withdrawn"] = t_off
        measured["off_threshold_error_K"] = abs(S.value_at(loop, sw.extreme, t_off) - off)
    actuator = (f"coolant at {off - COOLANT_BELOW_K:g} °C (τ {COOLANT_TAU_S:g} s)"
                if sw.direction > 0 else f"heaters ({HEATING_K_PER_S:g} K/s)")
    return Stimulus(label=label, measured=measured, events=events, loop=loop,
                    notes=notes or None,
                    message=f"every cell started at {start:g} °C with the bench's {actuator} "
                            f"following {sw.request}; the "
                            f"{'highest' if sw.direction > 0 else 'lowest'} valid temperature "
                            f"went from {float(extreme[0]):.2f} to {float(extreme[-1]):.2f} °C")


@pytest.mark.parametrize("switch", [
    pytest.param(COOLING, id="cooling", marks=req("OBSA-THERM-002")),
    pytest.param(HEATING, id="heating", marks=req("OBSA-THERM-004")),
])
def test_conditioning_closes_the_loop(obsa: Harness, switch: Switch) -> None:
    """The bench's coolant or heaters follow the module's request: every cell starts beyond
    the on threshold, the request conditions them back and is withdrawn at the off
    threshold, measured on the cells' own temperatures."""
    obsa.judge_each(switch.off_requirement, [_closed_loop(obsa, switch)],
                    message=f"closed thermal loop; declared {switch.off_param} = "
                            f"{obsa.param(TM, switch.off_param)} °C")
