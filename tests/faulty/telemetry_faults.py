"""Faulty telemetries (OBSA-CONN-001 to 007): the reference with one realistic defect each,
the requirements each breaks, and correct telemetries unlike the reference that must pass
(:class:`RingTelemetry`, written otherwise, its ring saved whole in the non-volatile store,
and :class:`DiskTelemetry`, the reference with the MQTT gateway's SQLite buffer in place of
its journal). The catalogue certifies them on the reference gateway's manifest
(:mod:`.test_telemetry_catalogue`)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from reference_impl.component import Block
from reference_impl.connectivity.disk_telemetry import DiskTelemetry
from reference_impl.connectivity.telemetry import FIELDS, Telemetry, empty_record, sample
from reference_impl.services.nvm import NvmStore

from .modules import Faulty, _f


class ForgetsBacklogOnReconnect(Telemetry):
    """Starts a new session when the link returns and throws the records buffered during
    the outage away (a client whose clean session discards its queue)."""

    def reset(self) -> None:
        super().reset()
        self._was_up = True

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        up = bool(inputs["uplink_connected"])
        if up and not self._was_up:
            self._buffer.clear()
        self._was_up = up
        return super()._step(t, inputs)


class NewestFirst(Telemetry):
    """Publishes the newest buffered record first after an outage ("the latest state matters
    most"), the older ones after it."""

    def _pop(self) -> dict[str, Any] | None:
        return self._buffer.pop() if self._buffer else None


class DropsUncounted(Telemetry):
    """Drops the oldest record when the buffer is full, as it should, but never counts it."""

    def _push(self, record: dict[str, Any]) -> None:
        super()._push(record)
        self._dropped = 0


class UnboundedBuffer(Telemetry):
    """Keeps every record of an outage, whatever the declared capacity (a list that grows
    until the gateway runs out of storage)."""

    def _push(self, record: dict[str, Any]) -> None:
        self._buffer.append(record)


class PeriodOneStepLong(Telemetry):
    """Counts steps to the next record and starts counting again one step late: a record
    every period plus one step (1.1 s for 1 s at 0.1 s steps)."""

    def reset(self) -> None:
        super().reset()
        self._count: int | None = None

    def _due(self, t: float) -> bool:
        every = max(1, round(self._period_s / 0.1))
        if self._count is None or self._count > every:
            self._count = 1
            return True
        self._count += 1
        return False


class ExtremesAtPublication(Telemetry):
    """Stores the scalar fields when it samples, and computes the lowest and highest cell
    voltage and temperature when it builds the record it publishes: a buffered record mixes
    the sampling instant with the publishing one."""

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        if out["telemetry_record_published"]:
            now = sample(t, inputs, self._served)
            for name in ("telemetry_cell_voltage_min_V", "telemetry_cell_voltage_max_V",
                         "telemetry_cell_temperature_min_degC",
                         "telemetry_cell_temperature_max_degC"):
                out[name] = now[name]
        return out


class DrainsEveryOtherStep(Telemetry):
    """Publishes the backlog at most every other step (a publisher that waits for the
    broker's acknowledgement before it sends the next record)."""

    def reset(self) -> None:
        super().reset()
        self._waiting = False

    def _pop(self) -> dict[str, Any] | None:
        if self._waiting and len(self._buffer) > 1:
            self._waiting = False
            return None
        self._waiting = True
        return super()._pop()


class BacklogInRam(Telemetry):
    """Keeps its backlog in a list in memory only: the records an outage left buffered are
    gone when the gateway's power goes (a client whose session state is volatile)."""

    def _journal_path(self) -> Path | None:
        return None


class RingTelemetry(Block):
    """A correct telemetry written otherwise: a preallocated ring of numpy rows and the
    records due at first + k × period computed from the time of the first record (no running
    schedule; a millionth of a period of tolerance, as times far from 0 are coarse). With a
    non-volatile store it saves the records waiting and the dropped count whole, through the
    atomic store of :mod:`reference_impl.services.nvm`, at the end of every step that changed
    them; configure (the power-up) loads them, reset() erases them."""

    COMPONENT = "telemetry"

    def __init__(self) -> None:
        self._store: NvmStore | None = None
        super().__init__()

    def configure(self, parameters: Mapping[str, Any]) -> None:
        self._store = None  # the reset() inside starts afresh; the store stays
        super().configure(parameters)
        self._store = NvmStore.from_environment("telemetry_ring")
        saved = self._store.load() if self._store is not None else None
        if saved is not None:
            rows = np.asarray(saved["rows"], dtype=float).reshape(-1, len(FIELDS))
            rows = rows[-self._capacity:]
            self._rows[:len(rows)] = rows
            self._head, self._size = 0, len(rows)
            self._dropped = int(saved["dropped"])
        self._saved = (self._size, self._dropped)

    def _setup(self, p: dict[str, Any]) -> None:
        self._period_s = float(p["publish_period_s"])
        self._capacity = int(p["buffer_capacity_records"])

    def reset(self) -> None:
        self._rows = np.zeros((self._capacity, len(FIELDS)))
        self._head = 0  # the oldest record
        self._size = 0
        self._dropped = 0
        self._t0: float | None = None
        self._k = -1  # the last grid point sampled
        self._last = empty_record()
        self._served = empty_record()
        self._changed = False
        self._saved = (0, 0)
        if self._store is not None:
            self._store.erase()

    def _save(self) -> None:
        """The ring on the disk when this step changed it (an empty ring once)."""
        if self._store is None or not self._changed:
            return
        self._changed = False
        if self._size == 0 and self._saved == (0, self._dropped):
            return
        order = (self._head + np.arange(self._size)) % self._capacity
        self._store.save({"rows": self._rows[order].tolist(), "dropped": self._dropped})
        self._saved = (self._size, self._dropped)

    def buffered(self) -> Iterable[dict[str, Any]]:
        for i in range(self._size):
            yield self._record((self._head + i) % self._capacity)

    def _record(self, i: int) -> dict[str, Any]:
        row = self._rows[i]
        out = {name: float(v) for name, v in zip(FIELDS, row, strict=True)}
        out["telemetry_safety_state"] = int(out["telemetry_safety_state"])
        out["telemetry_contactor_state"] = int(out["telemetry_contactor_state"])
        return out

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = self._ring_step(t, inputs)
        self._save()
        return out

    def _ring_step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        published = False
        if bool(inputs["uplink_connected"]) and self._size:
            self._served = self._record(self._head)
            self._head = (self._head + 1) % self._capacity
            self._size -= 1
            published = self._changed = True
        if self._t0 is None or t < self._t0:
            self._t0, self._k = t, -1
        k = math.floor((t - self._t0) / self._period_s + 1e-6)
        if k > self._k:
            self._k = k
            self._last = sample(t, inputs, self._last)
            if self._size == self._capacity:
                self._head = (self._head + 1) % self._capacity
                self._size -= 1
                self._dropped += 1
            self._rows[(self._head + self._size) % self._capacity] = [
                self._last[name] for name in FIELDS]
            self._size += 1
            self._changed = True
        if bool(inputs["uplink_connected"]) and not published and self._size:
            self._served = self._record(self._head)
            self._head = (self._head + 1) % self._capacity
            self._size -= 1
            published = True
        return {**self._served, "telemetry_record_published": published,
                "telemetry_backlog_records": self._size,
                "telemetry_dropped_records": self._dropped}


TEL = "telemetry"
#: the outage runs judge OBSA-CONN-003, 005 and 007 on the declared period's grid: a module
#: off it leaves them inconclusive, naming OBSA-CONN-001
_OFF_GRID = frozenset({"OBSA-CONN-003", "OBSA-CONN-005", "OBSA-CONN-007"})

#: module → the requirements it must fail (and no other, but ``may_break``)
TELEMETRY_CATALOGUE: tuple[Faulty, ...] = (
    # it loses what an outage longer than the buffer leaves too, without counting it, and
    # what it restored after a power loss when the link returns
    _f(TEL, ForgetsBacklogOnReconnect, "OBSA-CONN-003", "OBSA-CONN-005", "OBSA-CONN-007"),
    # after a power loss too it publishes the newest record first
    Faulty("NewestFirst", TEL, NewestFirst, frozenset({"OBSA-CONN-004"}),
           may_break=frozenset({"OBSA-CONN-007"})),
    _f(TEL, DropsUncounted, "OBSA-CONN-005"),
    _f(TEL, UnboundedBuffer, "OBSA-CONN-005"),
    Faulty("PeriodOneStepLong", TEL, PeriodOneStepLong, frozenset({"OBSA-CONN-001"}),
           may_break=_OFF_GRID),
    _f(TEL, ExtremesAtPublication, "OBSA-CONN-002"),
    _f(TEL, DrainsEveryOtherStep, "OBSA-CONN-006"),
    _f(TEL, BacklogInRam, "OBSA-CONN-007"),
)
#: correct telemetries unlike the reference (each must be certified)
TELEMETRY_CORRECT: tuple[Faulty, ...] = (_f(TEL, RingTelemetry), _f(TEL, DiskTelemetry))
