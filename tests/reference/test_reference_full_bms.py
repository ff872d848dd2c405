"""The reference full BMS as one node (reference_impl/nodes/node.py) in closed loop with the
bench's plant: the fifteen blocks of the full_bms profile stepped in the profile's order every
10 ms, fed the plant's true quantities, the vehicle's close request and the charger's
absence, their commands applied to the plant. Every reply of every component is checked
against its interface as the suite checks a module's; the HV path closes through the
precharge, nothing faults on a healthy pack, and the balancing bleeds the cells it chose."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from reference_helpers import reply_check

from conformance.bench import Bench, BenchConfig
from reference_impl.component import ConfigurationError
from reference_impl.interfaces import COMPONENT_OUTPUTS, ContactorState, SafetyState
from reference_impl.nodes.bmu import BmuSafetyCore
from reference_impl.nodes.node import Node

ROOT = Path(__file__).resolve().parents[2] / "reference_impl"
CELLS, SENSORS = 12, 4


def _declared() -> dict[str, dict[str, Any]]:
    """What the reference manifests declare (safety core, state estimation), and the
    full BMS's own: balancing after 1 s at rest within 10 mV, a 5 Ah charge, the dates."""
    params: dict[str, dict[str, Any]] = {}
    for name in ("manifest.yaml", "manifest_state_estimation.yaml"):
        data = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))["configuration"]
        for component, values in data.items():
            if component != "components":
                params.setdefault(component, {}).update(values)
    params["balancing"] = {"balancing_threshold_V": 0.01, "balancing_hysteresis_V": 0.005,
                           "balancing_rest_time_s": 1.0}
    params["charge_control"] = {"charge_current_max_A": 2.5,
                                "charge_termination_current_A": 0.25}
    params["data_logger"] = {"manufacture_date_s": 1.7e9, "service_start_date_s": 1.75e9,
                             "equivalent_cycle_capacity_Ah": 5.0}
    return params


def _plant_side(bench: Bench) -> dict[str, Any]:
    truth = bench.truth(arrays=False)
    return {**bench.plant_inputs(),
            **{k: truth[k] for k in ("true_pack_current_A", "true_pack_voltage_V",
                                      "true_link_voltage_V", "true_insulation_resistance_ohm",
                                      "true_main_positive_closed", "true_main_negative_closed",
                                      "true_precharge_closed")},
            "close_request": True, "fault_reset_request": False, "charger_connected": False,
            "can_fault_flags": 0}


def test_the_full_bms_closes_the_hv_path_and_balances_a_healthy_pack() -> None:
    bench = Bench(BenchConfig(n_cells=CELLS, n_temp_sensors=SENSORS, capacity_Ah=5.0,
                              initial_soc=0.6, soc_spread=0.02, seed=11))
    node = Node("full_bms", {"cell": CELLS, "temperature_sensor": SENSORS})
    assert node.carried == ["main_negative_close_cmd", "main_positive_close_cmd",
                            "precharge_close_cmd"]
    node.configure(_declared())
    checks = {c: reply_check(c, CELLS, SENSORS) for c in node.components}
    soc0 = bench.cell_soc()
    closed_at = None
    balanced: set[int] = set()
    for k in range(3000):  # 30 s at 10 ms
        t = bench.t
        signals = node.step(t, _plant_side(bench))
        if k % 50 == 0:  # every component's reply, as the suite checks a module's
            for component, check in checks.items():
                check({name: signals[name] for name in COMPONENT_OUTPUTS[component]})
        if closed_at is None and signals["contactor_state"] == ContactorState.CLOSED:
            closed_at = t
        assert signals["safety_state"] == SafetyState.NORMAL, (t, signals["safety_fault_flags"])
        balanced |= set(np.flatnonzero(signals["balancing_cmd"]).tolist())
        bench.apply(signals)
        bench.advance()
    assert closed_at is not None and closed_at < 5.0, closed_at
    # the balancing chose the cells above the lowest by more than its threshold, and they
    # bled through their resistors (every cell also gives the link's bleeder its milliamps)
    assert balanced, "no cell was balanced on a pack with a 2 % SoC spread"
    lost = soc0 - bench.cell_soc()
    others = sorted(set(range(CELLS)) - balanced)
    assert others and lost[sorted(balanced)].min() > 20 * lost[others].max() > 0.0


def test_a_carried_signal_starts_at_its_start_value_after_reset() -> None:
    node = Node("full_bms", {"cell": CELLS, "temperature_sensor": SENSORS})
    node.configure(_declared())
    bench = Bench(BenchConfig(n_cells=CELLS, n_temp_sensors=SENSORS, capacity_Ah=5.0))
    first = node.step(bench.t, _plant_side(bench))
    assert first["main_negative_close_cmd"] and not first["main_negative_coil_on"]
    second = node.step(bench.t + 0.01, _plant_side(bench))
    assert second["main_negative_coil_on"]  # the manager's command of the step before
    node.reset()
    again = node.step(bench.t, _plant_side(bench))
    assert not again["main_negative_coil_on"]  # not the command of before the reset


def test_the_safety_core_node_is_the_generic_node_of_its_profile() -> None:
    """BmuSafetyCore is Node('bmu_safety_core'): the profile's blocks in the spec's order,
    nothing carried over a step."""
    core = BmuSafetyCore()
    assert isinstance(core, Node)
    assert list(core.components) == ["safety_supervisor", "contactor_manager", "diagnostics"]
    assert core.carried == []


def test_a_profile_without_reference_blocks_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="no block for can_stack"):
        Node("cmu_can")
    with pytest.raises(ConfigurationError, match="unknown profile 'nope'"):
        Node("nope")
