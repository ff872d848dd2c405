"""Configuration of the bench plant: pack, HV circuit and sensor accuracies.

Defaults describe a 96s NMC pack of 50 Ah cells (≈ 360 V at 50 % SoC). The sensor
accuracies are what the module under test declares (its PIXIT values); the bench keeps its
errors within 0.8 × those, so a correct module never sees more error than it declared.
Sensor cycles and contactor delays are rounded to whole steps of dt_s (delays up, to at
least one step; cycles to the nearest step).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .chemistry import CHEMISTRIES


class BenchConfigError(ValueError):
    """A BenchConfig field has a value the bench cannot simulate."""


POWER_PATHS = ("contactors", "fets")
"""The power-path topologies the bench simulates."""

@dataclass(frozen=True)
class BenchConfig:
    """Everything that defines one bench run; same config and seed → identical run."""

    # pack
    n_cells: int = 96
    n_temp_sensors: int = 24
    chemistry: str = "nmc"
    capacity_Ah: float = 50.0
    initial_soc: float = 0.5
    ambient_degC: float = 25.0
    initial_temperature_degC: float | None = None  # None: start at ambient
    soc_spread: float = 0.0  # standard deviation of the initial SoC (absolute)
    capacity_spread: float = 0.0  # relative standard deviation of the cell capacity
    resistance_spread: float = 0.0  # relative standard deviation of R0 and R1
    cell_r0_ohm: float | None = None  # None: chemistry.R0_OHM_AH / capacity_Ah
    cell_r1_ohm: float | None = None  # None: chemistry.R1_OHM_AH / capacity_Ah
    cell_tau1_s: float | None = None  # None: chemistry.TAU1_S
    cell_thermal_capacity_J_per_K: float | None = None
    cell_heat_transfer_W_per_K: float | None = None
    # each cell's passive-balancing resistor (a bench value: about 0.1 A at 3.7 V)
    balancing_resistance_ohm: float = 33.0
    # surroundings: the last cell's ambient minus the first's (linear along the string)
    ambient_gradient_K: float = 0.0
    # thermal actuators: with thermal_actuators, the module's cooling_request lets the
    # coolant flow and its heating_request switches the heaters on (off: both are ignored)
    thermal_actuators: bool = False
    coolant_temperature_degC: float = 15.0
    coolant_heat_transfer_W_per_K: float | None = None  # per cell; None: per Ah (chemistry)
    heater_power_W: float | None = None  # per cell; None: per Ah (chemistry)
    # simulation
    dt_s: float = 0.01
    seed: int = 0
    clock_start_s: float = 0.0  # simulated time of the first step (a late start: clock wrap)
    # sensors (declared accuracies; the bench stays within 0.8 × these)
    cell_voltage_accuracy_V: float = 0.002
    cell_temperature_accuracy_K: float = 1.0
    current_gain_error: float = 0.005
    current_offset_error_A: float = 0.05
    voltage_accuracy_V: float = 0.5
    insulation_accuracy: float = 0.1
    cell_monitor_cycle_s: float = 0.1
    insulation_monitor_cycle_s: float = 0.1
    # HV circuit. τ ≈ (80 Ω + R_pack) · 1 mF ≈ 80 ms: with the bleeder's 0.3 V divider
    # offset, a 362 V link (default pack) comes within 1 V of the pack after
    # τ·ln(362 / 0.71) ≈ 0.5 s. Contactor delays stay well below the spec's default
    # contactor_feedback_timeout_s (0.1 s).
    precharge_resistance_ohm: float = 80.0
    link_capacitance_F: float = 1.0e-3
    bleeder_resistance_ohm: float = 100.0e3
    link_short_resistance_ohm: float = 0.05
    contactor_close_delay_s: float = 0.03
    contactor_open_delay_s: float = 0.015
    insulation_resistance_ohm: float = 5.0e6
    # The power path: "contactors" (main positive, main negative, precharge) or "fets" (a
    # charge and a discharge MOSFET in series, back to back, each switching within a step).
    power_path: str = "contactors"

    def __post_init__(self) -> None:
        self._check()

    def _check(self) -> None:
        def bad(field: str, expected: str) -> BenchConfigError:
            return BenchConfigError(
                f"BenchConfig.{field}: expected {expected}, found {getattr(self, field)!r}"
            )

        def check(names: tuple[str, ...], ok: Callable[[float], bool], expected: str,
                  optional: bool = False) -> None:
            for name in names:
                value = getattr(self, name)
                if optional and value is None:
                    continue
                if not (_is_finite_number(value) and ok(value)):
                    raise bad(name, ("None or " if optional else "") + expected)

        if not isinstance(self.chemistry, str) or self.chemistry not in CHEMISTRIES:
            raise bad("chemistry", "one of " + ", ".join(sorted(CHEMISTRIES)))
        if self.power_path not in POWER_PATHS:
            raise bad("power_path", " or ".join(repr(p) for p in POWER_PATHS))
        if not _is_int(self.n_cells) or self.n_cells < 1:
            raise bad("n_cells", "an integer ≥ 1")
        if not _is_int(self.n_temp_sensors) or temperature_sensor_problem(
                self.n_cells, self.n_temp_sensors):
            raise bad("n_temp_sensors", f"an integer between 1 and n_cells ({self.n_cells})")
        if not _is_int(self.seed) or self.seed < 0:  # what numpy's SeedSequence takes
            raise bad("seed", "an integer ≥ 0")
        check(("capacity_Ah", "dt_s", "cell_monitor_cycle_s", "insulation_monitor_cycle_s",
               "precharge_resistance_ohm", "link_capacitance_F", "bleeder_resistance_ohm",
               "link_short_resistance_ohm", "insulation_resistance_ohm",
               "balancing_resistance_ohm"),
              lambda v: v > 0, "a finite number > 0")
        check(("cell_r0_ohm", "cell_r1_ohm", "cell_tau1_s", "cell_thermal_capacity_J_per_K",
               "cell_heat_transfer_W_per_K", "coolant_heat_transfer_W_per_K"),
              lambda v: v > 0, "a finite number > 0", optional=True)
        check(("heater_power_W",), lambda v: v >= 0, "a finite power ≥ 0 W", optional=True)
        check(("ambient_gradient_K", "coolant_temperature_degC"), lambda v: True,
              "a finite temperature (difference) in °C (K)")
        if not isinstance(self.thermal_actuators, bool):
            raise bad("thermal_actuators", "True or False")
        check(("clock_start_s",), lambda v: v >= 0, "a finite time ≥ 0 s")
        check(("soc_spread", "cell_voltage_accuracy_V", "cell_temperature_accuracy_K",
               "current_gain_error", "current_offset_error_A", "voltage_accuracy_V",
               "contactor_close_delay_s", "contactor_open_delay_s"),
              lambda v: v >= 0, "a finite number ≥ 0")
        check(("capacity_spread", "resistance_spread"), lambda v: 0 <= v < 0.3,
              "a relative standard deviation in [0, 0.3)")
        check(("insulation_accuracy",), lambda v: 0 <= v < 1, "a relative error in [0, 1)")
        check(("initial_soc",), lambda v: -0.3 <= v <= 1.3,
              "a state of charge between -0.3 and 1.3")
        check(("ambient_degC",), lambda v: True, "a finite temperature in °C")
        check(("initial_temperature_degC",), lambda v: True, "a finite temperature in °C",
              optional=True)
        if self.cell_monitor_cycle_s < self.dt_s or self.insulation_monitor_cycle_s < self.dt_s:
            raise BenchConfigError(
                "BenchConfig: sensor cycles must be at least one step "
                f"(dt_s = {self.dt_s!r}), found cell_monitor_cycle_s = "
                f"{self.cell_monitor_cycle_s!r}, insulation_monitor_cycle_s = "
                f"{self.insulation_monitor_cycle_s!r}"
            )


def temperature_sensor_problem(n_cells: int, n_temp_sensors: int) -> str | None:
    """Why a pack of ``n_cells`` series cells cannot have ``n_temp_sensors`` cell temperature
    sensors; None when it can. The manifest check refuses a pack with this same rule.

    A cell temperature sensor measures a group of one or more consecutive cells (the bench
    gives each sensor the mean of its group), so a pack has 1 … n_cells of them: more
    sensors than cells would leave a sensor on no cell.
    """
    if 1 <= n_temp_sensors <= n_cells:
        return None
    return (f"expected between 1 and the cell count ({n_cells}) cell temperature sensors "
            f"(each measures a group of one or more cells), found {n_temp_sensors}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
