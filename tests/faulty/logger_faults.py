"""Faulty data loggers (OBSA-REG-007 to 015): the reference with one realistic defect each,
the requirement each breaks, a correct logger written otherwise that must pass
(:class:`IntervalLogger`, which keeps its counters in an append-only journal), and the
catalogue's area "lifetime" (:func:`area`)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from reference_impl.component import Block
from reference_impl.connectivity.data_logger import CompensatedSum, DataLogger
from reference_impl.services.nvm import NVM_VARIABLE, NvmStore

from .modules import Faulty, _f

_S_PER_DAY = 86400.0


class DatesInWholeDays(DataLogger):
    """Stores the dates as whole days since 1970 (a 16-bit day number in the NVM) and
    reports the start of that day."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._manufacture_s = math.floor(self._manufacture_s / _S_PER_DAY) * _S_PER_DAY
        self._service_start_s = math.floor(self._service_start_s / _S_PER_DAY) * _S_PER_DAY


class EnergyAtFirstVoltage(DataLogger):
    """Counts the energy with the pack voltage of its first step, taken as the nominal
    voltage, instead of the voltage of every interval."""

    def reset(self) -> None:
        super().reset()
        self._first_V: float | None = None

    def _take(self, inputs: Mapping[str, Any]) -> None:
        super()._take(inputs)
        if self._first_V is None:
            self._first_V = self._voltage_V
        self._voltage_V = self._first_V


class ChargedCountsBothDirections(DataLogger):
    """The charged capacity adds the magnitude of the current in both directions (a copy of
    the discharge line with abs() left in); energies and the discharged capacity are right."""

    def _integrate(self, dt: float) -> None:
        super()._integrate(dt)
        current = self._current_A
        if math.isfinite(current) and current < 0.0:
            self._charged_As.add(-current * dt)


class CyclesFromTotalThroughput(DataLogger):
    """Equivalent full cycles as (charged + discharged) / 2 over the cycle capacity — another
    usual definition, not the one the spec asks for."""

    def _outputs(self) -> dict[str, Any]:
        out = super()._outputs()
        total_Ah = out["charged_capacity_Ah"] + out["discharged_capacity_Ah"]
        out["equivalent_full_cycles"] = 0.5 * total_Ah * 3600.0 / self._cycle_capacity_As
        return out


class DeepDischargePerCell(DataLogger):
    """Counts every cell that falls below the threshold, even while another cell of the pack
    is already in an excursion."""

    def _take(self, inputs: Mapping[str, Any]) -> None:
        before = None if self._cell_below is None else self._cell_below.copy()
        count = self._deep_discharges
        super()._take(inputs)
        now = self._cell_below
        assert now is not None
        was = np.zeros_like(now) if before is None or before.shape != now.shape else before
        self._deep_discharges = count + int(np.count_nonzero(now & ~was))


class DeepDischargeHysteresis(DataLogger):
    """Ends an excursion only when every cell is 0.1 V above the threshold (a hysteresis the
    spec does not declare): a cell that comes back just above and falls again is counted
    once."""

    HYSTERESIS_V = 0.1

    def _take(self, inputs: Mapping[str, Any]) -> None:
        held = self._cell_below
        super()._take(inputs)
        if held is None or self._cell_below is None or held.shape != self._cell_below.shape:
            return
        volts = np.asarray(inputs["cell_voltage_V"], dtype=float)
        measured = (np.asarray(inputs["cell_voltage_valid"], dtype=bool)
                    & np.isfinite(volts))
        near = measured & (volts < self._deep_discharge_V + self.HYSTERESIS_V)
        self._cell_below = self._cell_below | (held & near)


class DeepDischargeIgnoresValidity(DataLogger):
    """Judges every cell by its reading, valid or not: an open wire's 0 V starts an
    excursion, and an invalid reading during one ends it."""

    def _take(self, inputs: Mapping[str, Any]) -> None:
        n = len(inputs["cell_voltage_valid"])
        super()._take({**inputs, "cell_voltage_valid": np.ones(n, dtype=bool)})


class ExtremeIgnoresValidity(DataLogger):
    """Counts the time at extreme temperatures from every sensor's reading, valid or not (an
    open sensor reads the cold rail); the charging times judge validity as they should."""

    def _take(self, inputs: Mapping[str, Any]) -> None:
        super()._take(inputs)
        temp = np.asarray(inputs["cell_temperature_degC"], dtype=float)
        temp = temp[np.isfinite(temp)]
        if len(temp):
            self._hot = bool(temp.max() > self._hot_degC)
            self._cold = bool(temp.min() < self._cold_degC)


class ChargingAnyPositiveCurrent(DataLogger):
    """Counts charging time whenever the current is positive, ignoring the declared
    charging_current_threshold_A (a sensor offset counts as charging)."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._charging_A = 0.0


class ChargeWindowIsExtremeWindow(DataLogger):
    """Uses the extreme temperature window for the charging times too, not the declared
    charge window."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._charge_hot_degC = self._hot_degC
        self._charge_cold_degC = self._cold_degC


class Float32Checkpoint(CompensatedSum):
    """A counter saved to single precision (the NVM's format) every SAVE_EVERY reads, and
    continued from the saved value: at a save it drops by up to half a float32 step."""

    SAVE_EVERY = 50

    def __init__(self) -> None:
        super().__init__()
        self._reads = 0

    def add(self, term: float) -> None:
        self._sum += term

    @property
    def value(self) -> float:
        self._reads += 1
        if self._reads % self.SAVE_EVERY == 0:
            self._sum = float(np.float32(self._sum))
        return self._sum


class SavesInSinglePrecision(DataLogger):
    """Checkpoints every counter to float32 and continues from it (:class:`Float32Checkpoint`):
    the counters are right to 7 digits but step down at a save."""

    accumulator = Float32Checkpoint


class EventsInOneByte(DataLogger):
    """Keeps the deep-discharge count in one byte: the 256th event reads 0."""

    def _outputs(self) -> dict[str, Any]:
        out = super()._outputs()
        out["deep_discharge_events"] = int(out["deep_discharge_events"]) & 0xFF
        return out


class CountersInRamOnly(DataLogger):
    """Never writes its counters to the non-volatile store (the save call was left out of
    the build): a power loss loses everything counted since the battery was new."""

    def _save_if_due(self, t: float) -> None:
        pass


class SavesEveryThirdPeriod(DataLogger):
    """Saves every three declared lifetime_save_period_s (a save timer that counts its
    ticks at a third of the rate it assumes): a power loss may lose three periods."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        self._save_period_s *= 3.0


class OlderPageStore(NvmStore):
    """An EEPROM emulation on two pages: each save programs the page not holding the
    newest record, with a sequence number one higher; at power-up it should take the page
    with the higher number — this one takes the lower (the comparison inverted)."""

    def _page(self, which: str) -> NvmStore:
        return NvmStore(self.path.with_name(f"{self.path.stem}.{which}{self.path.suffix}"))

    def _pages(self) -> list[tuple[int, str, dict[str, Any]]]:
        found = []
        for which in ("a", "b"):
            data = self._page(which).load()
            if data is not None:
                found.append((int(data["seq"]), which, data))
        return sorted(found)

    def load(self) -> dict[str, Any] | None:
        pages = self._pages()
        return dict(pages[0][2]) if pages else None  # the defect: the oldest record

    def save(self, data: Mapping[str, Any]) -> None:
        pages = self._pages()
        seq, newest = (pages[-1][0], pages[-1][1]) if pages else (0, "b")
        self._page("a" if newest == "b" else "b").save({**data, "seq": seq + 1})

    def erase(self) -> None:
        for which in ("a", "b"):
            self._page(which).erase()


class RestoresTheOlderPage(DataLogger):
    """Saves on two pages in turn, as declared, but restores the older one after a power
    loss (:class:`OlderPageStore`): it loses up to two periods."""

    store = OlderPageStore


class CountsWhileOff(DataLogger):
    """Saves the time and the inputs of its last step with its counters and, started
    again, counts the interval from that step to its first one at those inputs, as if the
    battery had gone on as it was while the module was off."""

    def _saved_data(self) -> dict[str, Any]:
        return super()._saved_data() | {
            "t": self._t_prev, "current_A": self._current_A, "voltage_V": self._voltage_V,
            "flags": [self._hot, self._cold, self._charge_hot, self._charge_cold]}

    def _restore(self, data: Mapping[str, Any] | None) -> None:
        super()._restore(data)
        if data is not None and "t" in data:
            self._t_prev = float(data["t"])
            self._current_A, self._voltage_V = data["current_A"], data["voltage_V"]
            self._hot, self._cold, self._charge_hot, self._charge_cold = data["flags"]


class Journal:
    """An append-only journal of records, one JSON line each, in the directory of
    ``OBSA_NVM_DIR``: a record is written with one ``write`` of a whole line at the end of
    the file (a killed process leaves the page cache to the kernel, which writes it), the
    last complete line that loads is the state, a torn last line is ignored. Past
    COMPACT_BYTES the journal starts anew with its last record (written beside it, then
    renamed over it)."""

    COMPACT_BYTES = 256 * 1024

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size if path.exists() else 0

    @classmethod
    def from_environment(cls) -> Journal | None:
        directory = os.environ.get(NVM_VARIABLE)
        return cls(Path(directory) / "interval_logger.journal") if directory else None

    def last(self) -> dict[str, Any] | None:
        try:
            lines = self.path.read_bytes().split(b"\n")
        except FileNotFoundError:
            return None
        for line in reversed(lines[:-1]):  # the part after the last newline is torn
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                return record
        return None

    def append(self, record: dict[str, Any]) -> None:
        line = (json.dumps(record, allow_nan=False) + "\n").encode()
        if self.size + len(line) > self.COMPACT_BYTES:
            tmp = self.path.with_name(self.path.name + ".new")
            tmp.write_bytes(line)
            os.replace(tmp, self.path)
            self.size = len(line)
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        self.size += len(line)

    def erase(self) -> None:
        self.path.unlink(missing_ok=True)
        self.size = 0


class IntervalLogger(Block):
    """A correct logger written otherwise: each step's inputs count over the interval since
    the previous step (as firmware that multiplies by the elapsed time), plain float64 sums
    (a sum of non-negative terms never decreases), the deep-discharge state as the set of
    cells whose last valid reading was below; every step appends its counters and that set
    to a :class:`Journal` (a save period of one step, whatever it declares), restored at
    configure."""

    COMPONENT = "data_logger"

    def __init__(self) -> None:
        self.journal: Journal | None = None
        super().__init__()

    def configure(self, parameters: Mapping[str, Any]) -> None:
        self.journal = None  # the reset() inside configure must not erase the journal
        super().configure(parameters)
        self.journal = Journal.from_environment()
        record = self.journal.last() if self.journal is not None else None
        if record is not None:
            self.sums.update({k: float(record["sums"][k]) for k in self.sums})
            self.events = int(record["events"])
            self.below = {int(c) for c in record["below"]}

    def _setup(self, p: dict[str, Any]) -> None:
        self.p = {k: float(v) for k, v in p.items()}

    def reset(self) -> None:
        self.t_last: float | None = None
        self.sums = dict.fromkeys(("ch_As", "dis_As", "ch_Ws", "dis_Ws", "hot", "cold",
                                   "ch_hot", "ch_cold"), 0.0)
        self.below: set[int] = set()
        self.events = 0
        if self.journal is not None:
            self.journal.erase()

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        p, s = self.p, self.sums
        dt = 0.0 if self.t_last is None else max(t - self.t_last, 0.0)
        self.t_last = t if self.t_last is None else max(t, self.t_last)
        i, v = float(inputs["pack_current_A"]), float(inputs["pack_voltage_V"])
        if math.isfinite(i) and dt > 0.0:
            key = "ch" if i > 0 else "dis"
            s[f"{key}_As"] += abs(i) * dt
            if math.isfinite(v) and v > 0.0:
                s[f"{key}_Ws"] += abs(i) * v * dt
        temps = [float(x) for x, ok in zip(inputs["cell_temperature_degC"],
                                           inputs["cell_temperature_valid"], strict=True)
                 if ok and math.isfinite(float(x))]
        hottest = max(temps, default=-math.inf)
        coldest = min(temps, default=math.inf)
        charging = math.isfinite(i) and i > p["charging_current_threshold_A"]
        s["hot"] += dt * (hottest > p["extreme_temperature_max_degC"])
        s["cold"] += dt * (coldest < p["extreme_temperature_min_degC"])
        s["ch_hot"] += dt * (charging and hottest > p["extreme_charge_temperature_max_degC"])
        s["ch_cold"] += dt * (charging and coldest < p["extreme_charge_temperature_min_degC"])
        was = bool(self.below)
        for k, (x, ok) in enumerate(zip(inputs["cell_voltage_V"], inputs["cell_voltage_valid"],
                                        strict=True)):
            if ok and math.isfinite(float(x)):
                if float(x) < p["deep_discharge_threshold_V"]:
                    self.below.add(k)
                else:
                    self.below.discard(k)
        if self.below and not was:
            self.events += 1
        if self.journal is not None:
            self.journal.append({"sums": s, "events": self.events, "below": sorted(self.below)})
        return {
            "battery_manufacture_date_s": p["manufacture_date_s"],
            "battery_service_start_date_s": p["service_start_date_s"],
            "charged_capacity_Ah": s["ch_As"] / 3600.0,
            "discharged_capacity_Ah": s["dis_As"] / 3600.0,
            "charged_energy_Wh": s["ch_Ws"] / 3600.0,
            "discharged_energy_Wh": s["dis_Ws"] / 3600.0,
            "equivalent_full_cycles": s["dis_As"] / 3600.0 / p["equivalent_cycle_capacity_Ah"],
            "deep_discharge_events": self.events,
            "time_above_temperature_max_s": s["hot"],
            "time_below_temperature_min_s": s["cold"],
            "charge_time_above_temperature_max_s": s["ch_hot"],
            "charge_time_below_temperature_min_s": s["ch_cold"],
        }


LOG = "data_logger"
LOGGER_CATALOGUE: tuple[Faulty, ...] = (
    _f(LOG, DatesInWholeDays, "OBSA-REG-007"),
    _f(LOG, EnergyAtFirstVoltage, "OBSA-REG-008"),
    _f(LOG, ChargedCountsBothDirections, "OBSA-REG-009"),
    _f(LOG, CyclesFromTotalThroughput, "OBSA-REG-010"),
    _f(LOG, DeepDischargePerCell, "OBSA-REG-011"),
    _f(LOG, DeepDischargeHysteresis, "OBSA-REG-011"),
    _f(LOG, DeepDischargeIgnoresValidity, "OBSA-REG-011"),
    _f(LOG, ExtremeIgnoresValidity, "OBSA-REG-012"),
    _f(LOG, ChargingAnyPositiveCurrent, "OBSA-REG-013"),
    _f(LOG, ChargeWindowIsExtremeWindow, "OBSA-REG-013"),
    _f(LOG, SavesInSinglePrecision, "OBSA-REG-014"),
    _f(LOG, EventsInOneByte, "OBSA-REG-014"),
    _f(LOG, CountersInRamOnly, "OBSA-REG-015"),
    _f(LOG, SavesEveryThirdPeriod, "OBSA-REG-015"),
    _f(LOG, RestoresTheOlderPage, "OBSA-REG-015"),
    _f(LOG, CountsWhileOff, "OBSA-REG-015"),
)
LOGGER_CORRECT: tuple[Faulty, ...] = (_f(LOG, IntervalLogger),)

def area() -> Any:
    """The area's entry of :data:`.full_bms_runs.AREAS` (an ``Area``)."""
    from .full_bms_runs import Area, lfp_200_cells, one_cell, twelve_cells_one_sensor

    return Area(
        select="data_logger or lifetime_data",
        faulty=LOGGER_CATALOGUE,
        correct=LOGGER_CORRECT,
        packs={"one cell": one_cell, "twelve cells one sensor": twelve_cells_one_sensor,
               "200 LFP cells": lfp_200_cells},
    )

