"""Deliberately faulty safety supervisors: one realistic defect per requirement.

Each class is the reference :class:`SafetySupervisor` with one detail changed — a wrong
constant, a missing branch, a delay taken from the wrong quantity, a missing hysteresis —
so that it fails exactly the requirement named in ``SUPERVISOR_CATALOGUE`` and passes every
other test case. They complement ``CATALOGUE`` in :mod:`tests.faulty.modules`, which holds
the defects of the other components and the first supervisor defects.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from reference_impl.functions.limits import ThreeLevelLimit
from reference_impl.functions.safety import SafetySupervisor
from reference_impl.interfaces import SafetySupervisorFault as F
from reference_impl.services.debounce import Debounce

from .modules import Faulty, _f


class _Supervisor(SafetySupervisor):
    """The reference supervisor, with a look-up of its limits by fault code."""

    def _limit(self, fault: F) -> ThreeLevelLimit:
        return next(limit for limit in self._limits if limit.bit == int(fault))


# ----------------------------------------------------------------------------- MSL faults


class UvTripsAtRsl(_Supervisor):
    """The under-voltage fault starts its debounce at the RSL (3.1 V in the reference
    declaration) instead of the MSL: the wrong level of the table is used."""

    def reset(self) -> None:
        super().reset()
        limit = self._limit(F.CELL_UNDERVOLTAGE)
        limit.msl = limit.rsl


class ChargeOcSlowDelay(_Supervisor):
    """The charge over-current is debounced with the temperature fault delay (1 s in the
    reference declaration) instead of its own fault delay (0.1 s)."""

    def reset(self) -> None:
        super().reset()
        self._limit(F.CHARGE_OVERCURRENT).debounce = Debounce(
            self._p["charge_temperature_max_fault_delay_s"])


class DischargeOcAtChargeMsl(_Supervisor):
    """The discharge over-current compares against the charge MSL (a copy-pasted row):
    it trips at 150 A instead of the declared 300 A."""

    def reset(self) -> None:
        super().reset()
        self._limit(F.DISCHARGE_OVERCURRENT).msl = self._p["charge_current_max_msl_A"]


class ChargeOtAtDischargeMsl(_Supervisor):
    """The charge over-temperature compares against the discharge MSL (55 °C instead of
    45 °C): a hot pack is charged on."""

    def reset(self) -> None:
        super().reset()
        self._limit(F.CHARGE_OVERTEMPERATURE).msl = self._p["discharge_temperature_max_msl_degC"]


class ChargeUtHysteresisOnWrongSide(_Supervisor):
    """The charge under-temperature trip level is shifted by the hysteresis to the unsafe
    side: it trips at MSL − 5 K instead of the MSL."""

    def reset(self) -> None:
        super().reset()
        self._limit(F.CHARGE_UNDERTEMPERATURE).msl += self._p["charge_temperature_min_hysteresis_K"]


class DischargeOtOnlyWhileCharging(_Supervisor):
    """The discharge over-temperature row is in the set of charging-only limits (an index
    off by two): at rest and while discharging it is not supervised."""

    def reset(self) -> None:
        super().reset()
        self._limit_rows = [(limit, charging_only or limit.bit == int(F.DISCHARGE_OVERTEMPERATURE))
                            for limit, charging_only in self._limit_rows]


class DischargeUtWaitsForStableReading(_Supervisor):
    """The discharge under-temperature debounce restarts whenever the coldest reading
    changes: a temperature that keeps falling never latches the fault."""

    def reset(self) -> None:
        super().reset()
        self._last_coldest_degC = math.nan

    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        coldest_degC = float(np.min(inputs["cell_temperature_degC"]))
        if coldest_degC != self._last_coldest_degC:
            self._limit(F.DISCHARGE_UNDERTEMPERATURE).debounce.reset()
        self._last_coldest_degC = coldest_degC
        return super().step(t, inputs)


# ----------------------------------------------------------------------------- warning, derating


class WarningWithoutHysteresis(_Supervisor):
    """Warning flags clear as soon as the quantity is back inside the MOL (no hysteresis)."""

    def reset(self) -> None:
        super().reset()
        for limit in self._limits:
            limit.mol_clear = limit.mol


class OvDeratesDischarge(_Supervisor):
    """The over-voltage request flag reduces the discharge limit instead of the charge
    limit (its row carries the wrong current direction)."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        bit = int(F.CELL_OVERVOLTAGE)
        self._charge_derate_mask &= ~bit
        self._discharge_derate_mask |= bit


class DischargeDeratedFromMsl(_Supervisor):
    """The derated discharge limit is the derating factor times the discharge MSL current
    instead of the MOL current (150 A instead of 100 A in the reference declaration)."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._discharge_derated_A = p["derating_factor"] * p["discharge_current_max_msl_A"]


# ----------------------------------------------------------------------- latch, reset, lockout


class ResetMustBeHeld(_Supervisor):
    """A fault reset request is accepted only once it has been held for 0.5 s (a debounce on
    the request input): a short reset pulse never clears a healed fault."""

    def reset(self) -> None:
        super().reset()
        self._reset_held = Debounce(0.5)

    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        held = self._reset_held.update(bool(inputs.get("fault_reset_request", False)), t)
        return super().step(t, {**inputs, "fault_reset_request": held})


class OpenRequestOneStepLate(_Supervisor):
    """contactor_open_request is the previous step's fault state (the output was written
    before the faults were evaluated): it rises one step after the fault latches."""

    def reset(self) -> None:
        super().reset()
        self._open_requested = False

    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super().step(t, inputs)
        out["contactor_open_request"], self._open_requested = (
            self._open_requested, out["contactor_open_request"])
        return out


class ResettableLockout(_Supervisor):
    """Deep discharge is treated as an ordinary fault: a reset request clears it once the
    cell voltage has recovered."""

    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        if inputs.get("fault_reset_request", False):
            # a condition still present relatches at once: its debounce is still running
            self._latched &= ~int(F.DEEP_DISCHARGE)
        return super().step(t, inputs)


# ----------------------------------------------------------------------------- charge window


class ChargesWhenHot(_Supervisor):
    """The charge permission ignores the upper end of the charge temperature window."""

    def reset(self) -> None:
        super().reset()
        self._charge_window_high = math.inf
        self._charge_window_high_clear = math.inf


# ----------------------------------------------------------------------------- sensors, insulation


class SlowOpenWireVoltage(_Supervisor):
    """An invalid cell voltage is debounced with the temperature's invalid delay (1 s)
    instead of its own (0.2 s)."""

    def reset(self) -> None:
        super().reset()
        self._voltage_invalid = Debounce(self._p["cell_temperature_invalid_delay_s"])


class InvalidTemperatureIgnored(_Supervisor):
    """Invalid temperature sensors are left out of the extremes, but never raise the fault."""

    def reset(self) -> None:
        super().reset()
        self._temperature_invalid = Debounce(math.inf)


class CellMonitorTimeoutDoubled(_Supervisor):
    """The cell monitor counts as lost only after two timeouts ("two missed frames")."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._cell_monitor_timeout_s = 2 * p["cell_monitor_timeout_s"]


class InsulationFixedThreshold(_Supervisor):
    """The insulation fault compares against a hard-coded 40 kΩ (100 Ω/V at 400 V, the
    GB 38031 minimum) instead of the declared insulation_error_ohm."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._insulation_error_ohm = 100.0 * 400.0


class InsulationWarningAtErrorLevel(_Supervisor):
    """The insulation warning compares against the error threshold (a copy-paste): it
    never warns before the fault."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._insulation_warning_ohm = p.get("insulation_error_ohm", 0.0)


# ----------------------------------------------------------------------------- nominal operation


class TemperatureJumpCheck(_Supervisor):
    """A thermal plausibility check, run while current flows (|I| > rest_current_A), marks
    a temperature sensor invalid when its reading moves by more than 1 K between two
    samples — tighter than the declared ±2 K sensor accuracy, so measurement noise alone
    latches the cell_temperature_invalid fault in operation (false trips)."""

    JUMP_K = 1.0

    def reset(self) -> None:
        super().reset()
        self._previous_degC: np.ndarray | None = None
        self._jumped: np.ndarray | None = None

    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        temps_degC = np.array(inputs["cell_temperature_degC"], dtype=float)
        previous = self._previous_degC
        if previous is None or previous.shape != temps_degC.shape or self._jumped is None:
            self._jumped = np.zeros(temps_degC.shape, dtype=bool)
        elif not np.array_equal(temps_degC, previous):  # a new sample
            self._jumped = np.abs(temps_degC - previous) > self.JUMP_K
        self._previous_degC = temps_degC
        if not abs(float(inputs["pack_current_A"])) > self._rest_current_A:
            return super().step(t, inputs)
        valid = np.asarray(inputs["cell_temperature_valid"], dtype=bool) & ~self._jumped
        return super().step(t, {**inputs, "cell_temperature_valid": valid})


_S = "safety_supervisor"

#: faulty supervisor → the requirement it must fail (and it must fail no other)
SUPERVISOR_CATALOGUE: tuple[Faulty, ...] = (
    _f(_S, UvTripsAtRsl, "OBSA-SAFE-002"),
    _f(_S, ChargeOcSlowDelay, "OBSA-SAFE-003"),
    _f(_S, DischargeOcAtChargeMsl, "OBSA-SAFE-004"),
    _f(_S, ChargeOtAtDischargeMsl, "OBSA-SAFE-005"),
    _f(_S, ChargeUtHysteresisOnWrongSide, "OBSA-SAFE-006"),
    _f(_S, DischargeOtOnlyWhileCharging, "OBSA-SAFE-007"),
    _f(_S, DischargeUtWaitsForStableReading, "OBSA-SAFE-008"),
    _f(_S, WarningWithoutHysteresis, "OBSA-SAFE-009"),
    _f(_S, OvDeratesDischarge, "OBSA-SAFE-010"),
    _f(_S, DischargeDeratedFromMsl, "OBSA-SAFE-011"),
    _f(_S, ResetMustBeHeld, "OBSA-SAFE-015"),
    _f(_S, OpenRequestOneStepLate, "OBSA-SAFE-016"),
    _f(_S, ResettableLockout, "OBSA-SAFE-017"),
    _f(_S, ChargesWhenHot, "OBSA-SAFE-019"),
    _f(_S, SlowOpenWireVoltage, "OBSA-SAFE-021"),
    _f(_S, InvalidTemperatureIgnored, "OBSA-SAFE-022"),
    _f(_S, CellMonitorTimeoutDoubled, "OBSA-SAFE-023"),
    _f(_S, InsulationFixedThreshold, "OBSA-SAFE-025"),
    _f(_S, InsulationWarningAtErrorLevel, "OBSA-SAFE-026"),
    _f(_S, TemperatureJumpCheck, "OBSA-SAFE-028"),
)
