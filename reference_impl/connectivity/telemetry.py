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

The buffer here is in memory, as the component contract asks of a block; the MQTT gateway
(:mod:`.mqtt_gateway`) keeps the same buffer on disk, with the same rules.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..component import Block
from ..interfaces import SIGNAL_FORMAT, ContactorState, SafetyState

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

    def _setup(self, p: dict[str, Any]) -> None:
        self._period_s = float(p["publish_period_s"])
        self._capacity = int(p["buffer_capacity_records"])

    def reset(self) -> None:
        """Nothing sampled, nothing buffered, nothing dropped."""
        self._buffer: deque[dict[str, Any]] = deque()
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
