"""Conformance test cases of the measurement hardware abstraction (area MEAS: the current
sensor, the isolation monitor and the contactor driver).

Each block under test reads the plant side: the true quantities at its input pins
(``Bench.plant_inputs()``), with the bench's pin faults (a sensor that delivers nothing)
acting there; only the block under test runs, the test case drives the plant. Accuracy is
judged on every step at many operating points that include both ends of the range (the
largest currents the module is declared to carry, currents near zero after large ones of
either sign, both ends of the chemistry's window, the DC link while it precharges and
discharges, the insulation from 10 kΩ to 10 MΩ) and seeded points in between, against the
module's declared accuracies. A measurement may have been taken anywhere in the last step
period: it is compared with the true value over that period (between its values at the step
before and at the step), less half the signal's resolution.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pytest

from conformance.bench.faults import NoReading
from conformance.harness.context import Harness
from conformance.harness.loop import ClosedLoop
from conformance.suite import steps as S

req = pytest.mark.requirement

CS = "current_sensor"
IMD = "isolation_monitor"
DRV = "contactor_driver"
SUP = "safety_supervisor"

#: operating points besides both ends of a range, drawn from the seed
SEEDED_POINTS = 3
#: steps measured at each operating point
MEASURED_STEPS = 30
#: the current range a current sensor is judged on, as fractions of the declared largest
#: charge and discharge currents (OBSA-MEAS-006)
CURRENT_RANGE = (0.1, 1.0)
#: seconds a precharge of the bench's DC link is given before the path closes anyway
PRECHARGE_S = 1.5
#: dropouts of the current sensor's input, and their longest duration in timeouts of the
#: safety supervisor (OBSA-MEAS-009)
DROPOUTS = 3
DROPOUT_TIMEOUTS = 3.0
#: the insulation range (OBSA-MEAS-011) and the time a changed resistance is given
INSULATION_RANGE_OHM = (1.0e4, 1.0e7)
INSULATION_SETTLE_S = 10.0
INSULATION_MEASURED_S = 2.0
#: the contactors, each commanded in turn; steps each command is held at least
CONTACTORS = ("main_positive", "main_negative", "precharge")
HOLD_STEPS = (5, 15)


# ----------------------------------------------------------------------------- helpers
def _half_resolution(h: Harness, signal: str) -> float:
    resolution = h.spec.signals[signal].resolution
    return 0.0 if resolution is None else 0.5 * float(resolution)


def _beyond(measured: float, before: float, now: float) -> float:
    """How far ``measured`` lies outside the true values of the last step period (the
    interval between the value at the step before and at the step); NaN counts as
    infinitely far."""
    value = float(measured)
    if math.isnan(value):
        return math.inf
    low, high = min(before, now), max(before, now)
    return max(low - value, value - high, 0.0)


@dataclass
class Worst:
    """The largest value of one measured quantity, and when it occurred."""

    value: float = 0.0
    t: float = math.nan
    samples: int = 0
    notes: list[str] = field(default_factory=list)

    def see(self, value: float, t: float) -> None:
        self.samples += 1
        if not value <= self.value:  # NaN counts as the worst
            self.value = value if math.isfinite(value) else math.inf
            self.t = t

    def events(self, label: str) -> dict[str, float]:
        return {} if math.isnan(self.t) else {label: self.t}


class Pins:
    """The true values at the input pins of the block under test, at the step before and at
    the last step."""

    def __init__(self, loop: ClosedLoop, signals: tuple[str, ...]) -> None:
        self.loop = loop
        self.signals = signals
        self.before: dict[str, float] = {}
        self.now: dict[str, float] = {}

    def step(self) -> None:
        loop = self.loop
        pool = loop.seen
        # the pool still holds the plant inputs of the step before (none before the first)
        before = {s: float(pool[s]) for s in self.signals} if loop.steps else None
        loop.step()
        self.now = {s: float(pool[s]) for s in self.signals}
        self.before = before if before is not None else self.now


def _close_path(loop: ClosedLoop) -> None:
    """Precharge the bench's DC link (main negative and precharge), then close main positive
    and open precharge, as a contactor manager would."""
    loop.set("main_negative_close_cmd", True)
    loop.set("precharge_close_cmd", True)
    loop.run(PRECHARGE_S, until=lambda p: bool(p["true_precharge_closed"]) and abs(
        float(p["true_link_voltage_V"]) - float(p["true_pack_voltage_V"])) < 1.0)
    loop.set("main_positive_close_cmd", True)
    loop.run(0.1, until=lambda p: bool(p["true_main_positive_closed"]))
    loop.set("precharge_close_cmd", False)
    loop.step()
    if not loop.bench.truth(arrays=False)["true_main_positive_closed"]:
        raise S.PreconditionFailed("the bench's HV path did not close")


def _open_path(loop: ClosedLoop) -> None:
    for name in CONTACTORS:
        loop.set(f"{name}_close_cmd", False)


def current_range(h: Harness) -> tuple[float, float]:
    """The largest charge and discharge currents the module is declared to carry: the
    safety supervisor's MSL limits."""
    return (float(h.param(SUP, "charge_current_max_msl_A")),
            float(h.param(SUP, "discharge_current_max_msl_A")))


def _gain_points(h: Harness) -> list[float]:
    """Currents of OBSA-MEAS-006: both ends of the range in both directions and seeded
    fractions in between, in a seeded order (A, positive = charge)."""
    rng = S.seeded_rng(h, "current gain points")
    charge, discharge = current_range(h)
    low, high = CURRENT_RANGE
    fractions = [low, high, *(float(x) for x in rng.uniform(low, high, SEEDED_POINTS))]
    points = [f * charge for f in fractions] + [-f * discharge for f in fractions]
    points = [p for p in points if p != 0.0]  # a direction declared to carry nothing
    return [points[i] for i in rng.permutation(len(points))]


def _sign_points(h: Harness) -> list[float]:
    """Currents of OBSA-MEAS-008, alternating in sign: the smallest magnitude the criterion
    counts (just above twice the declared offset), the ends of the gain range and seeded
    magnitudes in between (log-uniform: most of them small)."""
    rng = S.seeded_rng(h, "current sign points")
    offset = float(h.param(CS, "current_offset_error_A"))
    resolution = 2 * _half_resolution(h, "pack_current_A")
    smallest = 2 * offset + max(0.5 * offset, 10 * resolution, 0.01)
    largest = max(current_range(h))  # the sign is the sensor's, whatever a direction carries
    if largest <= smallest:
        return []
    magnitudes = [smallest, max(CURRENT_RANGE[0] * largest, smallest), largest,
                  *(float(x) for x in np.exp(rng.uniform(math.log(smallest), math.log(largest),
                                                         2 * SEEDED_POINTS)))]
    magnitudes = [magnitudes[i] for i in rng.permutation(len(magnitudes))]
    sign = 1.0 if rng.random() < 0.5 else -1.0
    points = []
    for m in magnitudes:  # each magnitude in both directions, the sign alternating
        points += [sign * m, -sign * m]
    return points


def _cs_loop(h: Harness) -> tuple[ClosedLoop, Pins]:
    loop = h.run(components=[CS])
    return loop, Pins(loop, ("true_pack_current_A", "true_pack_voltage_V",
                             "true_link_voltage_V"))


# ----------------------------------------------------------------------------- current
@req("OBSA-MEAS-006")
def test_current_gain_error(obsa: Harness) -> None:
    """Both ends of the current range (10 % and 100 % of the declared largest charge and
    discharge currents) and seeded points in between, in a seeded order, each held for many
    steps: the largest relative error beyond the declared offset."""
    offset = float(obsa.param(CS, "current_offset_error_A"))
    half = _half_resolution(obsa, "pack_current_A")
    points = _gain_points(obsa)
    if not points:
        obsa.not_applicable("OBSA-MEAS-006", "the module declares no current in either "
                            "direction (charge_current_max_msl_A and "
                            "discharge_current_max_msl_A are 0): no range to judge the gain on")
        return
    loop, pins = _cs_loop(obsa)
    _close_path(loop)
    worst = Worst()
    for current in points:
        loop.bench.set_load_current(current)
        for _ in range(MEASURED_STEPS):
            pins.step()
            true_now = pins.now["true_pack_current_A"]
            err = _beyond(loop.seen["pack_current_A"], pins.before["true_pack_current_A"],
                          true_now)
            worst.see(max(err - offset - half, 0.0) / abs(true_now), loop.t_s[-1])
    charge, discharge = current_range(obsa)
    obsa.judge("OBSA-MEAS-006", {"current_gain_error": worst.value},
               message=f"{len(points)} currents from {CURRENT_RANGE[0]:.0%} to "
                       f"{CURRENT_RANGE[1]:.0%} of the declared {charge:g} A charge and "
                       f"{discharge:g} A discharge (both ends and seeded ones), "
                       f"{worst.samples} samples",
               events=worst.events("largest error"))


@req("OBSA-MEAS-007")
def test_current_offset_error(obsa: Harness) -> None:
    """Zero true current with the HV path open, and on the closed path after the largest
    charge current, after the largest discharge current and after seeded currents (a
    remanent offset), each for many steps: the largest reading."""
    loop, pins = _cs_loop(obsa)
    worst = Worst()
    charge, discharge = current_range(obsa)
    rng = S.seeded_rng(obsa, "current offset points")
    before = [charge, -discharge, *(float(x) for x in rng.uniform(-discharge, charge,
                                                                  SEEDED_POINTS))]

    def measure_zero() -> None:
        for _ in range(MEASURED_STEPS):
            pins.step()
            if pins.now["true_pack_current_A"] == 0.0 == pins.before["true_pack_current_A"]:
                worst.see(abs(float(loop.seen["pack_current_A"])), loop.t_s[-1])

    measure_zero()  # the path open
    _close_path(loop)
    for current in before:
        loop.bench.set_load_current(current)
        loop.run(0.1)
        loop.bench.set_load_current(0.0)
        measure_zero()
    obsa.judge("OBSA-MEAS-007", {"current_offset_A": worst.value},
               message=f"zero true current with the path open and after {len(before)} "
                       f"currents (the largest charge and discharge and seeded ones), "
                       f"{worst.samples} samples",
               events=worst.events("largest reading"))


@req("OBSA-MEAS-008")
def test_current_sign(obsa: Harness) -> None:
    """Currents alternating in sign, from just above twice the declared offset to the
    largest the module is declared to carry, each held for many steps: the samples whose
    sign is the opposite of the true current's over the whole last step period."""
    offset = float(obsa.param(CS, "current_offset_error_A"))
    points = _sign_points(obsa)
    if not points:
        obsa.not_applicable("OBSA-MEAS-008", f"the largest current declared, "
                            f"{max(current_range(obsa)):g} A, is not above twice the declared "
                            f"offset ({offset:g} A): no current whose sign the criterion counts")
        return
    loop, pins = _cs_loop(obsa)
    _close_path(loop)
    errors, counted, t_first = 0, 0, math.nan
    for current in points:
        loop.bench.set_load_current(current)
        for _ in range(MEASURED_STEPS):
            pins.step()
            a, b = pins.before["true_pack_current_A"], pins.now["true_pack_current_A"]
            if min(abs(a), abs(b)) <= 2 * offset:
                continue
            counted += 1
            measured = float(loop.seen["pack_current_A"])
            if all(measured * x < 0 for x in (a, b)):  # zero has no sign: not counted
                errors += 1
                t_first = loop.t_s[-1] if errors == 1 else t_first
    obsa.judge("OBSA-MEAS-008", {"sign_errors": errors},
               message=f"{len(points)} currents alternating in sign, |I| from "
                       f"{min(abs(p) for p in points):.3g} A to {max(abs(p) for p in points):g} A, "
                       f"{counted} samples counted",
               events={} if math.isnan(t_first) else {"first wrong sign": t_first})


@req("OBSA-MEAS-009")
def test_current_freshness(obsa: Harness) -> None:
    """A current that changes on every step, and the sensor's input delivering nothing
    for seeded windows (one step to a few of the safety supervisor's current-sensor
    timeouts): current_sensor_age_s against the time since the input last delivered."""
    rng = S.seeded_rng(obsa, "current freshness")
    step = obsa.step_period(CS)
    longest = max(DROPOUT_TIMEOUTS * float(obsa.param(SUP, "current_sensor_timeout_s")),
                  2 * step)
    loop, pins = _cs_loop(obsa)
    _close_path(loop)
    charge, discharge = current_range(obsa)
    t = loop.t
    windows = []
    for _ in range(DROPOUTS):
        start = t + float(rng.uniform(0.05, 0.3))
        length = step * int(rng.integers(1, max(2, round(longest / step)) + 1))
        windows.append((start, start + length))
        loop.bench.inject(NoReading(signal="true_pack_current_A", start_s=start,
                                    end_s=start + length))
        t = start + length
    end = t + 0.3
    worst = Worst()
    last_fresh: float | None = None
    while loop.t < end:
        loop.bench.set_load_current(float(rng.uniform(-discharge, charge)) * 0.5)
        pins.step()
        now = loop.t_s[-1]
        if not math.isnan(pins.now["true_pack_current_A"]) or last_fresh is None:
            last_fresh = now
        worst.see(abs(float(loop.seen["current_sensor_age_s"]) - (now - last_fresh)), now)
    obsa.judge("OBSA-MEAS-009", {"age_error_s": worst.value},
               message="dropouts of the sensor's input at "
                       + ", ".join(f"{a:.2f} … {b:.2f} s" for a, b in windows)
                       + f"; age compared on {worst.samples} steps",
               events={f"dropout {i + 1}": a for i, (a, _) in enumerate(windows)}
               | worst.events("largest age error"))


# ----------------------------------------------------------------------------- voltages
@req("OBSA-MEAS-010")
def test_pack_and_link_voltage(obsa: Harness) -> None:
    """The pack at both ends of the chemistry's window and at seeded states of charge, with
    the path open (link discharged), precharging, closed at currents of both signs, and
    opened again (the link discharging): the largest errors of both voltages. The currents
    are seeded, up to 1 C and the declared largest currents, so that the terminal voltage
    stays a battery's."""
    half = _half_resolution(obsa, "pack_voltage_V"), _half_resolution(obsa, "link_voltage_V")
    loop, pins = _cs_loop(obsa)
    rng = S.seeded_rng(obsa, "pack and link voltage")
    charge, discharge = current_range(obsa)
    one_c = float(loop.bench.config.capacity_Ah)  # 1 C: the pack stays in its window
    socs = [0.0, 1.0, *(float(x) for x in rng.uniform(0.0, 1.0, SEEDED_POINTS))]
    pack, link = Worst(), Worst()

    def measure(steps: int = MEASURED_STEPS) -> None:
        for _ in range(steps):
            pins.step()
            t = loop.t_s[-1]
            for worst, name, h in ((pack, "pack_voltage_V", half[0]),
                                   (link, "link_voltage_V", half[1])):
                true = f"true_{name}"
                err = _beyond(loop.seen[name], pins.before[true], pins.now[true])
                worst.see(max(err - h, 0.0), t)

    for soc in [socs[i] for i in rng.permutation(len(socs))]:
        loop.bench.set_cell_soc(soc)
        measure()  # the path open
        loop.set("main_negative_close_cmd", True)
        loop.set("precharge_close_cmd", True)
        measure(loop.bench.clock.steps_for(PRECHARGE_S))
        loop.set("main_positive_close_cmd", True)
        measure(5)
        loop.set("precharge_close_cmd", False)
        for current in (float(rng.uniform(0.1, 1.0)) * min(charge, one_c),
                        -float(rng.uniform(0.1, 1.0)) * min(discharge, one_c), 0.0):
            loop.bench.set_load_current(current)
            measure()
        _open_path(loop)
        measure(loop.bench.clock.steps_for(0.5))
    obsa.judge("OBSA-MEAS-010", {"pack_voltage_error_V": pack.value,
                                 "link_voltage_error_V": link.value},
               message=f"{len(socs)} states of charge (empty, full and seeded), each with the "
                       f"path open, precharging, closed at currents of both signs and opened "
                       f"again; {pack.samples} samples",
               events=pack.events("largest pack error") | link.events("largest link error"))


# ----------------------------------------------------------------------------- insulation
@req("OBSA-MEAS-011")
def test_insulation_accuracy(obsa: Harness) -> None:
    """Both ends of 10 kΩ … 10 MΩ and seeded resistances in between (log-uniform), in a
    seeded order, each measured for a while once the settling time has passed: the largest
    relative error."""
    rng = S.seeded_rng(obsa, "insulation points")
    low, high = INSULATION_RANGE_OHM
    points = [low, high, *(float(x) for x in np.exp(rng.uniform(math.log(low), math.log(high),
                                                                SEEDED_POINTS)))]
    points = [points[i] for i in rng.permutation(len(points))]
    loop = obsa.run(components=[IMD], dt_s=obsa.step_period(IMD))
    worst = Worst()
    for ohm in points:
        loop.bench.set_insulation(ohm)
        loop.run(INSULATION_SETTLE_S)
        for _ in range(loop.bench.clock.steps_for(INSULATION_MEASURED_S)):
            loop.step()
            measured = float(loop.seen["insulation_resistance_ohm"])
            err = abs(measured - ohm) / ohm
            worst.see(err if not math.isnan(err) else math.inf, loop.t_s[-1])
    obsa.judge("OBSA-MEAS-011", {"insulation_relative_error": worst.value},
               message=f"{len(points)} insulation resistances from {low:g} to {high:g} Ω "
                       f"(both ends and seeded ones), each measured {INSULATION_MEASURED_S:g} s "
                       f"after {INSULATION_SETTLE_S:g} s; {worst.samples} samples",
               events=worst.events("largest error"))


# ----------------------------------------------------------------------------- contactor driver
def _longest_disagreement(flags: np.ndarray, step_s: float) -> tuple[float, int]:
    """The longest run of True in ``flags`` in seconds (steps × step period) and its start."""
    longest, start, run_start = 0, -1, -1
    for k, f in enumerate(flags):
        if f:
            if run_start < 0:
                run_start = k
            if k - run_start + 1 > longest:
                longest, start = k - run_start + 1, run_start
        else:
            run_start = -1
    return longest * step_s, start


@req("OBSA-MEAS-012")
def test_contactor_driver(obsa: Harness) -> None:
    """Each contactor in turn (seeded order), closed and opened at seeded instants and held
    for seeded times, then all of them together: the longest time a coil output disagrees
    with its command and an auxiliary-contact feedback with the true contact state."""
    rng = S.seeded_rng(obsa, "contactor driver")
    step = obsa.step_period(DRV)
    loop = obsa.run(components=[DRV])
    coil_off: list[bool] = []
    fb_off: list[bool] = []
    what: list[str] = []

    def hold() -> None:
        for _ in range(int(rng.integers(HOLD_STEPS[0], HOLD_STEPS[1] + 1))):
            loop.step()
            p = loop.seen
            coil = [name for name in CONTACTORS
                    if bool(p[f"{name}_coil_on"]) != bool(p[f"{name}_close_cmd"])]
            fb = [name for name in CONTACTORS
                  if bool(p[f"{name}_closed_fb"]) != bool(p[f"true_{name}_closed"])]
            coil_off.append(bool(coil))
            fb_off.append(bool(fb))
            what.append(", ".join(coil + fb))

    order = [CONTACTORS[i] for i in rng.permutation(len(CONTACTORS))]
    hold()
    for name in order:
        loop.set(f"{name}_close_cmd", True)
        hold()
        hold()
        loop.set(f"{name}_close_cmd", False)
        hold()
        hold()
    for name in order:  # all of them together, one after the other
        loop.set(f"{name}_close_cmd", True)
        hold()
    hold()
    _open_path(loop)
    hold()
    hold()
    coil_s, coil_k = _longest_disagreement(np.asarray(coil_off), step)
    fb_s, fb_k = _longest_disagreement(np.asarray(fb_off), step)
    events = {}
    if coil_k >= 0:
        events[f"coil disagrees ({what[coil_k]})"] = loop.t_s[coil_k]
    if fb_k >= 0:
        events[f"feedback disagrees ({what[fb_k]})"] = loop.t_s[fb_k]
    obsa.judge("OBSA-MEAS-012", {"coil_delay_s": coil_s, "feedback_delay_s": fb_s},
               message=f"each contactor in turn ({', '.join(order)}) closed and opened at "
                       f"seeded instants, then all together; {len(coil_off)} steps",
               events=events)

