"""Steps of the safety supervisor's scenarios (area SAFE).

A When step maps its sentence to the test case it describes and runs it (``run_case``).
Where a family of cases shares one sentence (a Scenario Outline), the step checks what the
sentence states — parameter names, rates, margins, directions, bench states — against the
case's own data (``LIMIT_KINDS``, module constants) and raises :class:`SuiteError` when they
disagree. The checks themselves are the test cases'; no step measures or judges.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

from conformance.gherkin.steps import SuiteError, run_case, when, when_runs
from conformance.suite import steps as S
from conformance.suite.test_long_runs import LATE_CLOCKS, SWEEP_MARGIN, SWEEP_RATE
from conformance.suite.test_safety_supervisor import (
    FRONT_END_DRIFT_S,
    FRONT_END_SWEEP,
    FRONT_ENDS,
    LIMIT_KINDS,
    PLAUSIBILITY_RATE_V_S,
    SUP,
    TEMPERATURE_RSL_SWEEP,
    VOLTAGE_RSL_SWEEP,
    LimitKind,
    RslSweep,
)

MODULE = "test_safety_supervisor"
READINGS = "test_readings"
SEQUENCES = "test_sequences"
LONG_RUNS = "test_long_runs"

#: how the sentences name the measured array signals, their units and channels
QUANTITY = {"the cell voltage": "cell_voltage_V", "the cell temperature": "cell_temperature_degC"}
UNIT = {"cell_voltage_V": "V", "cell_temperature_degC": "K"}
CHANNELS = {"cells": "cell", "temperature sensors": "temperature_sensor"}
#: the current a test case's bench carries while charging or discharging (steps.start)
RUNNING_A = inspect.signature(S.start).parameters["current_A"].default
STATE = {"at rest": "rest",
         f"the HV path closed and the pack charged at {RUNNING_A:g} A": "charge"}


def _mismatch(key: str, said: str, does: str) -> SuiteError:
    return SuiteError(f"the scenario says {said}, but the test case {key} {does}")


def _kind_of(context: Any, msl: str) -> LimitKind:
    """The limit kind whose MSL parameter the sentence names."""
    kinds = [k for k in LIMIT_KINDS if k.limits(context.obsa).levels.msl == msl]
    if not kinds:
        raise SuiteError(f"'{msl}' is no MSL parameter of the {SUP}")
    return kinds[0]


def _check_sampled(key: str, channels: str) -> None:
    if S.SAMPLED_OTHERS != 2:
        raise _mismatch(key, f"the first, the last and two sampled {channels}",
                        f"samples {S.SAMPLED_OTHERS} besides the first and the last")


def _swept_family(context: Any, family: dict[str, tuple[str, str]], what: str, rsl: str,
                  direction: str, swept: str, channels: str, said: RslSweep | None,
                  sweep: RslSweep) -> None:
    """Run the case of ``family`` (RSL parameter → its direction and case key) whose RSL the
    sentence names, once the sentence's direction, sweep (``said``; None: as far beyond as
    inside is no sweep of the suite) and sampled channels are the case's."""
    if rsl not in family:
        raise SuiteError(f"no {what} test case crosses '{rsl}' (they cross "
                         f"{', '.join(family)})")
    expected, key = family[rsl]
    if direction != expected:
        raise _mismatch(key, f"swept {direction}", f"sweeps the {swept} {expected}")
    if said is None or not all(math.isclose(a, b) for a, b in zip(
            (said.margin, said.rate, said.hold_s), (sweep.margin, sweep.rate, sweep.hold_s),
            strict=True)):
        raise _mismatch(key, f"the sweep {said}", f"sweeps as {sweep}")
    _check_sampled(key, channels)
    run_case(context, key)


# ----------------------------------------------------------------------------- MSL faults
@when("{quantity} is swept {direction} across the declared {msl} from {margin:g} {unit} inside "
      "it at {rate:g} {rate_unit} per second, {state}, on the first, the last and two sampled "
      "{channels}, one by one")
def msl_sweep(context: Any, quantity: str, direction: str, msl: str, margin: float, unit: str,
              rate: float, rate_unit: str, state: str, channels: str) -> None:
    """The MSL family on a measured cell quantity: the limit is the one whose MSL parameter
    the sentence names; what the sentence says of the sweep must be that case's."""
    kind = _kind_of(context, msl)
    key = f"{MODULE}::test_msl_fault[{kind.fault}]"
    if kind.signal is None:
        raise _mismatch(key, f"{quantity} is swept", "ramps the pack current")
    expected = "up" if kind.direction > 0 else "down"
    said = (QUANTITY.get(quantity), direction, margin, unit, rate, rate_unit, STATE.get(state),
            CHANNELS.get(channels))
    does = (kind.signal, expected, kind.margin, UNIT[kind.signal], kind.rate, UNIT[kind.signal],
            kind.mode, S.signal_dimension(context.obsa, kind.signal))
    if said != does:
        raise _mismatch(key, f"{quantity} {direction} from {margin:g} {unit} at {rate:g} "
                             f"{rate_unit}/s, {state}, on {channels}",
                        f"sweeps {kind.signal} {expected} from {kind.margin:g} at "
                        f"{kind.rate:g}/s, mode {kind.mode}, on its "
                        f"{S.signal_dimension(context.obsa, kind.signal)} channels")
    _check_sampled(key, channels)
    run_case(context, key)


@when("the {current} current, the HV path closed, is ramped up across the declared {msl} from "
      "{margin:g} A below it at {rate:g} A per second")
def msl_current_ramp(context: Any, current: str, msl: str, margin: float, rate: float) -> None:
    """The MSL family on the pack current (charge or discharge, by the MSL named)."""
    kind = _kind_of(context, msl)
    key = f"{MODULE}::test_msl_fault[{kind.fault}]"
    if kind.signal is not None:
        raise _mismatch(key, "the pack current is ramped", f"sweeps {kind.signal}")
    if (current, margin, rate) != (kind.mode, kind.margin, kind.rate):
        raise _mismatch(key, f"the {current} current from {margin:g} A below at {rate:g} A/s",
                        f"ramps the {kind.mode} current from {kind.margin:g} A below at "
                        f"{kind.rate:g} A/s")
    run_case(context, key)


@when("the module's clock passes {clock:g} s half the declared cell_voltage_max_fault_delay_s "
      "after the voltage of the cell a third into the string, swept up at {rate:g} V per second "
      "from {margin:g} V below it, crosses the declared cell_voltage_max_msl_V, at rest")
def msl_on_a_late_clock(context: Any, clock: float, rate: float, margin: float) -> None:
    """The over-voltage sweep on a late clock: the boundary is the one the sentence names."""
    names = [n for n, b in LATE_CLOCKS.items() if math.isclose(b, clock, rel_tol=1e-12)]
    if not names:
        raise SuiteError(f"{clock:g} s is none of the late clocks' boundaries "
                         f"({', '.join(f'{b:.10g}' for b in LATE_CLOCKS.values())})")
    key = f"{LONG_RUNS}::test_trip_on_a_late_clock[{names[0]}]"
    if (rate, margin) != (SWEEP_RATE, SWEEP_MARGIN):
        raise _mismatch(key, f"a sweep at {rate:g} V/s from {margin:g} V below",
                        f"sweeps at {SWEEP_RATE:g} V/s from {SWEEP_MARGIN:g} V below")
    run_case(context, key)


# ----------------------------------------------------------------------------- MOL, RSL
#: the derating cases that sweep a cell voltage, by the RSL they cross, and its direction
VOLTAGE_DERATING = {
    "cell_voltage_max_rsl_V": ("up", f"{MODULE}::test_charge_derating_above_voltage_rsl"),
    "cell_voltage_min_rsl_V": ("down", f"{MODULE}::test_discharge_derating_below_voltage_rsl"),
}


@when("the cell voltage, at rest, is swept {direction} from {margin:g} mV inside the declared "
      "{rsl} to {beyond:g} mV beyond it at {rate:g} mV per second and held there for {hold:g} s, "
      "on the first, the last and two sampled cells, one by one")
def voltage_derating(context: Any, direction: str, margin: float, rsl: str, beyond: float,
                     rate: float, hold: float) -> None:
    said = RslSweep(margin / 1000, rate / 1000, hold)
    _swept_family(context, VOLTAGE_DERATING, "derating", rsl, direction, "cell", "cells",
                  said if beyond == margin else None, VOLTAGE_RSL_SWEEP)


#: the charge-window cases, by the RSL they cross, and its direction
CHARGE_WINDOW = {
    "charge_temperature_min_rsl_degC": ("down", f"{MODULE}::test_no_charging_below_window"),
    "charge_temperature_max_rsl_degC": ("up", f"{MODULE}::test_no_charging_above_window"),
}


@when("the cell temperature, at rest, is swept {direction} from {margin:g} K inside the "
      "declared {rsl} to {beyond:g} K beyond it at {rate:g} K per second and held there for "
      "{hold:g} s, on the first, the last and two sampled temperature sensors, one by one")
def charge_window(context: Any, direction: str, margin: float, rsl: str, beyond: float,
                  rate: float, hold: float) -> None:
    said = RslSweep(margin, rate, hold)
    _swept_family(context, CHARGE_WINDOW, "charge-window", rsl, direction, "temperature",
                  "temperature sensors", said if beyond == margin else None,
                  TEMPERATURE_RSL_SWEEP)


# ----------------------------------------------------------------------------- lockout
@when("the cell voltage, at rest, is swept down across the declared deep_discharge_voltage_V "
      "from 20 mV above it at 10 mV per second, on the first, the last and two sampled cells, "
      "one by one; each cell then reads its true value again and, two cell-monitor cycles and "
      "0.2 s later, a reset is requested")
def deep_discharge(context: Any) -> None:
    key = f"{MODULE}::test_deep_discharge_locks_out"
    _check_sampled(key, "cells")
    run_case(context, key)


# ----------------------------------------------------------------------------- measurements
@when("at rest the pack voltage reading starts 0.2 V (or half the declared "
      "pack_voltage_tolerance_V, if less) inside the tolerance off the sum of the cell voltages "
      "and drifts across it at {rate:g} V per second, once upwards and once downwards")
def implausible_pack_voltage(context: Any, rate: float) -> None:
    key = f"{MODULE}::test_pack_voltage_implausible"
    if rate != PLAUSIBILITY_RATE_V_S:
        raise _mismatch(key, f"a drift at {rate:g} V/s",
                        f"drifts at {PLAUSIBILITY_RATE_V_S:g} V/s")
    run_case(context, key)


@when("at rest with the module's own {front_ends} in the loop, one drift of its front ends "
      "at a time, each on a fresh bench and from the calibrated reading, moves the difference "
      "between the pack voltage and the sum of the cells by the declared "
      "pack_voltage_tolerance_V every {drift_s:g} s until the fault latches, for at most "
      "{sweep_s:g} s and the declared plausibility_fault_delay_s and 0.5 s: the cell "
      "monitor's gain of every cell, downwards and upwards, and the pack-voltage "
      "measurement's offset, upwards and downwards (a gain that would take a cell beyond the "
      "declared RSLs before the fault is due is left out, saying so; a module without those "
      "components of its own is not applicable)")
def implausible_at_the_front_ends(context: Any, front_ends: str, drift_s: float,
                                  sweep_s: float) -> None:
    key = f"{MODULE}::test_pack_voltage_implausible_at_the_front_ends"
    if tuple(front_ends.split(" and ")) != FRONT_ENDS:
        raise _mismatch(key, f"the module's own {front_ends}",
                        f"needs the module's own {' and '.join(FRONT_ENDS)}")
    if not (math.isclose(drift_s, FRONT_END_DRIFT_S)
            and math.isclose(sweep_s, FRONT_END_SWEEP * FRONT_END_DRIFT_S)):
        raise _mismatch(key, f"the tolerance every {drift_s:g} s for at most {sweep_s:g} s",
                        f"drifts by the tolerance every {FRONT_END_DRIFT_S:g} s for at most "
                        f"{FRONT_END_SWEEP * FRONT_END_DRIFT_S:g} s")
    run_case(context, key)


#: the invalid-channel cases, by the channels the sentence names
INVALID_CHANNEL = {"cells": f"{MODULE}::test_invalid_cell_voltage",
                   "temperature sensors": f"{MODULE}::test_invalid_temperature_sensor"}


@when("at rest an open wire makes one channel report invalid, on the first, the last and two "
      "sampled {channels}, one by one")
def invalid_channel(context: Any, channels: str) -> None:
    if channels not in INVALID_CHANNEL:
        raise SuiteError(f"no invalid-channel test case opens the wire of '{channels}' "
                         f"(they open {', '.join(INVALID_CHANNEL)})")
    key = INVALID_CHANNEL[channels]
    _check_sampled(key, channels)
    run_case(context, key)


#: the lost-sensor cases, by the sensor the sentence names, and its declared timeout
LOST_SENSOR = {
    "cell monitor": ("cell_monitor_timeout_s", f"{MODULE}::test_cell_monitor_loss"),
    "current sensor": ("current_sensor_timeout_s", f"{MODULE}::test_current_sensor_loss"),
}


@when("at rest the {sensor} stops delivering measurements, until the fault latches or for the "
      "declared {timeout} and 1 s")
def lost_sensor(context: Any, sensor: str, timeout: str) -> None:
    if sensor not in LOST_SENSOR:
        raise SuiteError(f"no test case stops the '{sensor}' "
                         f"(they stop the {', '.join(LOST_SENSOR)})")
    expected, key = LOST_SENSOR[sensor]
    if timeout != expected:
        raise _mismatch(key, f"the declared {timeout}", f"waits for the declared {expected}")
    run_case(context, key)


#: the one-off scenarios: each sentence → the test case it runs
ONE_OFF: dict[str, str] = {
    ('the cell voltage, at rest, is swept up from 20 mV below the declared '
     'cell_voltage_max_mol_V to 10 mV above it at 10 mV per second, then back down at 10 mV per '
     'second to 30 mV below the declared cell_voltage_max_mol_V minus '
     'cell_voltage_max_hysteresis_V, and likewise down across cell_voltage_min_mol_V and back up'
     ' past cell_voltage_min_mol_V plus cell_voltage_min_hysteresis_V, on the first, the last '
     'and one sampled cell, one by one'):
        f"{MODULE}::test_mol_warning_with_hysteresis",
    ('the charge current, the HV path closed, is ramped up from 5 A below the declared '
     'charge_current_max_rsl_A to 10 A above it at 5 A per second and held there for 1 s'):
        f"{MODULE}::test_charge_derating_above_current_rsl",
    ('at rest, with no current flowing, the second temperature sensor (the first of a single-'
     'sensor pack) reads 1 K above the declared charge_temperature_max_msl_degC, and then, on a '
     'fresh bench, 1 K below the declared charge_temperature_min_msl_degC, each for the longer '
     'of the declared charge_temperature_max_fault_delay_s and '
     'charge_temperature_min_fault_delay_s plus 1 s'):
        f"{READINGS}::test_no_charge_temperature_fault_at_rest",
    ('the pack is charged at 30 % of the declared charge_current_max_msl_A, one cell drawn from '
     "the run's seed reads 50 mV above the declared cell_voltage_max_msl_V for the most cell-"
     'monitor samples that last less than the declared cell_voltage_max_fault_delay_s minus two '
     'step periods, twice, 1 s apart, and then the charge current steps 10 A above the declared '
     'charge_current_max_msl_A for the most steps that last less than the declared '
     'charge_current_max_fault_delay_s minus two step periods, twice, 1 s apart (a spike that '
     'cannot be that short is left out; with neither, the requirement does not apply)'):
        f"{MODULE}::test_transient_violation_is_debounced",
    ('the pack is charged at 30 % of the declared charge_current_max_msl_A and the charge '
     'current steps 10 A above the declared charge_current_max_msl_A five times, 1 s apart, each'
     ' time for the most steps that last less than the declared charge_current_max_fault_delay_s'
     ' minus two step periods (with no such step, the requirement does not apply)'):
        f"{READINGS}::test_spikes_one_second_apart_never_add_up",
    ("the MOL, RSL and MSL of each of the spec's limit sets are read from the module's "
     "configuration (declared in the manifest, else the spec's defaults)"):
        f"{MODULE}::test_declared_limits_are_ordered",
    ('the HV path is closed and the pack current follows a sine of 0.3 rad per second for 60 s, '
     'its charge half-waves peaking at half the declared charge_current_max_mol_A and its '
     'discharge half-waves at half the declared discharge_current_max_mol_A, with every sensor '
     'as noisy as its declared accuracy'):
        f"{MODULE}::test_no_false_trips",
    ("each of the six limit kinds' faults is latched in turn, then its condition is removed (the"
     ' sensor reads its true value again, or the current returns to zero) and 15 s pass without '
     'a reset request'):
        f"{MODULE}::test_fault_latches",
    ('at rest the first cell reads 0.1 V above the declared cell_voltage_max_msl_V until the '
     'cell_overvoltage fault latches, then reads its true value again for 15 s without a reset '
     'request'):
        f"{LONG_RUNS}::test_latch_holds_for_15_s",
    ("each of the six limit kinds' faults is latched in turn with the HV path closed and current"
     ' flowing (the cell and temperature kinds while charging at 10 A), and the bench runs 1 s '
     'more'):
        f"{MODULE}::test_fault_requests_open_and_zero_limits",
    ("each of the four measured limit kinds' faults (cell over- and under-voltage, discharge "
     'over- and under-temperature) is latched in turn, a reset is requested while the quantity '
     'is still beyond the declared MSL, and another once it is back inside the MSL by only half '
     'the declared hysteresis'):
        f"{MODULE}::test_no_reset_while_condition_persists",
    ('the discharge current, the HV path closed, is set 20 A above the declared '
     'discharge_current_max_msl_A until the discharge_overcurrent fault latches, the current '
     'returns to zero, 0.3 s later the current sensor starts reading NaN (not a number), and 0.2'
     ' s after that a reset is requested'):
        f"{READINGS}::test_no_reset_on_an_unknown_current",
    ('the pack is charged at 10 A with the HV path closed, the second temperature sensor (the '
     'first of a single-sensor pack) reads 1 K above the declared '
     'charge_temperature_max_msl_degC until the charge_overtemperature fault latches (the bench '
     'keeps charging), then the current returns to zero and, 0.5 s on, with the temperature '
     'still 1 K above the MSL, a reset is requested'):
        f"{READINGS}::test_charge_temperature_fault_does_not_heal_at_rest",
    ("each of the six limit kinds' faults is latched in turn, its condition is removed (the "
     'sensor reads its true value again, or the current returns to zero), and two cell-monitor '
     'cycles and 0.2 s later a 50 ms reset request is sent'):
        f"{MODULE}::test_reset_clears_healed_fault",
    ('at rest the first cell reads 0.1 V above the declared cell_voltage_max_msl_V until the '
     'cell_overvoltage fault latches, a reset request is raised and held, 0.3 s later the cell '
     'reads its true value again, and the request is released two cell-monitor cycles and 0.5 s '
     'after that'):
        f"{READINGS}::test_held_reset_clears_once_healed",
    ('at rest the last cell reads 0.1 V below the declared cell_voltage_min_msl_V and the first '
     'cell 0.1 V above the declared cell_voltage_max_msl_V until both the cell_undervoltage and '
     'the cell_overvoltage faults latch, then the first cell reads its true value again, and two'
     ' cell-monitor cycles and 0.2 s later one reset is requested'):
        f"{SEQUENCES}::test_reset_with_two_faults_one_healed",
    ("the last cell's voltage, at rest, is swept down across the declared "
     'deep_discharge_voltage_V from 20 mV above it at 10 mV per second until the deep_discharge '
     'lockout latches, the cell then reads its true value again and, two cell-monitor cycles and'
     ' 0.2 s later, two reset requests are sent 1 s apart'):
        f"{SEQUENCES}::test_second_reset_after_lockout",
    ("at rest the last cell's sense wire and the first temperature sensor's wire open at once "
     '(the cell reads 0 V and the sensor −50 °C, both reported invalid) for 2 s'):
        f"{READINGS}::test_open_wire_is_not_a_deep_discharge",
    'at rest the insulation resistance drops to half the declared insulation_error_ohm':
        f"{MODULE}::test_insulation_fault",
    ('at rest the insulation resistance drops to halfway between the declared '
     'insulation_warning_ohm and insulation_error_ohm'):
        f"{MODULE}::test_insulation_warning",
    ('at rest the pack voltage reading is 2 V more than the declared pack_voltage_tolerance_V '
     'off the sum of the cells until the pack_voltage_implausible fault latches, then 90 % of '
     'the tolerance off it, and 0.3 s later a reset is requested'):
        f"{READINGS}::test_plausibility_heals_without_hysteresis",
    ('at rest the insulation resistance is half the declared insulation_error_ohm until the '
     'insulation_fault latches, then 2 % above it, and 0.3 s later a reset is requested'):
        f"{READINGS}::test_insulation_heals_without_hysteresis",
    ('at rest the cell monitor stops delivering for the declared cell_monitor_timeout_s and 0.5 '
     's, the cell_monitor_timeout fault latches, and two cell-monitor cycles after it delivers '
     'again a reset is requested'):
        f"{READINGS}::test_timeout_heals_without_hysteresis",
}
when_runs(ONE_OFF)
