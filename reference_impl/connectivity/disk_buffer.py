"""The telemetry's buffer on disk: a first-in first-out queue of wire records in SQLite that
survives a killed process (spec: interfaces/telemetry.yaml, OBSA-CONN-003 and 005).

Every record gets the next sequence number of the publisher (kept in the file, so numbers
go on across restarts) and is committed before :meth:`SqliteBuffer.push` returns: a record
the gateway acknowledged by sampling it is on disk (WAL journal, ``synchronous=FULL``). When
the file holds more than its capacity, the oldest records not yet handed to the network are
deleted and counted (the count is kept in the file too); a gap in the sequence numbers on
the server is such a drop. A record leaves the file only when the broker acknowledged it
(:meth:`SqliteBuffer.delete`).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (seq INTEGER PRIMARY KEY, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters VALUES ('next_seq', 0), ('dropped', 0);
"""


class BufferError(ValueError):
    """The buffer file cannot be used: not SQLite, or not a buffer of this format."""


class SqliteBuffer:
    """A bounded, crash-safe FIFO of JSON records keyed by sequence number; thread-safe."""

    def __init__(self, path: str | Path, capacity: int) -> None:
        if not (isinstance(capacity, int) and capacity >= 1):
            raise BufferError(f"SqliteBuffer: capacity: expected an integer ≥ 1, found "
                              f"{capacity!r}")
        self.path = Path(path)
        self.capacity = capacity
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False,
                                       isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise BufferError(f"{self.path}: expected a telemetry buffer (SQLite), "
                              f"found: {exc}") from None

    # ---- counters ------------------------------------------------------------------
    def _counter(self, name: str) -> int:
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0])

    @property
    def dropped(self) -> int:
        """Records dropped because the buffer was full, since the file was created."""
        with self._lock:
            return self._counter("dropped")

    @property
    def next_seq(self) -> int:
        with self._lock:
            return self._counter("next_seq")

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM records").fetchone()[0])

    # ---- the queue -----------------------------------------------------------------
    def push(self, record: dict[str, Any], seq_key: str, sent_up_to: int | None = None) -> int:
        """Give ``record`` the next sequence number (under ``seq_key``), store it, drop the
        oldest records beyond the capacity that are newer than ``sent_up_to`` (those up to
        it are on their way: the broker has them or will on reconnect) and commit. Returns
        the record's sequence number."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                seq = self._counter("next_seq")
                text = json.dumps({seq_key: seq, **record}, allow_nan=False,
                                  separators=(",", ":"))
                db.execute("INSERT INTO records VALUES (?, ?)", (seq, text))
                db.execute("UPDATE counters SET value = ? WHERE name = 'next_seq'", (seq + 1,))
                over = int(db.execute("SELECT COUNT(*) FROM records").fetchone()[0]) \
                    - self.capacity
                if over > 0:
                    floor = -1 if sent_up_to is None else sent_up_to
                    cur = db.execute("DELETE FROM records WHERE seq IN (SELECT seq FROM records "
                                     "WHERE seq > ? ORDER BY seq LIMIT ?)", (floor, over))
                    db.execute("UPDATE counters SET value = value + ? WHERE name = 'dropped'",
                               (cur.rowcount,))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return seq

    def after(self, seq: int | None, limit: int) -> list[tuple[int, str]]:
        """Up to ``limit`` records newer than ``seq`` (None: from the oldest), oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT seq, payload FROM records WHERE seq > ? ORDER BY seq "
                                    "LIMIT ?", (-1 if seq is None else seq, limit)).fetchall()
            return [(int(s), str(p)) for s, p in rows]

    def delete(self, seq: int) -> None:
        """The broker acknowledged record ``seq``: it leaves the buffer."""
        with self._lock:
            self._db.execute("DELETE FROM records WHERE seq = ?", (seq,))

    def close(self) -> None:
        with self._lock:
            self._db.close()
