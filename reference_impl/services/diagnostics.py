"""The fault memory (spec: interfaces/diagnostics.yaml, requirements OBSA-DIAG-*).

Every fault code of the spec is a diagnostic trouble code (DTC). The memory is generic: it
reads every ``*_fault_flags`` input of its interface that is present in a step's inputs and
maps each bit to its row of the DTC table, so a component that gains fault codes in the spec
needs no change here. Per DTC, in ascending DTC order (the order of every output array):

- status: inactive → active when its flag rises; active → stored when it falls; stored →
  inactive on fault_reset_request (an active DTC stays active);
- occurrences: +1 per rising edge (saturating at 65535, the signal's range);
- first and last occurrence time: the step time of the first and of the latest rising edge,
  −1 when it never occurred. Counters and times survive a fault reset; only reset() erases
  them.

The four arrays are returned as tuples, built again only when the memory changes: a tuple
cannot change behind the caller's back, so whoever reads the reply may keep it, and a
memory that did not change costs no copy (the memory changes on fault edges only, a step
happens every 10 ms).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..component import Block
from ..interfaces import DTC_TABLE, FLAGS_SIGNALS, DiagnosticsInputs, DtcStatus

COMPONENT = "diagnostics"
_MAX_OCCURRENCES = 65535

_INACTIVE, _ACTIVE, _STORED = int(DtcStatus.INACTIVE), int(DtcStatus.ACTIVE), int(DtcStatus.STORED)


def _flag_rows() -> tuple[tuple[str, tuple[tuple[int, int], ...]], ...]:
    """(fault-flags signal, ((bit mask, DTC row), ...)) for every fault-flags input."""
    table = []
    for signal, component in FLAGS_SIGNALS.items():
        if not signal.endswith("_fault_flags") or signal not in DiagnosticsInputs.__annotations__:
            continue  # warning and request flags are live indications, not trouble codes
        rows = tuple((1 << bit, row) for row, (_dtc, owner, _fault, bit, _severity)
                     in enumerate(DTC_TABLE) if owner == component)
        table.append((signal, rows))
    return tuple(table)


class Diagnostics(Block):
    """Status, occurrence counter and first/last time of every DTC (no parameters)."""

    COMPONENT = COMPONENT
    _signals = _flag_rows()  # the same for every instance: it comes from the spec

    def reset(self) -> None:
        """Erase the memory: every DTC inactive, never occurred."""
        n = len(DTC_TABLE)
        self._status = [_INACTIVE] * n
        self._occurrences = [0] * n
        self._first_s = [-1.0] * n
        self._last_s = [-1.0] * n
        self._previous = dict.fromkeys((signal for signal, _ in self._signals), 0)
        self._stored = 0  # number of stored DTCs, so that a reset request costs nothing otherwise
        self._reply: dict[str, tuple[Any, ...]] | None = None  # built again after a change

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        """Record the flag edges seen at simulated time ``t`` (s)."""
        for signal, rows in self._signals:
            flags = inputs.get(signal)
            if flags is None:
                continue
            flags = int(flags)
            changed = flags ^ self._previous[signal]
            if changed:
                self._previous[signal] = flags
                self._record(t, flags, changed, rows)
                self._reply = None
        if self._stored and inputs.get("fault_reset_request", False):
            status = self._status
            for row, value in enumerate(status):
                if value == _STORED:
                    status[row] = _INACTIVE
            self._stored = 0
            self._reply = None
        if self._reply is None:
            self._reply = {
                "dtc_status": tuple(self._status),
                "dtc_occurrences": tuple(self._occurrences),
                "dtc_first_time_s": tuple(self._first_s),
                "dtc_last_time_s": tuple(self._last_s),
            }
        return dict(self._reply)

    def _record(self, t: float, flags: int, changed: int,
                rows: tuple[tuple[int, int], ...]) -> None:
        status = self._status
        for mask, row in rows:
            if not changed & mask:
                continue
            if flags & mask:  # rising edge
                if status[row] == _STORED:
                    self._stored -= 1
                status[row] = _ACTIVE
                count = self._occurrences[row]
                if count == 0:
                    self._first_s[row] = t
                if count < _MAX_OCCURRENCES:
                    self._occurrences[row] = count + 1
                self._last_s[row] = t
            else:  # falling edge
                status[row] = _STORED
                self._stored += 1
