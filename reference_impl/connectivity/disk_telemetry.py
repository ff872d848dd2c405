"""The telemetry block with its buffer on disk: the MQTT gateway's SQLite buffer
(:mod:`.disk_buffer`) in place of the block's journal, so that the bench certifies the buffer
the gateway uses on a real network (spec: interfaces/telemetry.yaml, OBSA-CONN-001 to 007).

The file is ``telemetry.sqlite`` in the module's non-volatile store (the directory the bench
names in ``OBSA_NVM_DIR``; without it, a temporary directory of this instance). reset() is a
new gateway: it empties the file and its counters. ``configure`` is the power-up: it opens
the file as a power loss left it, with its records and counters (OBSA-CONN-007). A record
leaves the file when the step publishes it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..services.nvm import NVM_VARIABLE
from .disk_buffer import SqliteBuffer
from .telemetry import Telemetry

SEQ = "seq"


class DiskTelemetry(Telemetry):
    """:class:`.telemetry.Telemetry` buffering in SQLite; see the module docstring."""

    def _setup(self, p: dict[str, Any]) -> None:
        super()._setup(p)
        directory = os.environ.get(NVM_VARIABLE) or tempfile.mkdtemp(prefix="obsa-telemetry-")
        self._path = Path(directory) / "telemetry.sqlite"
        self._disk: SqliteBuffer | None = None

    def configure(self, parameters: Mapping[str, Any]) -> None:
        """Power-up: the reset() inside opens the file as it is instead of emptying it."""
        self._powering_up = True
        try:
            super().configure(parameters)
        finally:
            self._powering_up = False

    def _journal_path(self) -> Path | None:
        return None  # the SQLite file is the non-volatile buffer

    def reset(self) -> None:
        super().reset()
        if getattr(self, "_disk", None) is not None:
            assert self._disk is not None
            self._disk.close()
        if not getattr(self, "_powering_up", False):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self._path}{suffix}").unlink(missing_ok=True)
        self._disk = SqliteBuffer(self._path, self._capacity)

    @property
    def disk(self) -> SqliteBuffer:
        assert self._disk is not None, "configure() first"
        return self._disk

    def _push(self, record: dict[str, Any]) -> None:
        self.disk.push(record, SEQ)

    def _pop(self) -> dict[str, Any] | None:
        rows = self.disk.after(None, 1)
        if not rows:
            return None
        seq, text = rows[0]
        self.disk.delete(seq)
        record: dict[str, Any] = json.loads(text)
        del record[SEQ]
        return record

    def _backlog(self) -> int:
        return len(self.disk)

    def _step(self, t: float, inputs: Mapping[str, Any]) -> dict[str, Any]:
        out = super()._step(t, inputs)
        out["telemetry_dropped_records"] = self.disk.dropped
        return out
