"""The reference safety supervisor against the behaviour of the spec (OBSA-SAFE-*)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from reference_helpers import (
    DT,
    N_CELLS,
    N_SENSORS,
    Stepper,
    cells,
    nominal_safety_inputs,
    temperatures,
)

from reference_impl.component import ConfigurationError, InputError
from reference_impl.functions.safety import SafetySupervisor
from reference_impl.interfaces import PARAMETER_DEFAULTS, SafetyState
from reference_impl.interfaces import SafetySupervisorFault as F

P = PARAMETER_DEFAULTS["safety_supervisor"]
CHARGING, DISCHARGING = 10.0, -10.0

# quantity → (fault bit, +1 upper / −1 lower, inputs for a value, unit, hysteresis, delay,
#             direction it derates, small step beyond a level)
Q: dict[str, tuple[int, int, Callable[[float], dict[str, Any]], str, str, str, str, float]] = {
    "cell_voltage_max": (F.CELL_OVERVOLTAGE, 1, cells, "V", "cell_voltage_max_hysteresis_V",
                         "cell_voltage_max_fault_delay_s", "charge", 0.001),
    "cell_voltage_min": (F.CELL_UNDERVOLTAGE, -1, cells, "V", "cell_voltage_min_hysteresis_V",
                         "cell_voltage_min_fault_delay_s", "discharge", 0.001),
    "charge_current_max": (F.CHARGE_OVERCURRENT, 1, lambda x: {"pack_current_A": x}, "A",
                           "charge_current_max_hysteresis_A", "charge_current_max_fault_delay_s",
                           "charge", 0.1),
    "discharge_current_max": (F.DISCHARGE_OVERCURRENT, 1, lambda x: {"pack_current_A": -x}, "A",
                              "discharge_current_max_hysteresis_A",
                              "discharge_current_max_fault_delay_s", "discharge", 0.1),
    "charge_temperature_max": (F.CHARGE_OVERTEMPERATURE, 1,
                               lambda x: {**temperatures(x), "pack_current_A": CHARGING}, "degC",
                               "charge_temperature_max_hysteresis_K",
                               "charge_temperature_max_fault_delay_s", "charge", 0.1),
    "charge_temperature_min": (F.CHARGE_UNDERTEMPERATURE, -1,
                               lambda x: {**temperatures(x), "pack_current_A": CHARGING}, "degC",
                               "charge_temperature_min_hysteresis_K",
                               "charge_temperature_min_fault_delay_s", "charge", 0.1),
    "discharge_temperature_max": (F.DISCHARGE_OVERTEMPERATURE, 1,
                                  lambda x: {**temperatures(x), "pack_current_A": DISCHARGING},
                                  "degC", "discharge_temperature_max_hysteresis_K",
                                  "discharge_temperature_max_fault_delay_s", "discharge", 0.1),
    "discharge_temperature_min": (F.DISCHARGE_UNDERTEMPERATURE, -1,
                                  lambda x: {**temperatures(x), "pack_current_A": DISCHARGING},
                                  "degC", "discharge_temperature_min_hysteresis_K",
                                  "discharge_temperature_min_fault_delay_s", "discharge", 0.1),
}


def level(quantity: str, name: str) -> float:
    return P[f"{quantity}_{name}_{Q[quantity][3]}"]


def steps_of(seconds: float) -> int:
    return round(seconds / DT)


def limit_of(direction: str) -> str:
    return f"{direction}_current_limit_A"


# ----------------------------------------------------------------------------- nominal
def test_nominal_outputs_are_exact_and_typed(supervisor: Stepper, spec) -> None:
    out = supervisor.step()
    expected = {p.signal for p in spec.interfaces["safety_supervisor"].outputs}
    assert set(out) == expected
    assert out == {
        "safety_state": SafetyState.NORMAL, "safety_warning_flags": 0,
        "safety_request_flags": 0, "safety_fault_flags": 0,
        "charge_current_limit_A": P["charge_current_max_mol_A"],
        "discharge_current_limit_A": P["discharge_current_max_mol_A"],
        "contactor_open_request": False,
    }
    for name in ("safety_state", "safety_warning_flags", "safety_request_flags",
                 "safety_fault_flags"):
        assert type(out[name]) is int
    assert type(out["charge_current_limit_A"]) is float
    assert type(out["discharge_current_limit_A"]) is float
    assert type(out["contactor_open_request"]) is bool


def test_lists_are_accepted_like_arrays(supervisor: Stepper) -> None:
    inputs = {k: (v.tolist() if isinstance(v, np.ndarray) else v)
              for k, v in supervisor.inputs.items()}
    inputs["cell_voltage_V"][7] = level("cell_voltage_max", "mol") + 0.01
    out = SafetySupervisor().step(0.0, inputs)
    assert out["safety_warning_flags"] == F.CELL_OVERVOLTAGE


# ------------------------------------------------------------------ three-level limits
@pytest.mark.parametrize("quantity", Q)
def test_fault_latches_after_the_declared_delay(supervisor: Stepper, quantity: str) -> None:
    bit, sign, inputs, _unit, _hyst, delay, _direction, eps = Q[quantity]
    supervisor.run(3)
    n = supervisor.run_until(lambda out: out["safety_fault_flags"] & bit, 1000,
                             **inputs(level(quantity, "msl") + sign * eps))
    assert n == steps_of(P[delay]) + 1  # latched at first violation + delay, not one step later
    last = supervisor.trace[-1]
    assert last["contactor_open_request"] is True
    assert last["charge_current_limit_A"] == 0.0
    assert last["discharge_current_limit_A"] == 0.0
    assert last["safety_state"] == SafetyState.FAULT
    assert not supervisor.trace[-2]["contactor_open_request"]


@pytest.mark.parametrize("quantity", Q)
def test_no_fault_exactly_at_the_msl(supervisor: Stepper, quantity: str) -> None:
    bit, _sign, inputs, _unit, _hyst, delay, _direction, _eps = Q[quantity]
    out = supervisor.run(steps_of(2 * P[delay]) + 5, **inputs(level(quantity, "msl")))
    assert out["safety_fault_flags"] == 0
    assert out["safety_request_flags"] & bit


@pytest.mark.parametrize("quantity", Q)
def test_warning_sets_beyond_mol_and_clears_with_hysteresis(supervisor: Stepper,
                                                            quantity: str) -> None:
    bit, sign, inputs, _unit, hyst, _delay, _direction, eps = Q[quantity]
    mol = level(quantity, "mol")
    assert supervisor.step(**inputs(mol))["safety_warning_flags"] == 0
    out = supervisor.step(**inputs(mol + sign * eps))
    assert out["safety_warning_flags"] == bit
    assert out["safety_request_flags"] == 0
    if "temperature" in quantity:  # may also be outside the charge window: charging blocked
        assert out["safety_state"] in (SafetyState.WARNING, SafetyState.DERATING)
    else:
        assert out["safety_state"] == SafetyState.WARNING
    assert supervisor.step(**inputs(mol - sign * P[hyst] / 2))["safety_warning_flags"] == bit
    out = supervisor.step(**inputs(mol - sign * (P[hyst] + eps)))
    assert out["safety_warning_flags"] == 0
    if "temperature" not in quantity:
        assert out["safety_state"] == SafetyState.NORMAL


@pytest.mark.parametrize("quantity", Q)
def test_request_derates_its_direction(supervisor: Stepper, quantity: str) -> None:
    bit, sign, inputs, _unit, hyst, _delay, direction, eps = Q[quantity]
    rsl = level(quantity, "rsl")
    out = supervisor.step(**inputs(rsl))
    assert out["safety_request_flags"] == 0
    out = supervisor.step(**inputs(rsl + sign * eps))
    assert out["safety_request_flags"] == bit
    assert out["safety_warning_flags"] & bit
    assert out["safety_state"] == SafetyState.DERATING
    derated = P["derating_factor"] * P[f"{direction}_current_max_mol_A"]
    assert out[limit_of(direction)] <= derated
    other = "discharge" if direction == "charge" else "charge"
    if quantity.startswith(("cell_voltage", "charge_current", "discharge_current")):
        assert out[limit_of(direction)] == derated
        assert out[limit_of(other)] == P[f"{other}_current_max_mol_A"]
    assert supervisor.step(**inputs(rsl - sign * P[hyst] / 2))["safety_request_flags"] == bit
    out = supervisor.step(**inputs(rsl - sign * (P[hyst] + eps)))
    assert out["safety_request_flags"] == 0


def test_charge_temperature_limits_apply_only_while_charging(supervisor: Stepper) -> None:
    hot = P["charge_temperature_max_msl_degC"] + 1.0  # still inside the discharge window
    out = supervisor.run(steps_of(3 * P["charge_temperature_max_fault_delay_s"]),
                         **temperatures(hot),
                         pack_current_A=P["rest_current_A"])  # at the rest current: not charged
    assert out["safety_fault_flags"] == 0
    assert not out["safety_warning_flags"] & F.CHARGE_OVERTEMPERATURE
    out = supervisor.run(steps_of(P["charge_temperature_max_fault_delay_s"]) + 1,
                         pack_current_A=P["rest_current_A"] + 0.5)
    assert out["safety_fault_flags"] == F.CHARGE_OVERTEMPERATURE


# ---------------------------------------------------------------------------- debounce
def test_short_violations_do_not_latch_and_do_not_add_up(supervisor: Stepper) -> None:
    high, ok = cells(P["cell_voltage_max_msl_V"] + 0.01), cells(3.7)
    short = steps_of(P["cell_voltage_max_fault_delay_s"]) - 2
    for _ in range(5):
        supervisor.run(short, **high)
        supervisor.run(1, **ok)
    assert all(out["safety_fault_flags"] == 0 for out in supervisor.trace)


def test_violation_of_exactly_the_delay_latches(supervisor: Stepper) -> None:
    high = cells(P["cell_voltage_max_msl_V"] + 0.01)
    n = steps_of(P["cell_voltage_max_fault_delay_s"])
    out = supervisor.run(n, **high)  # the last sample is delay − 1 step after the first
    assert out["safety_fault_flags"] == 0
    assert supervisor.step()["safety_fault_flags"] == F.CELL_OVERVOLTAGE


def test_zero_delay_latches_on_the_first_sample() -> None:
    sup = SafetySupervisor()
    sup.configure({"charge_current_max_fault_delay_s": 0.0})
    s = Stepper(sup, nominal_safety_inputs())
    out = s.step(pack_current_A=P["charge_current_max_msl_A"] + 0.1)
    assert out["safety_fault_flags"] == F.CHARGE_OVERCURRENT


# ------------------------------------------------------------------- latching and reset
def latch_overvoltage(s: Stepper) -> None:
    s.run(steps_of(P["cell_voltage_max_fault_delay_s"]) + 1,
          **cells(P["cell_voltage_max_msl_V"] + 0.01))
    assert s.trace[-1]["safety_fault_flags"] == F.CELL_OVERVOLTAGE


def test_fault_stays_latched_without_reset(supervisor: Stepper) -> None:
    latch_overvoltage(supervisor)
    out = supervisor.run(steps_of(5.0), **cells(3.7))
    assert out["safety_fault_flags"] == F.CELL_OVERVOLTAGE
    assert out["contactor_open_request"] is True
    assert out["safety_warning_flags"] == 0  # the live flags follow the quantity


def test_reset_does_not_clear_a_fault_inside_the_hysteresis(supervisor: Stepper) -> None:
    latch_overvoltage(supervisor)
    msl, hyst = P["cell_voltage_max_msl_V"], P["cell_voltage_max_hysteresis_V"]
    for v in (msl + 0.01, msl - 0.001, msl - hyst + 0.001):
        out = supervisor.run(3, **cells(v), fault_reset_request=True)
        assert out["safety_fault_flags"] == F.CELL_OVERVOLTAGE, v


def test_reset_clears_a_healed_fault_in_the_same_step(supervisor: Stepper) -> None:
    latch_overvoltage(supervisor)
    supervisor.run(2, **cells(P["cell_voltage_max_msl_V"] - P["cell_voltage_max_hysteresis_V"]))
    out = supervisor.step(fault_reset_request=True)
    assert out["safety_fault_flags"] == 0
    assert out["contactor_open_request"] is False
    # MSL − hysteresis (4.2 V) has not cleared the request flag by its own hysteresis yet
    assert out["safety_state"] == SafetyState.DERATING
    assert out["charge_current_limit_A"] == P["derating_factor"] * P["charge_current_max_mol_A"]
    assert out["discharge_current_limit_A"] == P["discharge_current_max_mol_A"]


def test_reset_clears_only_the_healed_faults(supervisor: Stepper) -> None:
    supervisor.run(steps_of(P["cell_voltage_max_fault_delay_s"]) + 1,
                   **cells(P["cell_voltage_max_msl_V"] + 0.01),
                   pack_current_A=P["charge_current_max_msl_A"] + 10.0)
    assert supervisor.trace[-1]["safety_fault_flags"] == F.CELL_OVERVOLTAGE | F.CHARGE_OVERCURRENT
    out = supervisor.step(pack_current_A=0.0, fault_reset_request=True)
    assert out["safety_fault_flags"] == F.CELL_OVERVOLTAGE


def test_reset_while_held_does_not_mask_a_new_fault(supervisor: Stepper) -> None:
    supervisor.inputs["fault_reset_request"] = True
    latch_overvoltage(supervisor)


# ----------------------------------------------------------------------------- lockout
def test_deep_discharge_locks_out_until_power_on_reset(supervisor: Stepper) -> None:
    deep = P["deep_discharge_voltage_V"] - 0.01
    n = supervisor.run_until(lambda out: out["safety_fault_flags"] & F.DEEP_DISCHARGE, 1000,
                             **cells(deep))
    assert n == steps_of(P["deep_discharge_delay_s"]) + 1
    assert supervisor.trace[-1]["safety_state"] == SafetyState.LOCKOUT
    out = supervisor.run(10, **cells(3.7), fault_reset_request=True)
    assert out["safety_fault_flags"] == F.DEEP_DISCHARGE  # the under-voltage fault did clear
    assert out["safety_state"] == SafetyState.LOCKOUT
    assert out["contactor_open_request"] is True
    supervisor.component.reset()
    assert supervisor.step(fault_reset_request=False)["safety_fault_flags"] == 0


# --------------------------------------------------------------------- charge permission
@pytest.mark.parametrize("temperature", [P["charge_temperature_min_rsl_degC"] - 0.1,
                                         P["charge_temperature_max_rsl_degC"] + 0.1])
def test_no_charging_outside_the_charge_window(supervisor: Stepper, temperature: float) -> None:
    out = supervisor.step(**temperatures(temperature))  # at rest: the permission applies always
    assert out["charge_current_limit_A"] == 0.0
    assert out["discharge_current_limit_A"] == P["discharge_current_max_mol_A"]
    assert out["safety_fault_flags"] == 0
    inside = (P["charge_temperature_min_rsl_degC"] + P["charge_temperature_max_rsl_degC"]) / 2
    out = supervisor.step(**temperatures(inside))
    assert out["charge_current_limit_A"] == P["charge_current_max_mol_A"]


def test_charge_permission_returns_with_hysteresis(supervisor: Stepper) -> None:
    low, hyst = P["charge_temperature_min_rsl_degC"], P["charge_temperature_min_hysteresis_K"]
    supervisor.step(**temperatures(low - 0.1))
    assert supervisor.step(**temperatures(low + hyst - 0.1))["charge_current_limit_A"] == 0.0
    assert supervisor.step(**temperatures(low + hyst))["charge_current_limit_A"] > 0.0


# ------------------------------------------------------------ plausibility and validity
def test_pack_voltage_implausible_after_delay(supervisor: Stepper) -> None:
    tol = P["pack_voltage_tolerance_V"]
    nominal = supervisor.inputs["pack_voltage_V"]
    out = supervisor.run(steps_of(2 * P["plausibility_fault_delay_s"]),
                         pack_voltage_V=nominal + tol - 0.05)
    assert out["safety_fault_flags"] == 0
    n = supervisor.run_until(lambda o: o["safety_fault_flags"], 1000,
                             pack_voltage_V=nominal - tol - 0.05)
    assert n == steps_of(P["plausibility_fault_delay_s"]) + 1
    assert supervisor.trace[-1]["safety_fault_flags"] == F.PACK_VOLTAGE_IMPLAUSIBLE
    out = supervisor.step(pack_voltage_V=nominal, fault_reset_request=True)
    assert out["safety_fault_flags"] == 0


def test_invalid_cell_voltage_is_a_fault_not_an_undervoltage(supervisor: Stepper) -> None:
    v = np.full(N_CELLS, 3.7)
    v[10] = 0.0  # what an open wire may read
    valid = np.ones(N_CELLS, dtype=bool)
    valid[10] = False
    n = supervisor.run_until(lambda o: o["safety_fault_flags"], 1000,
                             cell_voltage_V=v, cell_voltage_valid=valid)
    assert n == steps_of(P["cell_voltage_invalid_delay_s"]) + 1
    out = supervisor.run(steps_of(1.0))
    assert out["safety_fault_flags"] == F.CELL_VOLTAGE_INVALID  # no under-voltage, no lockout
    out = supervisor.step(cell_voltage_valid=np.ones(N_CELLS, dtype=bool), **cells(3.7),
                          fault_reset_request=True)
    assert out["safety_fault_flags"] == 0


def test_nan_cell_voltage_is_invalid_and_other_cells_stay_supervised(supervisor: Stepper) -> None:
    v = np.full(N_CELLS, 3.7)
    v[0] = math.nan
    v[1] = P["cell_voltage_max_msl_V"] + 0.01
    out = supervisor.run(steps_of(P["cell_voltage_max_fault_delay_s"]) + 1, cell_voltage_V=v)
    assert out["safety_fault_flags"] == F.CELL_VOLTAGE_INVALID | F.CELL_OVERVOLTAGE


def test_invalid_temperature_is_a_fault_after_its_delay(supervisor: Stepper) -> None:
    valid = np.ones(N_SENSORS, dtype=bool)
    valid[2] = False
    temps = np.full(N_SENSORS, 25.0)
    temps[2] = -50.0  # what a shorted sensor may read: not an under-temperature
    n = supervisor.run_until(lambda o: o["safety_fault_flags"], 1000,
                             cell_temperature_valid=valid, cell_temperature_degC=temps)
    assert n == steps_of(P["cell_temperature_invalid_delay_s"]) + 1
    assert supervisor.trace[-1]["safety_fault_flags"] == F.CELL_TEMPERATURE_INVALID


def test_nan_temperature_counts_as_invalid(supervisor: Stepper) -> None:
    out = supervisor.run(steps_of(P["cell_temperature_invalid_delay_s"]) + 1,
                         **temperatures(math.nan))
    assert out["safety_fault_flags"] == F.CELL_TEMPERATURE_INVALID


# ---------------------------------------------------------------------------- timeouts
@pytest.mark.parametrize(("age_input", "timeout", "bit"), [
    ("cell_monitor_age_s", "cell_monitor_timeout_s", F.CELL_MONITOR_TIMEOUT),
    ("current_sensor_age_s", "current_sensor_timeout_s", F.CURRENT_SENSOR_TIMEOUT),
])
def test_sensor_timeout_latches_as_soon_as_the_age_exceeds_it(
        supervisor: Stepper, age_input: str, timeout: str, bit: int) -> None:
    assert supervisor.step(**{age_input: P[timeout]})["safety_fault_flags"] == 0
    out = supervisor.step(**{age_input: P[timeout] + 0.001})
    assert out["safety_fault_flags"] == bit
    assert out["contactor_open_request"] is True
    assert supervisor.step(**{age_input: 0.0})["safety_fault_flags"] == bit  # latched
    assert supervisor.step(fault_reset_request=True)["safety_fault_flags"] == 0


def test_nan_current_counts_as_a_lost_sensor(supervisor: Stepper) -> None:
    out = supervisor.step(pack_current_A=math.nan)
    assert out["safety_fault_flags"] == F.CURRENT_SENSOR_TIMEOUT


# -------------------------------------------------------------------------- insulation
def test_insulation_warning_is_live_and_fault_latches_after_delay(supervisor: Stepper) -> None:
    warn_ohm, error_ohm = P["insulation_warning_ohm"], P["insulation_error_ohm"]
    out = supervisor.step(insulation_resistance_ohm=warn_ohm - 1.0)
    assert out["safety_fault_flags"] == F.INSULATION_WARNING
    assert out["safety_state"] == SafetyState.WARNING
    assert out["contactor_open_request"] is False
    assert supervisor.step(insulation_resistance_ohm=warn_ohm)["safety_fault_flags"] == 0
    n = supervisor.run_until(lambda o: o["safety_fault_flags"] & F.INSULATION_FAULT, 1000,
                             insulation_resistance_ohm=error_ohm - 1.0)
    assert n == steps_of(P["insulation_fault_delay_s"]) + 1
    assert supervisor.trace[-1]["contactor_open_request"] is True
    out = supervisor.step(insulation_resistance_ohm=1.0e7)
    assert out["safety_fault_flags"] == F.INSULATION_FAULT  # latched, the warning bit is live
    assert supervisor.step(fault_reset_request=True)["safety_fault_flags"] == 0


# ---------------------------------------------------------------- configuration, errors
def test_declared_limits_are_used() -> None:
    sup = SafetySupervisor()
    sup.configure({"cell_voltage_max_mol_V": 3.5, "cell_voltage_max_rsl_V": 3.6,
                   "cell_voltage_max_msl_V": 3.65})
    s = Stepper(sup, nominal_safety_inputs())
    out = s.run(steps_of(P["cell_voltage_max_fault_delay_s"]) + 1)  # 3.7 V everywhere
    assert out["safety_fault_flags"] == F.CELL_OVERVOLTAGE


def test_configure_rejects_unknown_names_and_unordered_limits() -> None:
    sup = SafetySupervisor()
    with pytest.raises(ConfigurationError, match="cell_voltage_max_msl"):
        sup.configure({"cell_voltage_max_msl": 4.2})
    with pytest.raises(ConfigurationError, match="expected a number"):
        sup.configure({"cell_voltage_max_msl_V": "4.2"})
    with pytest.raises(ConfigurationError, match="MOL < RSL < MSL"):
        sup.configure({"cell_voltage_max_rsl_V": 4.3})
    with pytest.raises(ConfigurationError, match="expected warning > error"):
        sup.configure({"insulation_warning_ohm": 500000.0, "insulation_error_ohm": 500000.0})
    sup.configure({"insulation_warning_ohm": 500001.0, "insulation_error_ohm": 500000.0})


def test_missing_input_names_the_signal(supervisor: Stepper) -> None:
    inputs = dict(supervisor.inputs)
    del inputs["pack_current_A"]
    with pytest.raises(InputError, match="pack_current_A"):
        SafetySupervisor().step(0.0, inputs)


def test_reset_returns_to_power_on(supervisor: Stepper) -> None:
    latch_overvoltage(supervisor)
    supervisor.component.reset()
    out = supervisor.step(**cells(3.7))
    assert out["safety_fault_flags"] == 0
    assert out["safety_state"] == SafetyState.NORMAL


def test_features_not_claimed_are_off() -> None:
    """Without the parameters of deep_discharge_lockout and insulation_monitoring (a module
    that does not claim them receives none), neither the lockout nor the insulation fault
    exists; with them, both do."""
    bare = SafetySupervisor()
    bare.configure({})
    s = Stepper(bare, nominal_safety_inputs())
    out = s.run(steps_of(2.0), **cells(P["deep_discharge_voltage_V"] - 0.1),
                insulation_resistance_ohm=1.0)
    assert out["safety_fault_flags"] == F.CELL_UNDERVOLTAGE
    full = SafetySupervisor()
    full.configure({"deep_discharge_voltage_V": P["deep_discharge_voltage_V"],
                    "insulation_error_ohm": P["insulation_error_ohm"]})
    s = Stepper(full, nominal_safety_inputs())
    out = s.run(steps_of(2.0), **cells(P["deep_discharge_voltage_V"] - 0.1),
                insulation_resistance_ohm=1.0)
    assert out["safety_fault_flags"] & F.DEEP_DISCHARGE
    assert out["safety_fault_flags"] & F.INSULATION_FAULT


def test_extremes_are_reused_only_for_arrays_that_cannot_change() -> None:
    """The supervisor reduces a cell record once per sample: a read-only array (or a view of
    one) is reused by identity, a writeable one is reduced every time."""
    from reference_impl.functions.limits import Extremes

    ext = Extremes()
    valid = np.ones(4, dtype=bool)
    valid.flags.writeable = False
    frozen = np.array([3.6, 3.7, 3.8, 3.9])
    frozen.flags.writeable = False
    assert ext(frozen, valid)[:2] == (3.9, 3.6)
    assert ext(frozen.view(), valid.view()) is ext(frozen, valid)  # same owner: reused
    live = np.array([3.6, 3.7, 3.8, 3.9])
    assert ext(live, valid)[0] == 3.9
    live[0] = 4.3  # changed in place: must be seen
    assert ext(live, valid)[0] == 4.3
