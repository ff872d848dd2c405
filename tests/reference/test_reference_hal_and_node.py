"""The simulated drivers and the BMU node that wires the safety core."""

from __future__ import annotations

import math

import numpy as np
from reference_helpers import DT, N_CELLS, HvPlant, nominal_safety_inputs

from reference_impl.hal.cell_monitor import CellMonitor
from reference_impl.hal.contactor_driver import ContactorDriver
from reference_impl.hal.current_sensor import CurrentSensor
from reference_impl.hal.isolation_monitor import IsolationMonitor
from reference_impl.hal.signal_format import SIGNAL_FORMAT
from reference_impl.interfaces import ContactorState, DtcStatus
from reference_impl.interfaces import SafetySupervisorFault as F
from reference_impl.nodes.bmu import BmuSafetyCore


def test_every_measured_signal_has_its_format(spec) -> None:
    """The HAL measures every float output of its components by the dictionary's format."""
    for component in ("cell_monitor", "current_sensor", "isolation_monitor"):
        for port in spec.interfaces[component].outputs:
            signal = spec.signals[port.signal]
            if signal.type == "float":
                low, high, resolution = SIGNAL_FORMAT[port.signal]
                assert (signal.range.min, signal.range.max, signal.resolution) == (
                    low, high, resolution), port.signal


def test_hal_outputs_are_exactly_the_interface_outputs(spec) -> None:
    cases = [
        ("cell_monitor", CellMonitor(), {"true_cell_voltage_V": [3.7] * 4,
                                         "true_cell_temperature_degC": [25.0] * 2}),
        ("current_sensor", CurrentSensor(), {"true_pack_current_A": 1.0,
                                             "true_pack_voltage_V": 14.8,
                                             "true_link_voltage_V": 0.0}),
        ("contactor_driver", ContactorDriver(), {
            "main_positive_close_cmd": True, "main_negative_close_cmd": False,
            "precharge_close_cmd": False, "true_main_positive_closed": False,
            "true_main_negative_closed": True, "true_precharge_closed": False}),
        ("isolation_monitor", IsolationMonitor(), {"true_insulation_resistance_ohm": 2.0e6}),
    ]
    for component, driver, inputs in cases:
        out = driver.step(0.0, inputs)
        assert set(out) == {p.signal for p in spec.interfaces[component].outputs}, component


def test_cell_monitor_samples_once_per_cycle_and_reports_age() -> None:
    cm = CellMonitor()
    cm.configure({"measurement_cycle_s": 0.1})
    out = cm.step(0.0, {"true_cell_voltage_V": [3.70004, 3.8],
                        "true_cell_temperature_degC": [25.04]})
    assert out["cell_voltage_V"].tolist() == [3.7, 3.8]
    assert out["cell_temperature_degC"].tolist() == [25.0]
    assert out["cell_monitor_age_s"] == 0.0
    out = cm.step(0.05, {"true_cell_voltage_V": [4.0, 4.0], "true_cell_temperature_degC": [30.0]})
    assert out["cell_voltage_V"].tolist() == [3.7, 3.8]  # held between cycles
    assert out["cell_monitor_age_s"] == 0.05
    out = cm.step(0.1, {"true_cell_voltage_V": [4.0, 4.0], "true_cell_temperature_degC": [30.0]})
    assert out["cell_voltage_V"].tolist() == [4.0, 4.0]
    assert out["cell_monitor_age_s"] == 0.0


def test_cell_monitor_flags_unusable_measurements() -> None:
    out = CellMonitor().step(0.0, {"true_cell_voltage_V": [3.7, math.nan, 5.5],
                                   "true_cell_temperature_degC": [25.0, 180.0]})
    assert out["cell_voltage_valid"].tolist() == [True, False, False]
    assert out["cell_temperature_valid"].tolist() == [True, False]
    assert out["cell_voltage_V"].tolist() == [3.7, 0.0, 5.0]  # inside the signal's range


def test_current_sensor_quantises_and_is_fresh() -> None:
    out = CurrentSensor().step(0.0, {"true_pack_current_A": -12.3456,
                                     "true_pack_voltage_V": 355.123,
                                     "true_link_voltage_V": 2500.0})
    assert out == {"pack_current_A": -12.35, "current_sensor_age_s": 0.0,
                   "pack_voltage_V": 355.12, "link_voltage_V": 1500.0}


def test_current_sensor_dropout_holds_the_value_and_ages() -> None:
    cs = CurrentSensor()
    truth = {"true_pack_current_A": 5.0, "true_pack_voltage_V": 350.0,
             "true_link_voltage_V": 349.0}
    cs.step(0.0, truth)
    out = cs.step(0.25, truth | {"true_pack_current_A": math.nan})
    assert out["pack_current_A"] == 5.0
    assert out["current_sensor_age_s"] == 0.25
    assert cs.step(0.26, truth)["current_sensor_age_s"] == 0.0


def test_isolation_monitor_clamps_and_holds() -> None:
    im = IsolationMonitor()
    assert im.step(0.0, {"true_insulation_resistance_ohm": 4.0e5}) == {
        "insulation_resistance_ohm": 4.0e5}
    assert im.step(0.1, {"true_insulation_resistance_ohm": math.nan}) == {
        "insulation_resistance_ohm": 4.0e5}
    assert im.step(0.2, {"true_insulation_resistance_ohm": 1.0e12}) == {
        "insulation_resistance_ohm": 1.0e9}


def test_contactor_driver_reads_back_the_true_positions() -> None:
    out = ContactorDriver().step(0.0, {
        "main_positive_close_cmd": True, "main_negative_close_cmd": False,
        "precharge_close_cmd": True, "true_main_positive_closed": False,
        "true_main_negative_closed": True, "true_precharge_closed": True})
    assert out == {"main_positive_coil_on": True, "main_negative_coil_on": False,
                   "precharge_coil_on": True, "main_positive_closed_fb": False,
                   "main_negative_closed_fb": True, "precharge_closed_fb": True}


def test_bmu_safety_core_opens_the_path_on_a_fault() -> None:
    core = BmuSafetyCore()
    core.configure({"safety_supervisor": {"cell_voltage_max_fault_delay_s": 0.1}})
    plant = HvPlant(pack_V=N_CELLS * 3.7)
    inputs = nominal_safety_inputs() | {"close_request": True}
    out: dict = {}
    for k in range(200):
        inputs.update(plant.feedback())
        inputs["pack_voltage_V"] = float(np.sum(inputs["cell_voltage_V"]))
        out = core.step(k * DT, inputs)
        plant.apply(out)
    assert out["contactor_state"] == ContactorState.CLOSED
    inputs["cell_voltage_V"] = np.full(N_CELLS, 3.7)
    inputs["cell_voltage_V"][0] = 4.3
    for k in range(200, 220):
        inputs.update(plant.feedback())
        inputs["pack_voltage_V"] = float(np.sum(inputs["cell_voltage_V"]))
        out = core.step(k * DT, inputs)
        plant.apply(out)
        if out["safety_fault_flags"]:
            break
    assert out["safety_fault_flags"] == F.CELL_OVERVOLTAGE
    assert not out["main_positive_close_cmd"]  # opened in the step the fault latched
    assert out["dtc_status"][0] == DtcStatus.ACTIVE
    assert out["dtc_first_time_s"][0] == k * DT
