"""The telemetry of a gateway (spec: interfaces/telemetry.yaml, requirements OBSA-CONN-001 to
006): a record of the pack's state every publish_period_s, published while the link is up,
buffered while it is down.

Sampling. The first step after reset() samples a record, whatever its time; the next ones
are due on a grid of publish_period_s from it (first + k × period), so that a period that is
not a whole number of steps keeps its mean. A step that finds itself past several grid
points (a late step) samples once, for the latest of them; a clock that goes back starts the
grid again.

A record holds every input at the step that samples it (OBSA-CONN-002): the scalars as they
are — a value that is not finite keeps the field of the previous record, a finite one outside
the field's range is clipped to it — and the lowest and highest finite cell voltage and
temperature; an enum value outside its enum keeps the previous record's.

Buffer. Every record goes into a first-in first-out buffer of buffer_capacity_records; when
it is full the oldest record is dropped and counted (OBSA-CONN-005). While uplink_connected is
true, each step publishes the oldest record of the buffer (at most one per step), before it
samples: a buffer that filled during an outage loses nothing to the record sampled in the
step the link returns. With the link up and nothing buffered, a record is published in the
step that samples it (OBSA-CONN-001); after an outage the backlog drains one record per
step, oldest first (OBSA-CONN-003, 004, 006). The telemetry_* outputs hold the last record
published; telemetry_record_published says whether it was published in this step.

Power loss (OBSA-CONN-007). With a non-volatile store (the directory the bench names in
``OBSA_NVM_DIR``) the buffer is a :class:`.backlog_journal.JournaledBacklog`: every step that
changes it appends the change to ``telemetry_backlog.journal`` there and flushes it to the
disk before it returns, so a power loss keeps every record the telemetry reported buffered.
``configure`` is the power-up: it restores the buffer and the dropped-record count from the
journal; ``reset()`` is a new gateway and empties it. The time grid starts again at the
first step after a power-up, as after a reset. Without ``OBSA_NVM_DIR`` (a unit test) the
buffer is in memory only. The MQTT gateway (:mod:`.mqtt_gateway`) keeps its buffer in
SQLite, with the same rules.
"""

from __future__ import annotations

import math
import os
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..component import Block
from ..interfaces import SIGNAL_FORMAT, ContactorState, SafetyState
from ..services.nvm import NVM_VARIABLE
from .backlog_journal import JournaledBacklog

COMPONENT = "telemetry"

#: (field, input) of every float field copied from a scalar input
NUMBERS = (
    ("telemetry_pack_soc", "pack_soc"),
    ("telemetry_soh_capacity", "soh_capacity"),
    ("telemetry_pack_voltage_V", "pack_voltage_V"),
    ("telemetry_pack_current_A", "pack_current_A"),
    ("telemetry_charge_current_limit_A", "charge_current_limit_A"),
    ("telemetry_discharge_current_limit_A", "discharge_current_limit_A"),
)
#: (lowest field, highest field, array input)
EXTREMES = (
    ("telemetry_cell_voltage_min_V", "telemetry_cell_voltage_max_V", "cell_voltage_V"),
    ("telemetry_cell_temperature_min_degC", "telemetry_cell_temperature_max_degC",
     "cell_temperature_degC"),
)
#: (field, input, the enum's values)
ENUMS = (
    ("telemetry_safety_state", "safety_state", frozenset(int(v) for v in SafetyState)),
    ("telemetry_contactor_state", "contactor_state", frozenset(int(v) for v in ContactorState)),
)
#: how close to a grid point, in periods, a step samples
GRID_TOLERANCE = 1e-4
#: the journal of the buffer in the non-volatile store
JOURNAL = "telemetry_backlog.journal"
#: every field of a record, the time stamp first
FIELDS = ("telemetry_record_time_s", *(f for f, _ in NUMBERS),
          *(f for lo, hi, _ in EXTREMES for f in (lo, hi)), *(f for f, _, _ in ENUMS))


def empty_record() -> dict[str, Any]:
    """The fields before the first record: time stamp −1, every value 0."""
    return {name: (-1.0 if name == "telemetry_record_time_s" else
                   0 if name in ("telemetry_safety_state", "telemetry_contactor_state")
                   else 0.0) for name in FIELDS}


def _clip(field: str, value: float) -> float:
    low, high = SIGNAL_FORMAT[field][:2]
    return min(max(value, low), high)


def sample(t: float, inputs: Mapping[str, Any], previous: Mapping[str, Any]) -> dict[str, Any]:
    """The record of ``inputs`` at ``t``; a field whose input cannot be carried keeps its
    value in ``previous`` (see the module docstring)."""
    record: dict[str, Any] = {"telemetry_record_time_s": t}
    for field, signal in NUMBERS:
        value = float(inputs[signal])
        record[field] = _clip(field, value) if math.isfinite(value) else previous[field]
    for low, high, signal in EXTREMES:
        values = np.asarray(inputs[signal], dtype=float)
        values = values[np.isfinite(values)]
        if len(values):
            record[low] = _clip(low, float(values.min()))
            record[high] = _clip(high, float(values.max()))
        else:
            record[low], record[high] = previous[low], previous[high]
    for field, signal, members in ENUMS:
        value = int(inputs[signal])
        record[field] = value if value in members else previous[field]
    return record


class Telemetry(Block):
    """Samples a record every publish_period_s, buffers it, publishes the oldest while the
    link is up; see the module docstring."""

    COMPONENT = COMPONENT
    #: the records waiting, oldest first (journaled with a non-volatile store)
    _buffer: deque[dict[str, Any]]

    def __init__(self) -> None:
        self._journal: Path | None = None
        super().__init__()

    def configure(self, parameters: Mapping[str, Any]) -> None:
        """Power-up: take the parameters, start from the power-on state, then restore the
        buffer and the dropped count the journal kept (a restart after a power loss;
        nothing after a reset or without ``OBSA_NVM_DIR``)."""
        self._journal = None  # the reset() inside starts the RAM afresh; the journal stays
        super().configure(parameters)
        self._journal = self._journal_path()
        if self._journal is not None:
            self._buffer = JournaledBacklog.restore(self._journal, self._capacity)
            self._dropped = self._buffer.dropped

    def _journal_path(self) -> Path | None:
        """The journal in the non-volatile store, or None (no store: RAM only)."""
        directory = os.environ.get(NVM_VARIABLE)
        return Path(directory) / JOURNAL if directory else None

    def _setup(self, p: dict[str, Any]) -> None:
        self._period_s = float(p["publish_period_s"])
        self._capacity = int(p["buffer_capacity_records"])

    def reset(self) -> None:
        """Nothing sampled, nothing buffered, nothing dropped; the journal emptied."""
        old = getattr(self, "_buffer", None)
        if isinstance(old, JournaledBacklog):
            old.close()
        self._buffer = (
            deque() if self._journal is None
            else JournaledBacklog.erased(self._journal, self._capacity))
        self._dropped = 0
        self._t0_s: float | None = None  # the first record's time; None: sample at once
        self._next = 1  # the grid point due next, in periods from the first record
        self._last_s = -math.inf  # the last step's time
        self._last_sampled: dict[str, Any] = empty_record()
        self._served: dict[str, Any] = empty_record()

    # ---- the buffer: what the on-disk gateway overrides ---------------------------------
    def _push(self, record: dict[str, Any]) -> None:
        self._buffer.append(record)
        while len(self._buffer) > self._capacity:
            self._buffer.popleft()
            self._dropped += 1

    def _pop(self) -> dict[str, Any] | None:
        return self._buffer.popleft() if self._buffer else None

    def _backlog(self) -> int:
        return len(self._buffer)

    def buffered(self) -> Iterable[dict[str, Any]]:
        """The records waiting, oldest first."""
        return iter(self._buffer)

    # ---- the step ----------------------------------------------------------------------
    def _due(self, t: float) -> bool:
        t0 = self._t0_s
        if t0 is None or t < self._last_s:
            self._t0_s, self._next, self._last_s = t, 1, t
            return True
        self._last_s = t
        period = self._period_s
        # grid points as t0 + k × period, never a running sum: far from 0 a sum of periods
        # drifts from the step times, and a tolerance of 1e-4 period absorbs their rounding
        if t < t0 + self._next * period - GRID_TOLERANCE * period:
            return False
        self._next = max(self._next + 1,
                         math.floor((t - t0) / period + GRID_TOLERANCE) + 1)
        return True

    def _publish(self) -> bool:
        record = self._pop()
        if record is None:
            return False
        self._served = record
        return True

    def step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """The block's step, then the buffer's changes on the disk (with a journal)."""
        out = super().step(t, inputs)
        buffer = self._buffer
        if isinstance(buffer, JournaledBacklog):
            buffer.commit(self._dropped)
        return out

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        up = bool(inputs["uplink_connected"])
        published = up and self._publish()  # the backlog first: a full buffer keeps it
        if self._due(t):
            self._last_sampled = sample(t, inputs, self._last_sampled)
            self._push(self._last_sampled)
            if up and not published:
                published = self._publish()
        return {**self._served, "telemetry_record_published": published,
                "telemetry_backlog_records": self._backlog(),
                "telemetry_dropped_records": self._dropped}
