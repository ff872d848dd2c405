"""The telemetry's backlog in the module's non-volatile store: a first-in first-out queue of
records whose every change is appended to a journal file, so that a power loss keeps every
record the telemetry had buffered (spec: OBSA-CONN-007; lifecycle rule power_loss).

:class:`JournaledBacklog` is a :class:`collections.deque` that notes each change the telemetry
makes (a record appended, the oldest or the newest removed, the queue cleared: ``append``,
``popleft``, ``pop``, ``clear``; the deque's other mutators are not journaled);
:meth:`~JournaledBacklog.commit`, at the end of the telemetry's step, writes the changes
of the step to the journal in one append and flushes it to the disk (``fsync``) before the
step returns: what a step reported as buffered is on the disk. A step that leaves the queue
as empty as the file already says writes nothing, so a gateway whose link is up and whose
records are published in the step that samples them never touches the disk.

The journal is text, one change a line: ``N <count>`` (the dropped-record counter),
``R <record as JSON>`` (appended), ``P`` (the oldest removed), ``T`` (the newest removed),
``C`` (cleared). It is rewritten whole — the records it holds, written to a file beside it,
flushed, renamed over it and the directory flushed, so that a reader sees the old file or
the new one — at power-up and when the journal grows past twice the capacity in lines, so
its size stays bounded; a step that empties the queue appends ``C`` alone. A power loss in
the middle of an append leaves a last line without its newline, or one that does not parse:
reading stops there (the change it held had not been reported by a step that returned), and
:attr:`JournaledBacklog.problem` says so.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

#: the changes a step notes, before :meth:`JournaledBacklog.commit` writes them
_Change = tuple[str, "dict[str, Any] | None"]


class JournaledBacklog(deque[dict[str, Any]]):
    """A deque of records journaled to ``path``; see the module docstring."""

    def __init__(self, path: Path, capacity: int, records: Iterable[dict[str, Any]] = (),
                 dropped: int = 0) -> None:
        super().__init__(records)
        self.path = path
        #: journal lines beyond which the file is rewritten whole
        self.limit = 2 * max(int(capacity), 1) + 8
        #: the dropped-record counter the file holds
        self.dropped = dropped
        #: why the last :meth:`restore` stopped before the end of the file, or None
        self.problem: str | None = None
        self._changes: list[_Change] = []
        self._lines = 0
        self._empty_on_disk = True
        self._fd: int | None = None
        self._rewrite()

    # ---- opening ------------------------------------------------------------------
    @classmethod
    def erased(cls, path: Path, capacity: int) -> JournaledBacklog:
        """A new gateway: the journal emptied, the counter at zero."""
        return cls(path, capacity)

    @classmethod
    def restore(cls, path: Path, capacity: int) -> JournaledBacklog:
        """Power-up: the queue and the counter as the journal at ``path`` holds them (an
        empty queue when there is none), the journal rewritten clean."""
        records: deque[dict[str, Any]] = deque()
        dropped = 0
        problem = None
        try:
            text = path.read_bytes().decode("utf-8", errors="replace")
        except FileNotFoundError:
            text = ""
        lines = text.split("\n")
        for number, line in enumerate(lines[:-1], start=1):  # the last: no newline after it
            try:
                kind, _, rest = line.partition(" ")
                if kind == "R":
                    record = json.loads(rest)
                    if not isinstance(record, dict):
                        raise ValueError(f"expected a JSON object, found {rest[:40]!r}")
                    records.append(record)
                elif kind == "N":
                    dropped = int(rest)
                elif kind in ("P", "T"):
                    if records:
                        records.popleft() if kind == "P" else records.pop()
                elif kind == "C":
                    records.clear()
                else:
                    raise ValueError(f"expected a change N, R, P, T or C, found {kind[:10]!r}")
            except ValueError as exc:
                problem = f"{path}: line {number}: {exc}: the journal is read up to line " \
                          f"{number - 1}"
                break
        else:
            if lines[-1]:
                problem = f"{path}: the last line ends without a newline (cut while written): " \
                          "read up to the line before"
        backlog = cls(path, capacity, records, dropped)
        backlog.problem = problem
        return backlog

    # ---- the deque's changes, noted ---------------------------------------------
    def append(self, record: dict[str, Any]) -> None:
        super().append(record)
        self._changes.append(("R", record))

    def popleft(self) -> dict[str, Any]:
        record = super().popleft()
        self._changes.append(("P", None))
        return record

    def pop(self) -> dict[str, Any]:  # type: ignore[override]  # a deque's pop takes no index
        record = super().pop()
        self._changes.append(("T", None))
        return record

    def clear(self) -> None:
        super().clear()
        self._changes.append(("C", None))

    # ---- the disk ---------------------------------------------------------------
    def commit(self, dropped: int) -> None:
        """Write the changes since the last commit and the dropped-record counter, and
        flush them to the disk (see the module docstring)."""
        changes = self._changes
        if not changes and dropped == self.dropped:
            return
        self._changes = []
        counted = dropped != self.dropped
        if not self and self._empty_on_disk and not counted:
            return  # the file already holds an empty queue and this counter
        self.dropped = dropped
        if self._lines + len(changes) + 2 > self.limit:
            self._rewrite()
            return
        out = [f"N {dropped}\n"] if counted else []
        if not self:
            out.append("C\n")  # whatever the step did, the queue is empty
        else:
            for kind, record in changes:
                out.append(f"R {_dumps(record)}\n" if kind == "R" else f"{kind}\n")
        assert self._fd is not None
        os.write(self._fd, "".join(out).encode())
        os.fsync(self._fd)
        self._lines += len(out)
        self._empty_on_disk = not self

    def _rewrite(self) -> None:
        """Replace the journal with the queue as it is, atomically."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._changes = []
        tmp = self.path.with_name(self.path.name + ".new")
        lines = [f"N {self.dropped}\n", *(f"R {_dumps(r)}\n" for r in self)]
        with open(tmp, "wb") as f:
            f.write("".join(lines).encode())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
        self._lines = len(lines)
        self._empty_on_disk = not self
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)

    def close(self) -> None:
        """Let the file go (the data is on the disk already)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        self.close()


def _dumps(record: dict[str, Any] | None) -> str:
    return json.dumps(record, allow_nan=False, separators=(",", ":"))
