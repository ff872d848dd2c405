"""Balancings for the full BMS's balancing area (OBSA-BAL-001..007): faulty ones, each the
reference :class:`Balancing` with one realistic defect, so that it fails exactly the
requirement it breaks; and one written otherwise, which must certify. :func:`area` is the
area's entry of :data:`.full_bms_runs.AREAS`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from reference_impl.component import Block, ConfigurationError
from reference_impl.functions.balancing import PERMITTED_STATES, Balancing
from reference_impl.interfaces import SafetyState

from .modules import Faulty, _f

COMPONENT = "balancing"


# ----------------------------------------------------------------------------- OBSA-BAL-001
class StartsFiftyMillivoltsLate(Balancing):
    """The start threshold is taken 50 mV above the declared one (a constant of a foxBMS
    configuration left in: a cell starts at threshold + 50 mV)."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._start_above_V += 0.05


class BalancesAllButTheLowest(Balancing):
    """Every valid cell but the lowest is commanded as soon as balancing is permitted: the
    start condition ``difference > threshold`` was written ``difference > 0``."""

    def _select(self, difference: np.ndarray, balancing: np.ndarray) -> np.ndarray:
        return (difference > 1e-9) | (balancing & (difference > self._stop_at_V))


# ----------------------------------------------------------------------------- OBSA-BAL-002
class NoHysteresis(Balancing):
    """A balanced cell stops as soon as it is back at the start threshold: the hysteresis
    is ignored."""

    def _select(self, difference: np.ndarray, balancing: np.ndarray) -> np.ndarray:
        return difference > self._start_above_V


class StopsAtTheHysteresis(Balancing):
    """A balanced cell stops once it is within balancing_hysteresis_V of the lowest (the
    parameter read as the stop level, as some firmware names it) instead of the threshold
    less the hysteresis."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._stop_at_V = p["balancing_hysteresis_V"] + 1e-9


def _wide_hysteresis(data: dict[str, Any]) -> None:
    """A threshold of 30 mV with 20 mV of hysteresis: a hysteresis far beyond the 5 mV
    accuracy of the stop threshold, so that stopping at the start threshold shows (the
    reference declaration's 5 mV hysteresis is within it)."""
    data["configuration"][COMPONENT].update(balancing_threshold_V=0.03,
                                         balancing_hysteresis_V=0.02)


# ----------------------------------------------------------------------------- OBSA-BAL-003
class SignedRestCurrent(Balancing):
    """The rest condition compares the signed current with the rest current: any discharge
    counts as rest."""

    def _at_rest(self, t: float, current_A: float) -> bool:
        return self._rest.update(current_A < self._rest_current_A, t)


class RestTimerNotRestarted(Balancing):
    """The rest timer pauses while the current is at or above the rest current instead of
    starting over: time below it is accumulated across interruptions."""

    def reset(self) -> None:
        super().reset()
        self._below_s = 0.0
        self._last_t: float | None = None

    def _at_rest(self, t: float, current_A: float) -> bool:
        below = abs(current_A) < self._rest_current_A
        if below and self._last_t is not None:
            self._below_s += t - self._last_t
        self._last_t = t if below else None
        return below and self._below_s >= self._rest_time_s - 1e-9


class RestKeptWhileBalancing(Balancing):
    """The rest condition is checked only before balancing starts: once cells are balanced,
    a current rising above the rest current no longer ends it."""

    def _at_rest(self, t: float, current_A: float) -> bool:
        rest = super()._at_rest(t, current_A)
        return rest or bool(self._balancing.any())


# ----------------------------------------------------------------------------- OBSA-BAL-004
class LastCellNotChecked(Balancing):
    """The minimum-voltage check loops over all cells but the last (an off-by-one)."""

    def _voltages_permit(self, voltages: np.ndarray, usable: np.ndarray) -> bool:
        return super()._voltages_permit(voltages[:-1], usable[:-1])


class MinVoltageCheckedOnlyAtStart(Balancing):
    """The minimum cell voltage is checked only before balancing starts: cells already
    balanced go on while a cell falls below it."""

    def _voltages_permit(self, voltages: np.ndarray, usable: np.ndarray) -> bool:
        return bool(self._balancing.any()) or super()._voltages_permit(voltages, usable)


# ----------------------------------------------------------------------------- OBSA-BAL-005
class InvalidTemperatureIgnored(Balancing):
    """Only valid temperature readings are compared with the maximum: an invalid sensor
    blocks nothing."""

    def _temperatures_permit(self, temperatures: np.ndarray, valid: np.ndarray) -> bool:
        return bool(np.all(~valid | (temperatures <= self._max_temperature_degC)))


class LastSensorNotChecked(Balancing):
    """The temperature check loops over all sensors but the last (an off-by-one)."""

    def _temperatures_permit(self, temperatures: np.ndarray, valid: np.ndarray) -> bool:
        return super()._temperatures_permit(temperatures[:-1], valid[:-1])


# ----------------------------------------------------------------------------- OBSA-BAL-006
class BalancesInLockout(Balancing):
    """Only fault blocks balancing; lockout, added to the state machine later, was
    forgotten."""

    @staticmethod
    def _safety_permits(state: int) -> bool:
        return state in PERMITTED_STATES | {int(SafetyState.LOCKOUT)}


# ----------------------------------------------------------------------------- OBSA-BAL-007
class InvalidTakenAsLowest(Balancing):
    """The lowest cell is taken over every finite reading, valid or not: an open sense wire
    reading 0 V switches on every other resistor."""

    @staticmethod
    def _lowest(voltages: np.ndarray, usable: np.ndarray) -> float:
        finite = voltages[np.isfinite(voltages)]
        return float(np.min(finite))


class InvalidCellBalanced(Balancing):
    """The validity is used for the lowest cell only: a cell reading high but flagged
    invalid is balanced."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        voltages = np.asarray(inputs["cell_voltage_V"], dtype=float)
        usable = np.asarray(inputs["cell_voltage_valid"], dtype=bool) & np.isfinite(voltages)
        at_rest = self._at_rest(t, float(inputs["pack_current_A"]))
        if voltages.shape != self._balancing.shape:
            self._balancing = np.zeros(voltages.shape, dtype=bool)
        if (at_rest and self._safety_permits(int(inputs["safety_state"]))
                and self._voltages_permit(voltages, usable)
                and self._temperatures_permit(
                    np.asarray(inputs["cell_temperature_degC"], dtype=float),
                    np.asarray(inputs["cell_temperature_valid"], dtype=bool))
                and usable.any()):
            difference = voltages - self._lowest(voltages, usable)
            # the defect: finite instead of usable
            self._balancing = np.isfinite(voltages) & self._select(difference, self._balancing)
        else:
            self._balancing = np.zeros(voltages.shape, dtype=bool)
        return {"balancing_cmd": self._balancing.copy(),
                "balancing_active": bool(self._balancing.any())}


# ----------------------------------------------------------------------------- correct
class CommandsOneStepLater(Balancing):
    """The reference's decision applied one step later (the switches are written to the
    cell monitor in the next cycle): every reaction within the one step the spec allows."""

    def reset(self) -> None:
        super().reset()
        self._pending: dict[str, Any] | None = None

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        decided = super()._step(t, inputs)
        earlier, self._pending = self._pending, decided
        if earlier is None or np.shape(earlier["balancing_cmd"]) != np.shape(
                decided["balancing_cmd"]):
            return {"balancing_cmd": np.zeros(np.shape(decided["balancing_cmd"]), dtype=bool),
                    "balancing_active": False}
        return earlier



class SortedListBalancing(Block):
    """A balancing written otherwise: the rest timer counts whole milliseconds since the
    current last went below the rest current (an integer, as a microcontroller keeps it),
    the cells are visited in a list sorted by voltage, the balanced cells are a set of
    indices, and the comparisons are made in whole microvolts."""

    COMPONENT = COMPONENT

    def _setup(self, p: dict[str, Any]) -> None:
        threshold_uV = round(p["balancing_threshold_V"] * 1e6)
        hysteresis_uV = round(p["balancing_hysteresis_V"] * 1e6)
        if hysteresis_uV > threshold_uV:
            raise ConfigurationError(f"{COMPONENT}: balancing_hysteresis_V above "
                                     "balancing_threshold_V (OBSA-BAL-008)")
        self._start_uV = threshold_uV
        self._stop_uV = threshold_uV - hysteresis_uV
        self._min_uV = round(p["balancing_min_cell_voltage_V"] * 1e6)
        self._max_degC = float(p["balancing_max_temperature_degC"])
        self._rest_A = float(p["balancing_rest_current_A"])
        self._rest_ms = round(p["balancing_rest_time_s"] * 1000)

    def reset(self) -> None:
        self._below_since_ms: int | None = None
        self._on: set[int] = set()

    def _rested(self, t: float, current_A: float) -> bool:
        now_ms = round(t * 1000)
        if not abs(current_A) < self._rest_A:  # NaN too
            self._below_since_ms = None
            return False
        if self._below_since_ms is None:
            self._below_since_ms = now_ms
        return now_ms - self._below_since_ms >= self._rest_ms

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        volts = [float(v) for v in inputs["cell_voltage_V"]]
        valid = [bool(v) for v in inputs["cell_voltage_valid"]]
        temps = [float(x) for x in inputs["cell_temperature_degC"]]
        temps_ok = [bool(x) for x in inputs["cell_temperature_valid"]]
        rested = self._rested(t, float(inputs["pack_current_A"]))
        usable = sorted((round(v * 1e6), i) for i, (v, ok) in enumerate(zip(volts, valid,
                                                                            strict=True))
                        if ok and np.isfinite(v))
        permitted = (rested and bool(usable)
                     and int(inputs["safety_state"]) in PERMITTED_STATES
                     and usable[0][0] >= self._min_uV
                     and all(ok and x <= self._max_degC
                             for x, ok in zip(temps, temps_ok, strict=True)))
        on: set[int] = set()
        if permitted:
            lowest_uV = usable[0][0]
            for uV, i in reversed(usable):  # highest first; stop at the first one not due
                above = uV - lowest_uV
                if above > self._start_uV or (i in self._on and above > self._stop_uV):
                    on.add(i)
                elif above <= self._stop_uV:
                    break
        self._on = on
        cmd = np.zeros(len(volts), dtype=bool)
        cmd[sorted(on)] = True
        return {"balancing_cmd": cmd, "balancing_active": bool(on)}


def area() -> Any:
    """The area's entry of :data:`.full_bms_runs.AREAS` (an ``Area``)."""
    from .full_bms_runs import Area, lfp_200_cells, twelve_cells_one_sensor

    return Area(
        select="balancing",
        faulty=(
            _f(COMPONENT, StartsFiftyMillivoltsLate, "OBSA-BAL-001"),
            _f(COMPONENT, BalancesAllButTheLowest, "OBSA-BAL-001"),
            Faulty("NoHysteresis", COMPONENT, NoHysteresis, frozenset({"OBSA-BAL-002"}),
                   edit=_wide_hysteresis),
            Faulty("StopsAtTheHysteresis", COMPONENT, StopsAtTheHysteresis,
                   frozenset({"OBSA-BAL-002"}), edit=_wide_hysteresis),
            _f(COMPONENT, SignedRestCurrent, "OBSA-BAL-003"),
            _f(COMPONENT, RestTimerNotRestarted, "OBSA-BAL-003"),
            _f(COMPONENT, RestKeptWhileBalancing, "OBSA-BAL-003"),
            _f(COMPONENT, LastCellNotChecked, "OBSA-BAL-004"),
            _f(COMPONENT, MinVoltageCheckedOnlyAtStart, "OBSA-BAL-004"),
            _f(COMPONENT, InvalidTemperatureIgnored, "OBSA-BAL-005"),
            _f(COMPONENT, LastSensorNotChecked, "OBSA-BAL-005"),
            _f(COMPONENT, BalancesInLockout, "OBSA-BAL-006"),
            _f(COMPONENT, InvalidTakenAsLowest, "OBSA-BAL-007"),
            _f(COMPONENT, InvalidCellBalanced, "OBSA-BAL-007"),
        ),
        correct=(
            _f(COMPONENT, SortedListBalancing),
            _f(COMPONENT, CommandsOneStepLater),
        ),
        packs={"twelve-cells-one-sensor": twelve_cells_one_sensor,
               "lfp-200-cells": lfp_200_cells},
    )

