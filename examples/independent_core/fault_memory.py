"""Fault memory (OBSA diagnostics) kept as an event log with a projection.

Design (independent of the reference implementation): the memory's truth is an append-only
log of events — a flag rose, a flag fell, a reset acknowledged a stored code. The outputs
are a *projection* of that log, folded one event at a time by :func:`apply`; ``replay()``
rebuilds the projection from the log alone, which is how the outputs can be audited
against the history. To keep memory bounded on long runs, the oldest events are folded
into a snapshot once the log holds ``LOG_LIMIT`` of them (the projection is unchanged).

The DTC dimension is every fault code of the spec in ascending DTC number; a code's flag is
bit ``bit`` of the flags signal whose ``flags_of`` is the code's component.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from . import _spec

COMPONENT = "diagnostics"
LOG_LIMIT = 4096
NEVER_S = -1.0


@dataclass(frozen=True)
class Event:
    """One change of the fault memory: ``kind`` is 'rose', 'fell' or 'acknowledged'."""

    t_s: float
    dtc_index: int
    kind: str


@dataclass
class Projection:
    """The outputs, as folded from the log."""

    status: list[int]
    occurrences: list[int]
    first_s: list[float]
    last_s: list[float]

    @classmethod
    def empty(cls, size: int) -> Projection:
        return cls([0] * size, [0] * size, [NEVER_S] * size, [NEVER_S] * size)


@dataclass
class StatusValues:
    inactive: int
    active: int
    stored: int


def apply(view: Projection, event: Event, status: StatusValues) -> None:
    """Fold one event into the projection (the only place the outputs change)."""
    i = event.dtc_index
    if event.kind == "rose":
        view.status[i] = status.active
        view.occurrences[i] += 1
        if view.first_s[i] == NEVER_S:
            view.first_s[i] = event.t_s
        view.last_s[i] = event.t_s
    elif event.kind == "fell":
        view.status[i] = status.stored
    elif event.kind == "acknowledged":
        view.status[i] = status.inactive
    else:
        raise ValueError(f"unknown fault-memory event kind {event.kind!r}")


@dataclass
class _Source:
    """One flags input and the DTC index of each of its bits."""

    signal: str
    dtc_of_bit: dict[int, int] = field(default_factory=dict)


class FaultMemory:
    """OBSA diagnostics: DTC status, occurrence counters and times."""

    def __init__(self) -> None:
        self.configure({})

    def configure(self, parameters: dict[str, Any]) -> None:
        """Lay out the DTC dimension from every fault code of the spec."""
        _spec.resolve_parameters(COMPONENT, parameters)  # rejects unknown names
        spec = _spec.spec()
        codes = sorted((code.dtc, component, code.bit)
                       for component, iface in spec.interfaces.items()
                       for code in iface.fault_codes)
        flags_signal = {}
        for port in spec.interfaces[COMPONENT].inputs:
            signal = spec.signals[port.signal]
            if signal.type == "flags" and signal.flags_of is not None:
                flags_signal[signal.flags_of] = port.signal
        self._sources: dict[str, _Source] = {}
        for index, (_, component, bit) in enumerate(codes):
            if component not in flags_signal:
                continue  # a code no input carries stays inactive
            source = self._sources.setdefault(component, _Source(flags_signal[component]))
            source.dtc_of_bit[bit] = index
        self._size = len(codes)
        values = _spec.enum_values("dtc_status")
        self._status = StatusValues(values["inactive"], values["active"], values["stored"])
        self.reset()

    def reset(self) -> None:
        """Erase the memory: empty log, every DTC inactive and never seen."""
        self._snapshot = Projection.empty(self._size)
        self._log: list[Event] = []
        self._view = Projection.empty(self._size)
        self._previous = {name: 0 for name in self._sources}

    def step(self, t: float, inputs: dict[str, Any]) -> dict[str, Any]:
        """Log the edges of every flag, then any acknowledgement; return the projection."""
        for name, source in self._sources.items():
            word = int(inputs.get(source.signal, 0) or 0)
            changed = word ^ self._previous[name]
            if changed:
                for bit, index in source.dtc_of_bit.items():
                    if changed >> bit & 1:
                        self._record(Event(t, index, "rose" if word >> bit & 1 else "fell"))
                self._previous[name] = word
        if inputs.get("fault_reset_request", False):
            for index, status in enumerate(self._view.status):
                if status == self._status.stored:
                    self._record(Event(t, index, "acknowledged"))
        view = self._view
        return {
            "dtc_status": list(view.status),
            "dtc_occurrences": list(view.occurrences),
            "dtc_first_time_s": list(view.first_s),
            "dtc_last_time_s": list(view.last_s),
        }

    def _record(self, event: Event) -> None:
        self._log.append(event)
        apply(self._view, event, self._status)
        if len(self._log) > LOG_LIMIT:
            for old in self._log[: LOG_LIMIT // 2]:
                apply(self._snapshot, old, self._status)
            del self._log[: LOG_LIMIT // 2]

    # ------------------------------------------------------------------ audit
    @property
    def log(self) -> tuple[Event, ...]:
        """The events since the last snapshot, oldest first."""
        return tuple(self._log)

    def replay(self) -> Projection:
        """The projection rebuilt from the snapshot and the log alone."""
        view = copy.deepcopy(self._snapshot)
        for event in self._log:
            apply(view, event, self._status)
        return view
