"""Conformance test cases of the basic protection (area PROT).

A switch-per-direction power path is judged on what it does: the bench records whether each
MOSFET really conducts and the current that really flows, and a test case measures the time
from a limit violation to the switch really off, whether the firmware or an analog front end
cut it. The limits come from the module's declarations, the tolerances from the spec.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from conformance.harness.context import Harness, PreconditionFailed, Stimulus
from conformance.harness.loop import ClosedLoop, TraceChannel
from conformance.suite import steps as S

PROT = "protection"
req = pytest.mark.requirement

REPORT_WITHIN_S = 1.0  # the spec's bound on reporting a switch-off (OBSA-PROT-001 … 006)
OTHER_DIRECTION_A = 10.0  # the demand that shows the other direction is available
HELD_OFF_S = 2.0  # how long a latched direction is watched without a reset (OBSA-PROT-008)


# ----------------------------------------------------------------------------- the loop
def _channels(box: list[Any]) -> list[TraceChannel]:
    """What the power path really does (read from the bench in ``box``), and the module's
    commands and flags."""
    return [
        TraceChannel("charge_fet_on", "1", read=lambda _p: float(box[0].hv.charge_fet.closed)),
        TraceChannel("discharge_fet_on", "1",
                     read=lambda _p: float(box[0].hv.discharge_fet.closed)),
        TraceChannel("true_pack_current_A", "A", read=lambda _p: float(box[0].hv.current_A)),
        TraceChannel("charge_fet_cmd", "1", "charge_fet_cmd"),
        TraceChannel("discharge_fet_cmd", "1", "discharge_fet_cmd"),
        TraceChannel("protection_fault_flags", "1", "protection_fault_flags"),
    ]


def powered(h: Harness, current_A: float = 0.0) -> ClosedLoop:
    """A settled loop with close_request raised, both switches on, ``current_A`` demanded."""
    box: list[Any] = [None]
    loop = h.run(channels=_channels(box), ideal_sensors=True)
    box[0] = loop.bench
    loop.set("close_request", True)
    S.settle(loop, 0.3)
    hv = loop.bench.hv
    if not (hv.charge_fet.closed and hv.discharge_fet.closed):
        raise PreconditionFailed(
            "awaited both switches on 0.3 s after close_request on a healthy pack at rest; "
            f"found charge {'on' if hv.charge_fet.closed else 'off'}, discharge "
            f"{'on' if hv.discharge_fet.closed else 'off'} ({S.seen(loop, PROT_SEEN)})")
    loop.bench.set_load_current(current_A)
    S.settle(loop, 0.3)
    return loop


PROT_SEEN = ("charge_fet_cmd", "discharge_fet_cmd", "protection_fault_flags")


def _bit(h: Harness, fault: str) -> int:
    """A fault's bit in protection_fault_flags: the layout of safety_fault_flags."""
    return h.bit(S.SUPERVISOR, fault)


def _switch(direction: str) -> str:
    return f"{direction}_fet_on"


def _off_at(loop: ClosedLoop, direction: str, after: float) -> float | None:
    """First recorded time at or after ``after`` at which the switch really is off."""
    return S.first_time(loop, S.channel(loop, _switch(direction)) < 0.5, after=after)


def _on_at(loop: ClosedLoop, direction: str, after: float) -> float | None:
    return S.first_time(loop, S.channel(loop, _switch(direction)) > 0.5, after=after)


def _other(direction: str) -> str:
    return "discharge" if direction == "charge" else "charge"


def observe_cut(loop: ClosedLoop, quantity: np.ndarray, limit: float, upper: bool,
                direction: str, delay_s: float, after: float, step_s: float) -> S.Trip:
    """The switch-off of ``direction`` after a violation of ``limit``: its reaction runs from
    the violation's first sample to the switch really off, less one step (the switch follows
    its command at the next step); 0 for a cut before the limit."""
    return S.trip_at(loop, quantity, limit, 1 if upper else -1,
                     _off_at(loop, direction, after), delay_s, after, lag_s=step_s)


def _reported(loop: ClosedLoop, mask: int, t_from: float | None, t_cut: float | None) -> int:
    """0 when the fault's bit is set between the violation and 1 s after the cut, else 1."""
    if t_cut is None:
        return 1
    t = S.times(loop)
    window = (t >= (t_from if t_from is not None else t_cut) - 1e-9) & (
        t <= t_cut + REPORT_WITHIN_S + 1e-9)
    return 0 if bool(np.any(S.flag_set(loop, "protection_fault_flags", mask) & window)) else 1


def _other_blocked(loop: ClosedLoop, direction: str) -> int:
    """Demand a small current in the other direction: 1 when none flows."""
    sign = -1.0 if direction == "charge" else 1.0
    loop.bench.set_load_current(sign * OTHER_DIRECTION_A)
    t0 = loop.t
    loop.run(0.3)
    flowing = np.abs(S.channel(loop, "true_pack_current_A")) > 0.5 * OTHER_DIRECTION_A
    return 0 if S.first_time(loop, flowing, after=t0) is not None else 1


# ----------------------------------------------------------------------------- limits
@dataclass(frozen=True)
class Limit:
    """A single-level limit of the protection and how the bench drives it."""

    rid: str
    fault: str
    signal: str | None  # measured array signal to sweep; None: the pack current
    upper: bool
    limit: str  # the limit parameter
    delay: str
    direction: str  # the switch it turns off
    quantity: str  # the recorded channel of the quantity
    error_name: str
    rate: float
    margin: float
    other: bool  # the criteria include other_direction_blocked


V, T = "cell_voltage_V", "cell_temperature_degC"
LIMITS = [
    Limit("OBSA-PROT-001", "cell_overvoltage", V, True, "cell_overvoltage_V",
          "cell_overvoltage_delay_s", "charge", "cell_voltage_max_V", "trip_threshold_error_V",
          0.02, 0.02, True),
    Limit("OBSA-PROT-002", "cell_undervoltage", V, False, "cell_undervoltage_V",
          "cell_undervoltage_delay_s", "discharge", "cell_voltage_min_V",
          "trip_threshold_error_V", 0.02, 0.02, True),
    Limit("OBSA-PROT-003", "charge_overcurrent", None, True, "charge_overcurrent_A",
          "charge_overcurrent_delay_s", "charge", "pack_current_A", "trip_threshold_error_A",
          10.0, 10.0, True),
    Limit("OBSA-PROT-004", "discharge_overcurrent", None, True, "discharge_overcurrent_A",
          "discharge_overcurrent_delay_s", "discharge", "pack_current_A",
          "trip_threshold_error_A", 10.0, 10.0, True),
    Limit("OBSA-PROT-005", "charge_overtemperature", T, True, "charge_temperature_max_degC",
          "temperature_delay_s", "charge", "cell_temperature_max_degC",
          "trip_threshold_error_K", 0.4, 0.4, False),
    Limit("OBSA-PROT-005", "charge_undertemperature", T, False, "charge_temperature_min_degC",
          "temperature_delay_s", "charge", "cell_temperature_min_degC",
          "trip_threshold_error_K", 0.4, 0.4, False),
    Limit("OBSA-PROT-006", "discharge_overtemperature", T, True,
          "discharge_temperature_max_degC", "temperature_delay_s", "discharge",
          "cell_temperature_max_degC", "trip_threshold_error_K", 0.4, 0.4, False),
    Limit("OBSA-PROT-006", "discharge_undertemperature", T, False,
          "discharge_temperature_min_degC", "temperature_delay_s", "discharge",
          "cell_temperature_min_degC", "trip_threshold_error_K", 0.4, 0.4, False),
]


def _sweep(obsa: Harness, lim: Limit, index: int | None) -> Stimulus:
    """Sweep one channel (or the pack current) across the limit; judge the switch-off."""
    level = float(obsa.param(PROT, lim.limit))
    delay = float(obsa.param(PROT, lim.delay))
    dt = obsa.step_period(PROT)
    mask = _bit(obsa, lim.fault)
    if lim.signal is None:  # a current: ramp the demand across the limit
        sign = 1.0 if lim.direction == "charge" else -1.0
        loop = powered(obsa, sign * (level - lim.margin))
        t0 = loop.t
        # a discharge sweep stops short of a declared short-circuit level (the manifest
        # check has it above the over-current limit): that cut is another requirement's
        short = obsa.params(PROT).get("short_circuit_A") if sign < 0 else None
        reach = level + (S.SWEEP_MARGINS - 1) * lim.margin
        if short is not None:
            reach = min(reach, 0.5 * (level + float(short)))
        ramp = S.current_ramp(sign * (level - lim.margin), sign * lim.rate, t0)

        def drive(lp: ClosedLoop) -> None:
            ramp(lp)
            if abs(lp.bench.hv.load_current_A) > reach:
                lp.bench.set_load_current(sign * reach)

        loop.run(S.SWEEP_MARGINS * lim.margin / lim.rate + delay + 0.5, every=drive,
                 until=lambda pool: not pool[f"{lim.direction}_fet_cmd"])
        loop.run(0.1)
        quantity = sign * S.channel(loop, "pack_current_A")
        label = "pack current"
    else:
        assert index is not None
        loop = powered(obsa)
        sweep = S.sweep_measurement(loop, lim.signal, level, 1 if lim.upper else -1, lim.rate,
                                    lim.margin, index)
        t0 = sweep.t0
        loop.run(sweep.duration_s(delay), until=lambda pool: not pool[f"{lim.direction}_fet_cmd"])
        loop.run(0.1)
        quantity = S.measured_quantity(loop, lim.quantity)
        label = S.channel_label(lim.signal, index)
    cut = observe_cut(loop, quantity, level, lim.upper, lim.direction, delay, t0, dt)
    loop.run(REPORT_WITHIN_S)
    measured: dict[str, float | None] = {
        lim.error_name: None if cut.value_at_delay is None else abs(cut.value_at_delay - level),
        "reaction_time_s": cut.reaction_s(dt),
        "fault_not_reported": float(_reported(loop, mask, cut.t_start, cut.t_fault)),
    }
    if lim.other:
        measured["other_direction_blocked"] = (
            None if cut.t_fault is None else float(_other_blocked(loop, lim.direction)))
    events = {}
    if cut.t_start is not None:
        events[f"{label}: limit exceeded"] = cut.t_start
    if cut.t_fault is not None:
        events[f"{label}: {lim.direction} switch off"] = cut.t_fault
    return Stimulus(f"{label} ({lim.fault})", measured, events, loop)


def _limit_test(obsa: Harness, rid: str) -> None:
    stimuli = []
    for lim in (x for x in LIMITS if x.rid == rid):
        if lim.signal is None:
            stimuli.append(_sweep(obsa, lim, None))
            continue
        dimension = S.signal_dimension(obsa, lim.signal)
        for index in S.sample_indices(obsa, dimension, f"{rid} {lim.fault}", others=1):
            stimuli.append(_sweep(obsa, lim, index))
    obsa.judge_each(rid, stimuli, message="swept across the declared limit; judged on the "
                                          "switch really off")


@pytest.mark.parametrize("rid", [pytest.param(rid, marks=req(rid), id=rid) for rid in
                                 dict.fromkeys(lim.rid for lim in LIMITS)])
def test_limit_switches_its_direction_off(obsa: Harness, rid: str) -> None:
    """OBSA-PROT-001 … 006: every limit of the requirement swept across on the first, the
    last and a sampled channel (or the pack current), judged on the switch really off."""
    _limit_test(obsa, rid)


# ----------------------------------------------------------------------------- release
def _release(obsa: Harness, lim: Limit, hysteresis: str, index: int) -> Stimulus:
    """Hold one channel just beyond the limit until the switch is off, then bring it back
    slowly through the hysteresis band and past it."""
    assert lim.signal is not None
    level = float(obsa.param(PROT, lim.limit))
    hyst = float(obsa.param(PROT, hysteresis))
    delay = float(obsa.param(PROT, lim.delay))
    d = 1 if lim.upper else -1
    # the limit's threshold tolerance (its requirement's criterion)
    tol = float(next(c.value for c in obsa.spec.requirements[lim.rid].acceptance
                     if c.name == lim.error_name) or 0.0)
    rate = lim.rate
    loop = powered(obsa)
    hold = S.true_value(loop, lim.signal, index)
    loop.bench.inject(S.Offset(signal=lim.signal, index=index, start_s=loop.t,
                              value=level + d * 2 * lim.margin - hold))
    t0 = loop.t
    loop.run(delay + 1.0, until=lambda pool: not pool[f"{lim.direction}_fet_cmd"])
    loop.run(0.2)
    t_cut = _off_at(loop, lim.direction, t0)
    label = S.channel_label(lim.signal, index)
    if t_cut is None:
        raise PreconditionFailed(
            f"awaited the {lim.direction} switch off within {delay + 1.0:g} s of {label} "
            f"held {2 * lim.margin:g} beyond the declared {lim.limit} = {level:g} "
            f"({S.seen(loop, PROT_SEEN)})", blame=lim.rid)
    t1 = loop.t
    loop.bench.inject(S.Ramp(signal=lim.signal, index=index, start_s=t1,
                              rate=-d * rate))
    span = 2 * lim.margin + hyst + 2 * tol + 4 * lim.margin
    loop.run(span / rate + 1.5)
    q = S.measured_quantity(loop, lim.quantity)
    t_on = _on_at(loop, lim.direction, t1)
    back = q <= level - hyst if lim.upper else q >= level + hyst
    t_back = S.first_time(loop, back, after=t1)
    measured: dict[str, float | None] = {"released_early": 0.0, "release_delay_s": None}
    events = {f"{label}: {lim.direction} switch off": t_cut}
    if t_on is not None:
        events[f"{label}: {lim.direction} switch on"] = t_on
        value = S.value_at(loop, lim.quantity, t_on - obsa.step_period(PROT))
        early = value > level - hyst + tol if lim.upper else value < level + hyst - tol
        measured["released_early"] = float(early)
        if t_back is not None:
            measured["release_delay_s"] = max(0.0, t_on - t_back - obsa.step_period(PROT))
    if t_back is not None:
        events[f"{label}: back by the hysteresis"] = t_back
    return Stimulus(f"{label} ({lim.fault})", measured, events, loop)


@req("OBSA-PROT-007")
def test_voltage_and_temperature_faults_release_with_hysteresis(obsa: Harness) -> None:
    by_fault = {lim.fault: lim for lim in LIMITS}
    rid = "OBSA-PROT-007"
    stimuli = [
        _release(obsa, by_fault["cell_overvoltage"], "cell_overvoltage_hysteresis_V",
                 S.seeded_index(obsa, "cell", f"{rid} over")),
        _release(obsa, by_fault["cell_undervoltage"], "cell_undervoltage_hysteresis_V",
                 S.seeded_index(obsa, "cell", f"{rid} under")),
        _release(obsa, by_fault["charge_overtemperature"], "temperature_hysteresis_K",
                 S.seeded_index(obsa, "temperature_sensor", f"{rid} hot")),
    ]
    obsa.judge_each(rid, stimuli, message="a channel held beyond its limit, then brought back "
                                          "through the hysteresis band")


# ----------------------------------------------------------------------------- latching
def _latched_cut(obsa: Harness, direction: str, demand_A: float, limit: str,
                 delay: float, rid: str) -> tuple[ClosedLoop, float]:
    """Demand ``demand_A`` until the ``direction`` switch is off; returns the cut time."""
    loop = powered(obsa)
    t0 = loop.t
    loop.bench.set_load_current(demand_A)
    loop.run(delay + 0.5, until=lambda pool: not pool[f"{direction}_fet_cmd"])
    loop.run(0.1)
    t_cut = _off_at(loop, direction, t0)
    if t_cut is None:
        raise PreconditionFailed(
            f"awaited the {direction} switch off within {delay + 0.5:g} s of {abs(demand_A):g} A "
            f"demanded (declared {limit}); ({S.seen(loop, PROT_SEEN)})", blame=rid)
    loop.bench.set_load_current(0.0)
    return loop, t_cut


def _held_until_reset(obsa: Harness, direction: str, demand_A: float, limit: str,
                      delay_param: str, blame: str) -> Stimulus:
    delay = float(obsa.param(PROT, delay_param))
    label = f"{direction} over-current"
    loop, t_cut = _latched_cut(obsa, direction, demand_A, limit, delay, blame)
    loop.run(HELD_OFF_S)
    t_early = _on_at(loop, direction, t_cut)
    t_reset = S.reset_faults(loop)
    loop.run(0.5)
    t_on = _on_at(loop, direction, t_reset)
    events = {f"{label}: switch off": t_cut, f"{label}: reset": t_reset}
    if t_on is not None:
        events[f"{label}: switch on"] = t_on
    return Stimulus(label, {
        "released_without_reset": float(t_early is not None),
        "release_after_reset_s": None if t_on is None else max(
            0.0, t_on - t_reset - obsa.step_period(PROT)),
    }, events, loop)


@req("OBSA-PROT-008")
def test_overcurrent_faults_stay_until_reset(obsa: Harness) -> None:
    charge = float(obsa.param(PROT, "charge_overcurrent_A"))
    discharge = float(obsa.param(PROT, "discharge_overcurrent_A"))
    stimuli = [
        _held_until_reset(obsa, "charge", charge + 20.0, "charge_overcurrent_A",
                          "charge_overcurrent_delay_s", "OBSA-PROT-003"),
        _held_until_reset(obsa, "discharge", -(discharge + 20.0), "discharge_overcurrent_A",
                          "discharge_overcurrent_delay_s", "OBSA-PROT-004"),
    ]
    obsa.judge_each("OBSA-PROT-008", stimuli,
                    message="an over-current cut, the current gone, 2 s without and then "
                            "with a reset request")


# ----------------------------------------------------------------------------- short circuit
@req("OBSA-PROT-009")
def test_short_circuit_is_cut_at_once(obsa: Harness) -> None:
    threshold = float(obsa.param(PROT, "short_circuit_A"))
    dt = obsa.step_period(PROT)
    loop = powered(obsa, -OTHER_DIRECTION_A)
    t0 = loop.t
    demand = -1.5 * threshold
    loop.bench.set_load_current(demand)
    loop.run(0.5, until=lambda pool: not pool["discharge_fet_cmd"])
    loop.run(0.1)
    current = -S.channel(loop, "pack_current_A")
    cut = observe_cut(loop, current, threshold, True, "discharge", 0.0, t0, dt)
    loop.bench.set_load_current(0.0)
    loop.run(HELD_OFF_S)
    t_on = _on_at(loop, "discharge", cut.t_fault) if cut.t_fault is not None else None
    events = {"short circuit": t0}
    if cut.t_fault is not None:
        events["discharge switch off"] = cut.t_fault
    obsa.judge("OBSA-PROT-009", {
        "reaction_time_s": cut.reaction_s(dt),
        "fault_not_reported": float(_reported(loop, _bit(obsa, "discharge_overcurrent"),
                                              cut.t_start, cut.t_fault)),
        "released_without_reset": None if cut.t_fault is None else float(t_on is not None),
    }, events=events, message=f"{abs(demand):g} A demanded from a pack discharging "
                              f"{OTHER_DIRECTION_A:g} A")


# ----------------------------------------------------------------------------- invalid
def _invalid(obsa: Harness, signal: str, fault: str, index: int) -> Stimulus:
    delay = float(obsa.param(PROT, "invalid_measurement_delay_s"))
    dt = obsa.step_period(PROT)
    loop = powered(obsa)
    t0 = loop.t
    loop.bench.inject(S.OpenWire(signal=signal, index=index, start_s=t0))
    loop.run(delay + 1.0, until=lambda pool: not (pool["charge_fet_cmd"]
                                                  or pool["discharge_fet_cmd"]))
    loop.run(0.1)
    counter = f"{signal.rsplit('_', 1)[0]}_invalid_count"
    invalid = S.channel(loop, counter) > 0.5
    both_off = (S.channel(loop, "charge_fet_on") < 0.5) & (S.channel(loop, "discharge_fet_on")
                                                            < 0.5)
    t_cut = S.first_time(loop, both_off, after=t0)
    t_start = S.first_time(loop, invalid, after=t0)
    loop.run(REPORT_WITHIN_S)
    limit_bits = sum(_bit(obsa, f) for f in (
        "cell_overvoltage", "cell_undervoltage", "charge_overtemperature",
        "charge_undertemperature", "discharge_overtemperature", "discharge_undertemperature"))
    false_faults = S.flag_set(loop, "protection_fault_flags", limit_bits) & (S.times(loop) >= t0)
    label = S.channel_label(signal, index)
    events = {f"{label}: open wire": t0}
    if t_cut is not None:
        events[f"{label}: both switches off"] = t_cut
    return Stimulus(label, {
        "reaction_time_s": None if t_cut is None or t_start is None else t_cut - t_start - dt,
        "fault_not_reported": float(_reported(loop, _bit(obsa, fault), t_start, t_cut)),
        "false_limit_faults": float(bool(np.any(false_faults))),
    }, events, loop)


@req("OBSA-PROT-010")
def test_invalid_measurement_switches_both_off(obsa: Harness) -> None:
    rid = "OBSA-PROT-010"
    stimuli = [_invalid(obsa, V, "cell_voltage_invalid",
                        S.seeded_index(obsa, "cell", f"{rid} voltage")),
               _invalid(obsa, T, "cell_temperature_invalid",
                        S.seeded_index(obsa, "temperature_sensor", f"{rid} temperature"))]
    obsa.judge_each(rid, stimuli, message="an open wire on one cell voltage channel, then on "
                                          "one temperature sensor")

