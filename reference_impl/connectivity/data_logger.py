"""The lifetime data of EU Regulation 2023/1542 Annex VII part B (spec:
interfaces/data_logger.yaml, requirements OBSA-REG-007 to 014).

The logger reports the declared dates of manufacture and of putting into service unchanged
and counts, from reset() (a new battery):

- charge and energy throughput in both directions, the integrals of ``max(±I, 0)`` and of
  ``V × max(±I, 0)`` (pack current I positive when charged, pack voltage V);
- equivalent full cycles, discharged charge over the declared equivalent_cycle_capacity_Ah;
- deep-discharge events, time with a valid cell temperature outside the extreme window, and
  time charging (I above charging_current_threshold_A) outside the extreme charge window.

Integration. The bench holds every input constant over its step, from the step's time to the
next one (the conformance suite integrates its energies the same way), so the step at ``t``
adds what the *previous* step's inputs held over ``t − t_prev``: the outputs at ``t`` are the
integrals up to ``t``, over the real intervals, whatever they are. The first step after reset
adds nothing (durations are measured from times the logger has seen, never from 0), and so
does a step whose time does not advance.

Invalid inputs add nothing: an interval whose current is not finite adds no charge, no energy
and no charging time; one whose pack voltage is not finite, or not positive (outside the
signal's range), adds no energy (the charge still counts). A cell temperature counts only
while its sensor is valid and the reading finite; a cell voltage likewise (an open wire reads
NaN, an open or shorted sensor the end of its range).

Deep discharge. An excursion starts when a valid cell voltage falls strictly below
deep_discharge_threshold_V while no cell is in one, and ends when every cell is back at or
above it; it is counted once, in the step it starts. A cell whose voltage is not validly
measured keeps the state of its last valid reading, so that an open wire flickering during an
excursion does not count it again. The spec declares no hysteresis, so none is applied: a
reading that crosses the threshold twice is two excursions (the acceptance counts the
excursions injected exactly). The count is for the pack: cells that fall below together are
one event.

Precision. Each counter is a compensated (Neumaier) sum in SI units (A·s, W·s, s): an
increment of 1 mA over 10 ms (2.8e-9 Ah) is kept even on top of 10⁸ Ah, where a plain float64
sum would round it away. Every reported counter is the largest value reported since reset(),
so rounding can never make it go down, and saturates at the end of its signal's range.

Power loss (OBSA-REG-015). The counters live in RAM and are saved to the component's
non-volatile store (:mod:`..services.nvm`: the directory in ``OBSA_NVM_DIR``, written
atomically) at the first step at least lifetime_save_period_s of simulated time after the
last save, so a power loss at any instant loses less than that period of counting.
``configure`` is the power-up: it starts from the power-on state and restores what the store
holds; ``reset()`` is a new battery and erases the store. The sums are saved whole (sum,
compensation, largest value reported): restored, they continue exactly. What is not saved
starts afresh after a restart, as after a reset: the first step adds nothing (the time the
module was off is not counted), and an excursion under way at the loss, if a cell is still
below, is seen anew. Without ``OBSA_NVM_DIR`` (a unit test) the logger keeps RAM only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..component import TIME_EPS_S, Block
from ..services.nvm import NvmStore

COMPONENT = "data_logger"

_S_PER_H = 3600.0
#: Upper ends of the output signals' ranges (spec/dictionary.yaml).
_MAX_AH = 1.0e9
_MAX_WH = 1.0e12
_MAX_CYCLES = 1.0e6
_MAX_EVENTS = 65535
_MAX_TIME_S = 1.0e10


class CompensatedSum:
    """A running sum of non-negative terms with Neumaier's compensation: the rounding error
    of every addition is carried in a second float, so the sum is exact to about one ulp of
    the total whatever the number of terms. ``value`` never decreases."""

    __slots__ = ("_compensation", "_reported", "_sum")

    def __init__(self) -> None:
        self._sum = 0.0
        self._compensation = 0.0
        self._reported = 0.0

    def add(self, term: float) -> None:
        """Add ``term`` (≥ 0)."""
        total = self._sum + term
        if self._sum >= term:
            self._compensation += (self._sum - total) + term
        else:
            self._compensation += (term - total) + self._sum
        self._sum = total

    @property
    def value(self) -> float:
        """The sum, never below what it reported before."""
        self._reported = max(self._reported, self._sum + self._compensation)
        return self._reported

    def state(self) -> list[float]:
        """What a save keeps: the sum, its compensation and the largest value reported."""
        return [self._sum, self._compensation, self._reported]

    def restore(self, state: list[float]) -> None:
        """Continue from a saved :meth:`state` (ValueError when it is not one)."""
        values = [float(x) for x in state]
        if (len(values) != 3 or not all(math.isfinite(x) for x in values)
                or values[0] < 0.0 or values[2] < 0.0):
            raise ValueError(f"expected [sum, compensation, reported], found {state!r}")
        self._sum, self._compensation, self._reported = values


#: the counters' sums, by the name their state is saved under
_SUMS = ("charged_As", "discharged_As", "charged_Ws", "discharged_Ws", "hot_s", "cold_s",
         "charge_hot_s", "charge_cold_s")


class DataLogger(Block):
    """Annex VII part B lifetime counters of one battery, from reset() (a new battery),
    kept across a power loss in the non-volatile store."""

    COMPONENT = COMPONENT
    #: the accumulator of every counter (a class attribute, so that a test can swap it)
    accumulator: type[CompensatedSum] = CompensatedSum
    #: the non-volatile store (a class attribute, as ``accumulator``)
    store: type[NvmStore] = NvmStore

    def __init__(self) -> None:
        self._store: NvmStore | None = None
        super().__init__()

    def configure(self, parameters: Mapping[str, Any]) -> None:
        """Power-up: take the parameters, start from the power-on state, then restore the
        counters the non-volatile store kept (a restart after a power loss; nothing after a
        reset or in a unit test without ``OBSA_NVM_DIR``)."""
        self._store = None  # the reset() inside starts the RAM afresh; the store stays
        super().configure(parameters)
        self._store = self.store.from_environment(COMPONENT)
        if self._store is not None:
            self._restore(self._store.load())

    def _setup(self, p: dict[str, Any]) -> None:
        self._manufacture_s = float(p["manufacture_date_s"])
        self._service_start_s = float(p["service_start_date_s"])
        self._cycle_capacity_As = float(p["equivalent_cycle_capacity_Ah"]) * _S_PER_H
        self._deep_discharge_V = float(p["deep_discharge_threshold_V"])
        self._hot_degC = float(p["extreme_temperature_max_degC"])
        self._cold_degC = float(p["extreme_temperature_min_degC"])
        self._charge_hot_degC = float(p["extreme_charge_temperature_max_degC"])
        self._charge_cold_degC = float(p["extreme_charge_temperature_min_degC"])
        self._charging_A = float(p["charging_current_threshold_A"])
        self._save_period_s = float(p["lifetime_save_period_s"])

    def reset(self) -> None:
        """A new battery: every counter at zero, no time seen, no excursion under way, the
        non-volatile store erased."""
        acc = self.accumulator
        self._charged_As, self._discharged_As = acc(), acc()
        self._charged_Ws, self._discharged_Ws = acc(), acc()
        self._hot_s, self._cold_s = acc(), acc()
        self._charge_hot_s, self._charge_cold_s = acc(), acc()
        self._deep_discharges = 0
        self._cell_below: np.ndarray | None = None  # per cell: last valid reading below
        self._t_prev: float | None = None
        # what the previous step's inputs hold until this step (nothing before the first)
        self._current_A = math.nan
        self._voltage_V = math.nan
        self._hot = self._cold = self._charge_hot = self._charge_cold = False
        self._saved_t: float | None = None  # when the store was last written (or found)
        if self._store is not None:
            self._store.erase()

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Integrate the previous inputs up to ``t`` (s), take this step's, save when due."""
        if self._t_prev is None or t > self._t_prev:
            if self._t_prev is not None:
                self._integrate(t - self._t_prev)
            self._t_prev = t
        self._take(inputs)
        self._save_if_due(t)
        return self._outputs()

    # ---- the non-volatile store ------------------------------------------------------
    def _save_if_due(self, t: float) -> None:
        """Save the counters when lifetime_save_period_s has passed since the last save;
        the first step after a power-up or a reset starts the period (the store then holds
        what the RAM holds)."""
        if self._saved_t is None:
            self._saved_t = t
        elif t - self._saved_t >= self._save_period_s - TIME_EPS_S:
            if self._store is not None:
                self._store.save(self._saved_data())
            self._saved_t = t

    def _saved_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(self, f"_{name}").state() for name in _SUMS}
        data["deep_discharges"] = self._deep_discharges
        return data

    def _restore(self, data: Mapping[str, Any] | None) -> None:
        """Continue every counter from ``data`` (a saved record); a record that lacks a
        counter or holds a wrong value restores nothing (the counters stay at zero)."""
        if data is None:
            return
        sums = {name: self.accumulator() for name in _SUMS}
        try:
            for name, acc in sums.items():
                acc.restore(data[name])
            events = int(data["deep_discharges"])
        except (KeyError, TypeError, ValueError):
            return
        for name, acc in sums.items():
            setattr(self, f"_{name}", acc)
        self._deep_discharges = min(max(events, 0), _MAX_EVENTS)

    def _integrate(self, dt: float) -> None:
        """Add what the held inputs contribute over ``dt`` (s)."""
        current, voltage = self._current_A, self._voltage_V
        if math.isfinite(current):
            charge = current * dt
            if charge > 0.0:
                self._charged_As.add(charge)
            elif charge < 0.0:
                self._discharged_As.add(-charge)
            if math.isfinite(voltage) and voltage > 0.0:
                if charge > 0.0:
                    self._charged_Ws.add(voltage * charge)
                elif charge < 0.0:
                    self._discharged_Ws.add(-voltage * charge)
        if self._hot:
            self._hot_s.add(dt)
        if self._cold:
            self._cold_s.add(dt)
        if self._charge_hot:
            self._charge_hot_s.add(dt)
        if self._charge_cold:
            self._charge_cold_s.add(dt)

    def _take(self, inputs: Mapping[str, Any]) -> None:
        """Read this step's inputs: count a new deep discharge, hold the rest."""
        current = float(inputs["pack_current_A"])
        self._current_A = current
        self._voltage_V = float(inputs["pack_voltage_V"])

        voltages = np.asarray(inputs["cell_voltage_V"], dtype=float)
        measured = np.asarray(inputs["cell_voltage_valid"], dtype=bool) & np.isfinite(voltages)
        below = voltages < self._deep_discharge_V
        held = self._cell_below
        if held is None or held.shape != below.shape:
            held = np.zeros(below.shape, dtype=bool)
        was_in_excursion = bool(held.any())
        held = np.where(measured, below, held)
        self._cell_below = held
        if not was_in_excursion and held.any():
            self._deep_discharges = min(self._deep_discharges + 1, _MAX_EVENTS)

        temperatures = np.asarray(inputs["cell_temperature_degC"], dtype=float)
        sensed = (np.asarray(inputs["cell_temperature_valid"], dtype=bool)
                  & np.isfinite(temperatures))
        if sensed.any():
            valid = temperatures[sensed]
            highest, lowest = float(valid.max()), float(valid.min())
        else:  # no valid temperature: none is outside any window
            highest, lowest = -math.inf, math.inf
        charging = current > self._charging_A  # False for NaN
        self._hot = highest > self._hot_degC
        self._cold = lowest < self._cold_degC
        self._charge_hot = charging and highest > self._charge_hot_degC
        self._charge_cold = charging and lowest < self._charge_cold_degC

    def _outputs(self) -> dict[str, Any]:
        discharged_As = self._discharged_As.value
        return {
            "battery_manufacture_date_s": self._manufacture_s,
            "battery_service_start_date_s": self._service_start_s,
            "charged_capacity_Ah": min(self._charged_As.value / _S_PER_H, _MAX_AH),
            "discharged_capacity_Ah": min(discharged_As / _S_PER_H, _MAX_AH),
            "charged_energy_Wh": min(self._charged_Ws.value / _S_PER_H, _MAX_WH),
            "discharged_energy_Wh": min(self._discharged_Ws.value / _S_PER_H, _MAX_WH),
            "equivalent_full_cycles": min(discharged_As / self._cycle_capacity_As, _MAX_CYCLES),
            "deep_discharge_events": self._deep_discharges,
            "time_above_temperature_max_s": min(self._hot_s.value, _MAX_TIME_S),
            "time_below_temperature_min_s": min(self._cold_s.value, _MAX_TIME_S),
            "charge_time_above_temperature_max_s": min(self._charge_hot_s.value, _MAX_TIME_S),
            "charge_time_below_temperature_min_s": min(self._charge_cold_s.value, _MAX_TIME_S),
        }
