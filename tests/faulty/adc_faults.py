"""The whole BMS's pack-voltage plausibility judged from the raw side: OBSA-SAFE-020 with the
module's own cell monitor and current sensor in the loop, their ADCs drifting
(``test_pack_voltage_implausible_at_the_front_ends``). A faulty supervisor whose
"auto-calibration" trims away exactly the slow drift the check exists to find, and a correct
supervisor with another plausibility filter, which must pass (:func:`area`, registered in
:data:`.full_bms_runs.AREAS`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from reference_impl.functions.safety import SafetySupervisor
from reference_impl.services.debounce import Debounce

from .modules import Faulty, _f

SUP = "safety_supervisor"


def _difference(inputs: Mapping[str, Any]) -> float:
    """The pack voltage less the sum of the cell voltages, as the supervisor reads them (NaN
    when either is no number)."""
    return float(inputs["pack_voltage_V"]) - float(np.sum(inputs["cell_voltage_V"]))


class RestTrimmedPackVoltage(SafetySupervisor):
    """The pack-voltage path is re-calibrated against the sum of the cells whenever the pack
    rests: while the current is within the declared rest current, every cell is valid and
    the difference is within half the declared tolerance of the trim learnt so far (taken for
    the sensor's offset, not for a fault), the trim follows the difference with a 1 s time
    constant, and the plausibility check compares the trimmed pack voltage. A sudden
    disagreement is still found; a slow drift of either ADC is trimmed away as it grows."""

    TAU_S = 1.0
    #: the largest trim, in declared tolerances
    TRIM_RANGE = math.inf

    def reset(self) -> None:
        super().reset()
        self._trim_V = 0.0
        self._trimmed_s: float | None = None

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        difference = _difference(inputs)
        dt = 0.0 if self._trimmed_s is None else t - self._trimmed_s
        self._trimmed_s = t
        at_rest = abs(float(inputs["pack_current_A"])) <= self._rest_current_A
        if (at_rest and bool(np.all(inputs["cell_voltage_valid"]))
                and abs(difference - self._trim_V) < self._tolerance_V / 2):
            self._trim_V += (difference - self._trim_V) * (1.0 - math.exp(-dt / self.TAU_S))
            limit = self.TRIM_RANGE * self._tolerance_V
            self._trim_V = min(max(self._trim_V, -limit), limit)
        trimmed = dict(inputs)
        trimmed["pack_voltage_V"] = float(inputs["pack_voltage_V"]) - self._trim_V
        return super()._step(t, trimmed)


class BoundedRestTrim(RestTrimmedPackVoltage):
    """The same re-calibration at rest, its trim limited to half the declared tolerance (the
    sensor's calibration range): a drift is found, but only once it is one and a half
    tolerances large."""

    TRIM_RANGE = 0.5


class FilteredPlausibility(SafetySupervisor):
    """A correct supervisor with another plausibility filter: the difference between the pack
    voltage and the sum of the cells is smoothed by a first-order filter (time constant 50 ms,
    or a quarter of the declared delay if less: against the steps of the cell monitor's
    samples and noise) and debounced for the declared delay less two time constants. A
    difference beyond the tolerance latches within the declared delay (the filter's lag on a
    ramp is one time constant); back within it, the filter forgets it within a few."""

    TAU_S = 0.05

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        delay = float(p["plausibility_fault_delay_s"])
        self._tau_s = min(self.TAU_S, delay / 4)
        self._debounce_s = delay - 2 * self._tau_s

    def reset(self) -> None:
        super().reset()
        self._implausible = Debounce(self._debounce_s)
        self._filtered_V: float | None = None
        self._filtered_s = 0.0

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        difference = _difference(inputs)
        if not math.isfinite(difference):
            self._filtered_V = None  # no number: the reference's check sees it as it is
            return super()._step(t, inputs)
        if self._filtered_V is None or self._tau_s <= 0:
            self._filtered_V = difference
        else:
            alpha = 1.0 - math.exp(-(t - self._filtered_s) / self._tau_s)
            self._filtered_V += alpha * (difference - self._filtered_V)
        self._filtered_s = t
        filtered = dict(inputs)
        filtered["pack_voltage_V"] = float(np.sum(inputs["cell_voltage_V"])) + self._filtered_V
        return super()._step(t, filtered)


def _correct(cls: type) -> Faulty:
    return Faulty(cls.__name__, SUP, cls, frozenset())


def area() -> Any:
    """The area's entry of :data:`.full_bms_runs.AREAS` (an ``Area``)."""
    from .full_bms_runs import Area, lfp_200_cells, one_cell, twelve_cells_one_sensor

    return Area(
        # pytest: the plausibility cases (both OBSA-SAFE-020 cases and the plausibility
        # fault's reset, OBSA-SAFE-015); behave: their scenarios' names and tags
        select="plausib or OBSA-SAFE-020",
        faulty=(_f(SUP, RestTrimmedPackVoltage, "OBSA-SAFE-020"),
                _f(SUP, BoundedRestTrim, "OBSA-SAFE-020")),
        correct=(_correct(FilteredPlausibility),),
        packs={"one-cell": one_cell, "twelve-cells-one-sensor": twelve_cells_one_sensor,
               "lfp-200-cells": lfp_200_cells},
    )
