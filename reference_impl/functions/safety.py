"""The safety supervisor (spec: interfaces/safety_supervisor.yaml, requirements OBSA-SAFE-*).

What it does each step, in order:

1. reduce the measurement records to the supervised quantities: highest and lowest cell
   voltage and temperature over the cells that the cell monitor vouches for, charge current
   ``max(I, 0)`` and discharge current ``max(−I, 0)`` (pack current is positive when charging);
2. update the eight three-level limits (:class:`~.limits.ThreeLevelLimit`); the two charge
   temperature limits apply only while the pack is charged (I > rest_current_A);
3. debounce the other fault conditions: deep discharge, insulation, pack-voltage
   plausibility, invalid cell voltages or temperatures; latch the sensor timeouts at once;
4. on fault_reset_request, clear every latched fault whose condition has healed (a limit
   fault: back inside its MSL by the hysteresis, on valid measurements only — every cell
   valid, the current sensor alive and its reading a number); deep discharge never clears;
5. derive the outputs. Nominal current limits are the MOL currents; a request flag caps the
   limit in its direction at derating_factor × MOL; charging is not permitted (charge limit
   0) while a cell temperature is outside the charge RSL window, at rest too, until it is
   back inside by the hysteresis. Any latched fault zeroes both limits and raises
   contactor_open_request in the very step in which it latches (OBSA-SAFE-016).
   safety_state is the highest level reached: lockout, fault, derating (a request flag or
   no charge permission), warning (a warning flag or the insulation warning), normal.

NaN measurements never crash the supervisor: a NaN cell voltage or temperature counts as an
invalid measurement, a NaN pack voltage as implausible, a NaN current or sensor age as a lost
sensor, a NaN insulation resistance as an insulation fault.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..component import Block, ConfigurationError
from ..interfaces import DTC_TABLE, SafetyState, SafetySupervisorFault
from ..services.debounce import Debounce
from .limits import Extremes, ThreeLevelLimit

COMPONENT = "safety_supervisor"
F = SafetySupervisorFault

_CHARGE, _DISCHARGE = "charge", "discharge"

#: The eight limit quantities: (quantity, fault code, upper limit?, unit suffix of its level
#: parameters, current direction it derates). Each limit has its own parameters (the spec's
#: limit_sets): levels ``<quantity>_{mol,rsl,msl}_<unit>``, hysteresis
#: ``<quantity>_hysteresis_<unit>`` (K for temperatures) and ``<quantity>_fault_delay_s``.
LIMITS = (
    ("cell_voltage_max", F.CELL_OVERVOLTAGE, True, "V", _CHARGE),
    ("cell_voltage_min", F.CELL_UNDERVOLTAGE, False, "V", _DISCHARGE),
    ("charge_current_max", F.CHARGE_OVERCURRENT, True, "A", _CHARGE),
    ("discharge_current_max", F.DISCHARGE_OVERCURRENT, True, "A", _DISCHARGE),
    ("charge_temperature_max", F.CHARGE_OVERTEMPERATURE, True, "degC", _CHARGE),
    ("charge_temperature_min", F.CHARGE_UNDERTEMPERATURE, False, "degC", _CHARGE),
    ("discharge_temperature_max", F.DISCHARGE_OVERTEMPERATURE, True, "degC", _DISCHARGE),
    ("discharge_temperature_min", F.DISCHARGE_UNDERTEMPERATURE, False, "degC", _DISCHARGE),
)
#: Limits that apply only while the pack is charged (indices into LIMITS).
_CHARGING_ONLY = frozenset({4, 5})


def _levels(p: Mapping[str, Any], quantity: str, unit: str) -> tuple[float, float, float]:
    """(MOL, RSL, MSL) of a limit quantity: its parameters ``<quantity>_{mol,rsl,msl}_<unit>``."""
    return p[f"{quantity}_mol_{unit}"], p[f"{quantity}_rsl_{unit}"], p[f"{quantity}_msl_{unit}"]


def _hysteresis(p: Mapping[str, Any], quantity: str, unit: str) -> float:
    """The hysteresis of a limit quantity (a temperature difference is in K)."""
    return p[f"{quantity}_hysteresis_{'K' if unit == 'degC' else unit}"]


def _derate_mask(direction: str) -> int:
    """The bits of the limits whose request flag derates the current in ``direction``."""
    mask = 0
    for _quantity, fault, _upper, _unit, derates in LIMITS:
        if derates == direction:
            mask |= int(fault)
    return mask


def _severity_mask(*severities: str) -> int:
    """The bits of this component's fault codes that have one of ``severities``."""
    mask = 0
    for _dtc, component, _fault, bit, severity in DTC_TABLE:
        if component == COMPONENT and severity in severities:
            mask |= 1 << bit
    return mask


# "fault" and "lockout" latch, open the contactors and zero the limits; a "warning" fault
# code is a live flag (the insulation warning).
_LATCHING = _severity_mask("fault", "lockout")
_LOCKOUT = _severity_mask("lockout")
_CHARGE_DERATE_MASK = _derate_mask(_CHARGE)
_DISCHARGE_DERATE_MASK = _derate_mask(_DISCHARGE)

# Plain ints for the step: IntFlag arithmetic is slow and its results are not plain ints.
_DEEP_DISCHARGE = int(F.DEEP_DISCHARGE)
_INSULATION_FAULT = int(F.INSULATION_FAULT)
_INSULATION_WARNING = int(F.INSULATION_WARNING)
_IMPLAUSIBLE = int(F.PACK_VOLTAGE_IMPLAUSIBLE)
_VOLTAGE_INVALID = int(F.CELL_VOLTAGE_INVALID)
_TEMPERATURE_INVALID = int(F.CELL_TEMPERATURE_INVALID)
_CELL_MONITOR_TIMEOUT = int(F.CELL_MONITOR_TIMEOUT)
_CURRENT_SENSOR_TIMEOUT = int(F.CURRENT_SENSOR_TIMEOUT)

_NORMAL, _WARNING, _DERATING = int(SafetyState.NORMAL), int(SafetyState.WARNING), int(
    SafetyState.DERATING)
_FAULT, _LOCKED = int(SafetyState.FAULT), int(SafetyState.LOCKOUT)

_INF = math.inf


class SafetySupervisor(Block):
    """Three-level limits, plausibility, timeouts and current limits of the BMU."""

    COMPONENT = COMPONENT

    # ---- configure / reset ------------------------------------------------------------
    def _setup(self, p: dict[str, Any]) -> None:
        """Check the declared limits are ordered and precompute every threshold."""
        self._check_ordering(p)
        self._p = p
        self._charge_nominal_A = p["charge_current_max_mol_A"]
        self._discharge_nominal_A = p["discharge_current_max_mol_A"]
        self._charge_derated_A = p["derating_factor"] * self._charge_nominal_A
        self._discharge_derated_A = p["derating_factor"] * self._discharge_nominal_A
        self._charge_derate_mask = _CHARGE_DERATE_MASK
        self._discharge_derate_mask = _DISCHARGE_DERATE_MASK
        self._rest_current_A = p["rest_current_A"]
        self._charge_window_low = p["charge_temperature_min_rsl_degC"]
        self._charge_window_high = p["charge_temperature_max_rsl_degC"]
        self._charge_window_low_clear = (self._charge_window_low
                                         + p["charge_temperature_min_hysteresis_K"])
        self._charge_window_high_clear = (self._charge_window_high
                                          - p["charge_temperature_max_hysteresis_K"])
        # optional features: a parameter is absent when its feature is not claimed
        self._deep_discharge_V = p.get("deep_discharge_voltage_V", -_INF)  # never below
        self._insulation = "insulation_error_ohm" in p
        self._insulation_warning_ohm = p.get("insulation_warning_ohm", 0.0)
        self._insulation_error_ohm = p.get("insulation_error_ohm", 0.0)
        self._tolerance_V = p["pack_voltage_tolerance_V"]
        self._cell_monitor_timeout_s = p["cell_monitor_timeout_s"]
        self._current_sensor_timeout_s = p["current_sensor_timeout_s"]

    @staticmethod
    def _check_ordering(p: Mapping[str, Any]) -> None:
        """MOL < RSL < MSL (upper) or MOL > RSL > MSL (lower), and the insulation warning
        above the error threshold: the levels only protect when ordered (OBSA-SAFE-027)."""
        if "insulation_warning_ohm" in p and not p["insulation_warning_ohm"] > p[
                "insulation_error_ohm"]:
            raise ConfigurationError(
                f"{COMPONENT}: parameters insulation_warning_ohm / insulation_error_ohm: "
                f"expected warning > error, found {p['insulation_warning_ohm']} / "
                f"{p['insulation_error_ohm']}")
        for quantity, _fault, upper, unit, *_ in LIMITS:
            mol, rsl, msl = _levels(p, quantity, unit)
            ordered = mol < rsl < msl if upper else mol > rsl > msl
            if not ordered:
                sign = "<" if upper else ">"
                raise ConfigurationError(
                    f"{COMPONENT}: parameters {quantity}_mol/rsl/msl_{unit}: expected "
                    f"MOL {sign} RSL {sign} MSL, found {mol} / {rsl} / {msl}"
                )

    def reset(self) -> None:
        """Back to the power-on state: no flag, no latched fault, no lockout."""
        p = self._p
        self._limits = [
            ThreeLevelLimit(quantity, int(fault), upper, *_levels(p, quantity, unit),
                            _hysteresis(p, quantity, unit), p[f"{quantity}_fault_delay_s"])
            for quantity, fault, upper, unit, _direction in LIMITS
        ]
        self._limit_rows = [(limit, i in _CHARGING_ONLY) for i, limit in enumerate(self._limits)]
        self._deep_discharge = Debounce(p.get("deep_discharge_delay_s", 0.0))
        self._insulation_lost = Debounce(p.get("insulation_fault_delay_s", 0.0))
        self._implausible = Debounce(p["plausibility_fault_delay_s"])
        self._voltage_invalid = Debounce(p["cell_voltage_invalid_delay_s"])
        self._temperature_invalid = Debounce(p["cell_temperature_invalid_delay_s"])
        self._charge_blocked = False
        self._latched = 0
        self._cell_voltages = Extremes()
        self._cell_temperatures = Extremes()

    # ---- step -------------------------------------------------------------------------
    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        v_max_V, v_min_V, v_sum_V, voltages_ok = self._cell_voltages(
            inputs["cell_voltage_V"], inputs["cell_voltage_valid"])
        hottest_degC, coldest_degC, _, temperatures_ok = self._cell_temperatures(
            inputs["cell_temperature_degC"], inputs["cell_temperature_valid"])
        current_A = float(inputs["pack_current_A"])
        pack_V = float(inputs["pack_voltage_V"])
        # insulation monitoring is an optional feature: not claimed, no insulation fault
        insulation_ohm = (float(inputs.get("insulation_resistance_ohm", _INF))
                          if self._insulation else _INF)
        if current_A == current_A:
            charge_A = current_A if current_A > 0.0 else 0.0
            discharge_A = -current_A if current_A < 0.0 else 0.0
        else:  # NaN: neither direction is known, so neither current fault can heal
            charge_A = discharge_A = current_A
        charging = current_A > self._rest_current_A
        # one value per entry of LIMITS, in its order
        values = (v_max_V, v_min_V, charge_A, discharge_A,
                  hottest_degC, coldest_degC, hottest_degC, coldest_degC)

        # 2. three-level limits: flags and fault debounce
        latched = self._latched
        warning_flags = request_flags = 0
        for (limit, charging_only), value in zip(self._limit_rows, values, strict=True):
            if charging_only and not charging:
                if limit.warning:  # a running debounce implies the warning flag
                    limit.clear()
                continue
            if limit.busy(value):
                if limit.update(value, t):
                    latched |= limit.bit
                if limit.warning:
                    warning_flags |= limit.bit
                if limit.request:
                    request_flags |= limit.bit

        # 3. the other fault conditions
        if self._deep_discharge.update(v_min_V < self._deep_discharge_V, t):
            latched |= _DEEP_DISCHARGE
        insulation_lost = not insulation_ohm >= self._insulation_error_ohm  # NaN counts as lost
        if self._insulation_lost.update(insulation_lost, t):
            latched |= _INSULATION_FAULT
        implausible = voltages_ok and not abs(pack_V - v_sum_V) <= self._tolerance_V
        if self._implausible.update(implausible, t):
            latched |= _IMPLAUSIBLE
        if self._voltage_invalid.update(not voltages_ok, t):
            latched |= _VOLTAGE_INVALID
        if self._temperature_invalid.update(not temperatures_ok, t):
            latched |= _TEMPERATURE_INVALID
        cell_monitor_lost = not float(inputs["cell_monitor_age_s"]) <= self._cell_monitor_timeout_s
        if cell_monitor_lost:
            latched |= _CELL_MONITOR_TIMEOUT
        current_lost = (not float(inputs["current_sensor_age_s"]) <= self._current_sensor_timeout_s
                        or current_A != current_A)
        if current_lost:
            latched |= _CURRENT_SENSOR_TIMEOUT

        # 4. reset: clear what has healed. A charge-temperature fault heals by its temperature
        #    alone: once the contactors are open the pack is never "charged", and a reset must
        #    not re-arm charging at a temperature that is still beyond the MSL.
        if latched and inputs.get("fault_reset_request", False):
            healed = 0
            # a limit heals only on valid measurements of its quantity: an invalid cell or a
            # lost current sensor may hide the very value that latched the fault
            usable = (voltages_ok, voltages_ok, not current_lost, not current_lost,
                      temperatures_ok, temperatures_ok, temperatures_ok, temperatures_ok)
            for limit, value, ok in zip(self._limits, values, usable, strict=True):
                if ok and limit.healed(value):
                    healed |= limit.bit
            if not insulation_lost:
                healed |= _INSULATION_FAULT
            if voltages_ok:
                healed |= _VOLTAGE_INVALID
                if not implausible:  # pack voltage back within the tolerance of the cells' sum
                    healed |= _IMPLAUSIBLE
            if temperatures_ok:
                healed |= _TEMPERATURE_INVALID
            if not cell_monitor_lost:
                healed |= _CELL_MONITOR_TIMEOUT
            if not current_lost:
                healed |= _CURRENT_SENSOR_TIMEOUT
            latched &= ~healed  # deep discharge has no healed condition: the lockout stays
        self._latched = latched

        # 5. charge permission (temperature window, with hysteresis) and outputs
        if self._charge_blocked:
            if (coldest_degC >= self._charge_window_low_clear
                    and hottest_degC <= self._charge_window_high_clear):
                self._charge_blocked = False
        elif coldest_degC < self._charge_window_low or hottest_degC > self._charge_window_high:
            self._charge_blocked = True
        insulation_warning = not insulation_ohm >= self._insulation_warning_ohm
        faulted = latched & _LATCHING
        if faulted:
            charge_limit_A = discharge_limit_A = 0.0
            state = _LOCKED if latched & _LOCKOUT else _FAULT
        else:
            charge_limit_A = self._charge_nominal_A
            discharge_limit_A = self._discharge_nominal_A
            if request_flags & self._charge_derate_mask:
                charge_limit_A = self._charge_derated_A
            if request_flags & self._discharge_derate_mask:
                discharge_limit_A = self._discharge_derated_A
            if self._charge_blocked:
                charge_limit_A = 0.0
            if request_flags or self._charge_blocked:
                state = _DERATING
            elif warning_flags or insulation_warning:
                state = _WARNING
            else:
                state = _NORMAL
        return {
            "safety_state": state,
            "safety_warning_flags": warning_flags,
            "safety_request_flags": request_flags,
            "safety_fault_flags": latched | (_INSULATION_WARNING if insulation_warning else 0),
            "charge_current_limit_A": charge_limit_A,
            "discharge_current_limit_A": discharge_limit_A,
            "contactor_open_request": bool(faulted),
        }
