"""Deliberately faulty thermal managers, one realistic defect each, and a correct thermal
manager written unlike the reference; the thermal area of the full BMS's catalogue
(:func:`area`, registered in :mod:`.full_bms_runs`).

Each faulty class is the reference :class:`ThermalManager` with one detail changed — a
calibration offset on a threshold, a missing hysteresis, invalid sensors counted, a wrong
priority, a latched warning — and fails exactly the requirements named in ``THERMAL``.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from reference_impl.component import Block, ConfigurationError
from reference_impl.functions.thermal import ThermalManager
from reference_impl.interfaces import ThermalManagerFault

from .modules import Faulty, _f

TM = "thermal_manager"
_SPREAD = int(ThermalManagerFault.TEMPERATURE_SPREAD)


# ----------------------------------------------------------------------------- thresholds
class CoolingOnOffset(ThermalManager):
    """Cooling starts 1.5 K above the declared cooling_on_temperature_degC (a sensor
    calibration offset applied to the threshold)."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._cooling_on += 1.5


class NoCoolingHysteresis(ThermalManager):
    """Cooling is withdrawn as soon as the highest temperature falls below
    cooling_on_temperature_degC: cooling_off_temperature_degC is never used."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._cooling_off = self._cooling_on - 1e-9


class CoolingCountsInvalid(ThermalManager):
    """The cooling switch takes the highest of all readings, the invalid ones too: a shorted
    sensor (reading hot) starts cooling and keeps it on. Breaks both cooling requirements,
    each of which speaks of the highest *valid* temperature."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        before = self._cooling_due
        out = super()._step(t, inputs)
        self._cooling_due = before
        temps = np.asarray(inputs["cell_temperature_degC"], dtype=float)
        temps = temps[np.isfinite(temps)]
        hottest = float(temps.max()) if len(temps) else -math.inf
        if self._cooling_due:
            self._cooling_due = not hottest <= self._cooling_off
        else:
            self._cooling_due = hottest >= self._cooling_on
        out["cooling_request"] = self._cooling_due
        out["heating_request"] = self._heating_due and not self._cooling_due
        return out


class HeatingOnHigh(ThermalManager):
    """Heating starts 1 K above the declared heating_on_temperature_degC."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._heating_on += 1.0


class HeatingOffLate(ThermalManager):
    """Heating is withdrawn 1.5 K above the declared heating_off_temperature_degC (the
    hysteresis added to the off threshold once more)."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._heating_off += 1.5


# ----------------------------------------------------------------------------- priority
class BothRequests(ThermalManager):
    """No priority: both switches drive their requests, so both are raised together when
    both are due."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        out["heating_request"] = self._heating_due
        return out


class HeatingWins(ThermalManager):
    """The wrong priority: while heating is due, cooling is not requested."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        out["cooling_request"] = self._cooling_due and not self._heating_due
        out["heating_request"] = self._heating_due
        return out


class HeatingRunOn(ThermalManager):
    """After cooling ends, heating that is still due waits a 5 s coolant-pump run-on before
    it is requested (the requirement lets it wait for the cooling request only)."""

    RUN_ON_S = 5.0

    def reset(self) -> None:
        super().reset()
        self._cooling_ended_s = -math.inf

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        was_cooling = self._cooling_due
        out = super()._step(t, inputs)
        if was_cooling and not self._cooling_due:
            self._cooling_ended_s = t
        if t - self._cooling_ended_s < self.RUN_ON_S:
            out["heating_request"] = False
        return out


# ----------------------------------------------------------------------------- spread
class SpreadLatched(ThermalManager):
    """The spread warning latches: it stays set once the spread has come back."""

    def reset(self) -> None:
        super().reset()
        self._latched = 0

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        self._latched |= int(out["thermal_fault_flags"])
        out["thermal_fault_flags"] = self._latched
        return out


class SpreadCountsInvalid(ThermalManager):
    """The spread is taken over every finite reading, the invalid ones too: an open sensor
    (reading −50 °C) sets the warning."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        temps = np.asarray(inputs["cell_temperature_degC"], dtype=float)
        temps = temps[np.isfinite(temps)]
        spread = float(np.ptp(temps)) if len(temps) else 0.0
        out["thermal_fault_flags"] = _SPREAD if spread > self._spread_limit_K else 0
        return out


class SpreadLimitHigh(ThermalManager):
    """The spread warning sets 1 K beyond the declared temperature_spread_limit_K."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._spread_limit_K += 1.0


# ----------------------------------------------------------------------------- correct
class _Mode(enum.Enum):
    IDLE = 0
    COOLING = 1
    HEATING = 2


class ModeThermalManager(Block):
    """A correct thermal manager unlike the reference: one mode (idle, cooling, heating) and
    a heating demand remembered while cooling runs, the extremes taken with masked numpy
    reductions, the thresholds checked in one comparison chain, the spread judged on the
    same extremes."""

    COMPONENT = TM

    def _setup(self, p: dict[str, Any]) -> None:
        h_on, h_off = float(p["heating_on_temperature_degC"]), float(
            p["heating_off_temperature_degC"])
        c_off, c_on = float(p["cooling_off_temperature_degC"]), float(
            p["cooling_on_temperature_degC"])
        if not h_on < h_off < c_off < c_on:
            raise ConfigurationError(f"{TM}: thresholds not ordered: {h_on}, {h_off}, {c_off}, "
                                     f"{c_on}")
        self._levels = (h_on, h_off, c_off, c_on)
        self._limit = float(p["temperature_spread_limit_K"])

    def reset(self) -> None:
        self._mode = _Mode.IDLE
        self._heat_wanted = False

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        temps = np.ma.masked_invalid(np.asarray(inputs["cell_temperature_degC"], dtype=float))
        temps = np.ma.masked_where(~np.asarray(inputs["cell_temperature_valid"], dtype=bool),
                                   temps)
        h_on, h_off, c_off, c_on = self._levels
        if temps.count() == 0:
            self._mode, self._heat_wanted = _Mode.IDLE, False
            return {"cooling_request": False, "heating_request": False,
                    "thermal_fault_flags": 0}
        high, low = float(temps.max()), float(temps.min())
        cooling = high > c_off if self._mode is _Mode.COOLING else high >= c_on
        if self._heat_wanted:
            self._heat_wanted = low < h_off
        else:
            self._heat_wanted = low <= h_on
        if cooling:
            self._mode = _Mode.COOLING
        elif self._heat_wanted:
            self._mode = _Mode.HEATING
        else:
            self._mode = _Mode.IDLE
        return {"cooling_request": self._mode is _Mode.COOLING,
                "heating_request": self._mode is _Mode.HEATING,
                "thermal_fault_flags": _SPREAD if high - low > self._limit else 0}


class ModeThermalManagerNarrow(ModeThermalManager):
    """:class:`ModeThermalManager`, certified on another declaration
    (:func:`_other_thresholds`)."""


def _other_thresholds(data: dict[str, Any]) -> None:
    """A declaration unlike the reference's: a narrow cooling hysteresis, heating below
    0 °C, a tight spread limit."""
    data["configuration"][TM] = {
        "cooling_on_temperature_degC": 45.0, "cooling_off_temperature_degC": 44.0,
        "heating_on_temperature_degC": -5.0, "heating_off_temperature_degC": 3.0,
        "temperature_spread_limit_K": 1.5}


def _correct(cls: type, edit: Any = None) -> Faulty:
    return Faulty(cls.__name__, TM, cls, frozenset(), edit=edit)


#: faulty thermal managers → the requirements each must fail (and no other)
THERMAL: tuple[Faulty, ...] = (
    _f(TM, CoolingOnOffset, "OBSA-THERM-001"),
    _f(TM, NoCoolingHysteresis, "OBSA-THERM-002"),
    _f(TM, CoolingCountsInvalid, "OBSA-THERM-001", "OBSA-THERM-002"),
    _f(TM, HeatingOnHigh, "OBSA-THERM-003"),
    _f(TM, HeatingOffLate, "OBSA-THERM-004"),
    _f(TM, BothRequests, "OBSA-THERM-005"),
    _f(TM, HeatingWins, "OBSA-THERM-005"),
    _f(TM, HeatingRunOn, "OBSA-THERM-005"),
    _f(TM, SpreadLatched, "OBSA-THERM-006"),
    _f(TM, SpreadCountsInvalid, "OBSA-THERM-006"),
    _f(TM, SpreadLimitHigh, "OBSA-THERM-006"),
)

def _two_sensors(data: dict[str, Any]) -> None:
    """Twelve cells with two temperature sensors: the spread and both requests due at once
    are judged, with no invalid sensor beside the swept one."""
    data["pack"].update(cell_count=12, temperature_sensor_count=2)


def area() -> Any:
    # imported here: full_bms_runs calls area() at its end, and a module
    # manifest imports this module alone
    from .full_bms_runs import Area, lfp_200_cells, twelve_cells_one_sensor

    return Area(
        select="test_thermal or thermal_manager",
        faulty=THERMAL,
        correct=(_correct(ModeThermalManager),
                 _correct(ModeThermalManagerNarrow, _other_thresholds)),
        packs={"twelve cells, one sensor": twelve_cells_one_sensor,
               "twelve cells, two sensors": _two_sensors,
               "200 LFP cells": lfp_200_cells},
    )

