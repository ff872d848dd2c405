"""The basic protection of a switch-per-direction power path (spec: interfaces/protection.yaml,
requirements OBSA-PROT-*).

A charge and a discharge MOSFET sit in series, back to back; each blocks one direction of
current. Every supervised quantity has one limit, one hysteresis and one delay (a *rule*).
Each step:

1. reduce the measurement records to the supervised values: highest and lowest cell voltage
   and temperature over the cells the cell monitor vouches for, the charge current
   ``max(I, 0)`` and the discharge current ``max(−I, 0)``;
2. update every rule: beyond its limit for its delay it becomes active; a voltage,
   temperature or invalid-measurement rule releases by itself once its value is back inside
   by the hysteresis (an invalid measurement: once valid), an over-current or short-circuit
   rule only on fault_reset_request with its value back inside the limit;
3. switch a direction on only while close_request is raised and no active rule blocks it.

The rules are a table, so a design with other limits changes data, not code.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..component import Block
from ..interfaces import SafetySupervisorFault as F
from ..services.debounce import Debounce
from .limits import Extremes

COMPONENT = "protection"
_CHARGE, _DISCHARGE = 1, 2  # the directions a rule blocks, as bits

#: value names, in the order _values() returns them
_V_MAX, _V_MIN, _I_CHARGE, _I_DISCHARGE, _T_MAX, _T_MIN, _V_BAD, _T_BAD = range(8)


@dataclass(frozen=True)
class Rule:
    """One protection: value index, fault bit, upper limit?, parameter names, blocked
    directions, and whether it releases by itself (else on a reset request)."""

    value: int
    fault: int
    upper: bool
    limit: str | None  # None: the value is a 0/1 condition (an invalid measurement)
    hysteresis: str | None
    delay: str
    blocks: int
    releases: bool
    needs: str | None = None  # a parameter of an optional feature: the rule exists with it


RULES = (
    Rule(_V_MAX, int(F.CELL_OVERVOLTAGE), True, "cell_overvoltage_V",
         "cell_overvoltage_hysteresis_V", "cell_overvoltage_delay_s", _CHARGE, True),
    Rule(_V_MIN, int(F.CELL_UNDERVOLTAGE), False, "cell_undervoltage_V",
         "cell_undervoltage_hysteresis_V", "cell_undervoltage_delay_s", _DISCHARGE, True),
    Rule(_I_CHARGE, int(F.CHARGE_OVERCURRENT), True, "charge_overcurrent_A", None,
         "charge_overcurrent_delay_s", _CHARGE, False),
    Rule(_I_DISCHARGE, int(F.DISCHARGE_OVERCURRENT), True, "discharge_overcurrent_A", None,
         "discharge_overcurrent_delay_s", _DISCHARGE, False),
    Rule(_I_DISCHARGE, int(F.DISCHARGE_OVERCURRENT), True, "short_circuit_A", None,
         "short_circuit_delay_s", _DISCHARGE, False, needs="short_circuit_A"),
    Rule(_T_MAX, int(F.CHARGE_OVERTEMPERATURE), True, "charge_temperature_max_degC",
         "temperature_hysteresis_K", "temperature_delay_s", _CHARGE, True),
    Rule(_T_MIN, int(F.CHARGE_UNDERTEMPERATURE), False, "charge_temperature_min_degC",
         "temperature_hysteresis_K", "temperature_delay_s", _CHARGE, True),
    Rule(_T_MAX, int(F.DISCHARGE_OVERTEMPERATURE), True, "discharge_temperature_max_degC",
         "temperature_hysteresis_K", "temperature_delay_s", _DISCHARGE, True),
    Rule(_T_MIN, int(F.DISCHARGE_UNDERTEMPERATURE), False, "discharge_temperature_min_degC",
         "temperature_hysteresis_K", "temperature_delay_s", _DISCHARGE, True),
    Rule(_V_BAD, int(F.CELL_VOLTAGE_INVALID), True, None, None, "invalid_measurement_delay_s",
         _CHARGE | _DISCHARGE, True),
    Rule(_T_BAD, int(F.CELL_TEMPERATURE_INVALID), True, None, None,
         "invalid_measurement_delay_s", _CHARGE | _DISCHARGE, True),
)


class _Active:
    """A rule with its thresholds in upper-limit form and its state."""

    __slots__ = ("rule", "sign", "limit", "release_below", "debounce", "active")

    def __init__(self, rule: Rule, p: Mapping[str, Any]) -> None:
        self.rule = rule
        self.sign = 1.0 if rule.upper else -1.0
        self.limit = self.sign * p[rule.limit] if rule.limit else 0.5
        hysteresis = p[rule.hysteresis] if rule.hysteresis else 0.0
        self.release_below = self.limit - hysteresis if rule.releases else self.limit
        self.debounce = Debounce(p[rule.delay])
        self.active = False

    def update(self, value: float, t: float, reset: bool) -> None:
        x = self.sign * value  # NaN compares false: neither trips nor releases
        if not self.active:
            self.active = self.debounce.update(x > self.limit, t)
            return
        if (self.rule.releases or reset) and x <= self.release_below:
            self.active = False
            self.debounce.reset()


class Protection(Block):
    """Single-level limits switching a charge and a discharge MOSFET."""

    COMPONENT = COMPONENT

    def _setup(self, p: dict[str, Any]) -> None:
        # the short-circuit rule exists only with hardware_short_circuit_protection, whose
        # parameters the module then receives
        self._rules = tuple(r for r in RULES if r.needs is None or r.needs in p)
        self._p = p

    def reset(self) -> None:
        self._active = [_Active(rule, self._p) for rule in self._rules]
        self._cell_voltages = Extremes()
        self._cell_temperatures = Extremes()

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        v_max, v_min, _, voltages_ok = self._cell_voltages(inputs["cell_voltage_V"],
                                                           inputs["cell_voltage_valid"])
        t_max, t_min, _, temperatures_ok = self._cell_temperatures(
            inputs["cell_temperature_degC"], inputs["cell_temperature_valid"])
        current = float(inputs["pack_current_A"])
        values = (v_max, v_min, max(current, 0.0) if current == current else math.nan,
                  max(-current, 0.0) if current == current else math.nan, t_max, t_min,
                  0.0 if voltages_ok else 1.0, 0.0 if temperatures_ok else 1.0)
        reset = bool(inputs.get("fault_reset_request", False))
        flags = blocked = 0
        for state in self._active:
            state.update(values[state.rule.value], t, reset)
            if state.active:
                flags |= state.rule.fault
                blocked |= state.rule.blocks
        enabled = bool(inputs.get("close_request", False))
        return {
            "charge_fet_cmd": enabled and not blocked & _CHARGE,
            "discharge_fet_cmd": enabled and not blocked & _DISCHARGE,
            "protection_fault_flags": flags,
        }
