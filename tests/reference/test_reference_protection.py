"""The reference basic protection against the behaviour of the spec (OBSA-PROT-*)."""

from __future__ import annotations

import numpy as np
import pytest
from reference_helpers import DT, N_CELLS, Stepper, cells, nominal_safety_inputs, temperatures

from reference_impl.functions.protection import Protection
from reference_impl.interfaces import PARAMETER_DEFAULTS
from reference_impl.interfaces import SafetySupervisorFault as F

P = PARAMETER_DEFAULTS["protection"]


def steps_of(seconds: float) -> int:
    return round(seconds / DT)


@pytest.fixture
def prot() -> Stepper:
    """The protection with spec defaults and the front end's short-circuit cut, powered."""
    component = Protection()
    component.configure({"short_circuit_A": P["short_circuit_A"]})
    inputs = {**nominal_safety_inputs(), "close_request": True}
    return Stepper(component, inputs)


def switches(out: dict) -> tuple[bool, bool]:
    return out["charge_fet_cmd"], out["discharge_fet_cmd"]


def test_both_switches_follow_close_request(prot: Stepper) -> None:
    assert switches(prot.step()) == (True, True)
    assert switches(prot.step(close_request=False)) == (False, False)


def test_overvoltage_cuts_charging_only_and_releases_with_hysteresis(prot: Stepper) -> None:
    n = prot.run_until(lambda o: not o["charge_fet_cmd"], 1000,
                       **cells(P["cell_overvoltage_V"] + 0.01))
    assert n == steps_of(P["cell_overvoltage_delay_s"]) + 1
    out = prot.trace[-1]
    assert out["discharge_fet_cmd"] and out["protection_fault_flags"] == F.CELL_OVERVOLTAGE
    below = P["cell_overvoltage_V"] - P["cell_overvoltage_hysteresis_V"]
    assert not prot.step(**cells(below + 0.001))["charge_fet_cmd"]  # inside the band
    assert switches(prot.step(**cells(below))) == (True, True)


def test_overcurrent_stays_until_reset(prot: Stepper) -> None:
    prot.run(steps_of(P["discharge_overcurrent_delay_s"]) + 1,
             pack_current_A=-(P["discharge_overcurrent_A"] + 1.0))
    assert switches(prot.trace[-1]) == (True, False)
    out = prot.run(steps_of(5.0), pack_current_A=0.0)
    assert switches(out) == (True, False)
    assert switches(prot.step(fault_reset_request=True)) == (True, True)


def test_short_circuit_cuts_in_the_step_it_is_seen(prot: Stepper) -> None:
    out = prot.step(pack_current_A=-(P["short_circuit_A"] + 1.0))
    assert switches(out) == (True, False)
    assert out["protection_fault_flags"] == F.DISCHARGE_OVERCURRENT


def test_without_the_feature_there_is_no_short_circuit_cut() -> None:
    s = Stepper(Protection(), {**nominal_safety_inputs(), "close_request": True})
    assert switches(s.step(pack_current_A=-(P["short_circuit_A"] + 1.0))) == (True, True)


def test_charge_window_applies_at_rest(prot: Stepper) -> None:
    out = prot.run(steps_of(P["temperature_delay_s"]) + 1,
                   **temperatures(P["charge_temperature_min_degC"] - 1.0))
    assert switches(out) == (False, True)
    assert out["protection_fault_flags"] == F.CHARGE_UNDERTEMPERATURE


def test_an_invalid_cell_cuts_both_and_is_not_an_undervoltage(prot: Stepper) -> None:
    v = np.full(N_CELLS, 3.7)
    v[3] = 0.0
    valid = np.ones(N_CELLS, dtype=bool)
    valid[3] = False
    out = prot.run(steps_of(5.0), cell_voltage_V=v, cell_voltage_valid=valid)
    assert switches(out) == (False, False)
    assert out["protection_fault_flags"] == F.CELL_VOLTAGE_INVALID
    out = prot.step(cell_voltage_valid=np.ones(N_CELLS, dtype=bool), **cells(3.7))
    assert switches(out) == (True, True)
