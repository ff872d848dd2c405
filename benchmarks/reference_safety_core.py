"""Cost of one step of each reference safety-core component, not a test.

    .venv/bin/python benchmarks/reference_safety_core.py

Prints µs per step of the safety supervisor, the contactor manager (HV path closed) and the
diagnostics for 96 cells, with numpy arrays and with Python lists as array inputs, and the
real-time factor of the three together at dt = 10 ms. Best of five runs of 100 000 steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from reference_impl.functions.contactors import ContactorManager
from reference_impl.functions.safety import SafetySupervisor
from reference_impl.interfaces import ContactorState
from reference_impl.services.diagnostics import Diagnostics

N_CELLS, N_SENSORS, DT = 96, 24, 0.01


def _supervisor_inputs(as_lists: bool) -> dict[str, Any]:
    rng = np.random.default_rng(1)
    v = 3.7 + 0.002 * rng.standard_normal(N_CELLS)
    temps = 25.0 + rng.standard_normal(N_SENSORS)
    inputs: dict[str, Any] = {
        "cell_voltage_V": v, "cell_voltage_valid": np.ones(N_CELLS, dtype=bool),
        "cell_temperature_degC": temps, "cell_temperature_valid": np.ones(N_SENSORS, dtype=bool),
        "cell_monitor_age_s": 0.05, "pack_current_A": -50.0, "current_sensor_age_s": 0.0,
        "pack_voltage_V": float(v.sum()), "insulation_resistance_ohm": 1.0e7,
        "fault_reset_request": False,
    }
    if as_lists:
        inputs = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in inputs.items()}
    return inputs


CONTACTOR_INPUTS = {
    "close_request": True, "contactor_open_request": False, "fault_reset_request": False,
    "pack_voltage_V": 355.0, "link_voltage_V": 355.0, "pack_current_A": -50.0,
}


def _closed_manager() -> ContactorManager:
    """A manager brought to the closed state by a plant whose feedback follows at once."""
    manager = ContactorManager()
    fb = {"main_positive_closed_fb": False, "main_negative_closed_fb": False,
          "precharge_closed_fb": False}
    out: dict[str, Any] = {}
    for k in range(100):
        out = manager.step(k * DT, {**CONTACTOR_INPUTS, **fb})
        fb = {f"{c}_closed_fb": out[f"{c}_close_cmd"]
              for c in ("main_positive", "main_negative", "precharge")}
    assert out["contactor_state"] == ContactorState.CLOSED
    CONTACTOR_INPUTS.update(fb)
    return manager


def _us_per_step(step: Callable[[float, dict[str, Any]], Any], inputs: dict[str, Any],
                 n: int = 100_000) -> float:
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for k in range(n):
            step(k * DT, inputs)
        best = min(best, (time.perf_counter() - start) / n * 1e6)
    return best


def main() -> None:
    sup = _us_per_step(SafetySupervisor().step, _supervisor_inputs(as_lists=False))
    sup_lists = _us_per_step(SafetySupervisor().step, _supervisor_inputs(as_lists=True))
    cm = _us_per_step(_closed_manager().step, CONTACTOR_INPUTS)
    diag = _us_per_step(Diagnostics().step, {"safety_fault_flags": 0, "contactor_fault_flags": 0,
                                             "fault_reset_request": False})
    total = sup + cm + diag
    print(f"{N_CELLS} cells, {N_SENSORS} temperature sensors, µs per step:")
    print(f"  safety_supervisor  {sup:6.2f}  (Python lists as array inputs: {sup_lists:.2f})")
    print(f"  contactor_manager  {cm:6.2f}")
    print(f"  diagnostics        {diag:6.2f}")
    print(f"  together           {total:6.2f}  -> {DT * 1e6 / total:.0f}x real time at 10 ms")


if __name__ == "__main__":
    main()
