"""A component's non-volatile store: a record that survives a power loss (spec: lifecycle
rule power_loss, OBSA-REG-015).

On a board this is a page of EEPROM or flash; on the bench it is one file per component in
the directory that the bench names in the environment variable ``OBSA_NVM_DIR``: created
for the certification run, private to the module, kept across its restarts, deleted after
the run. Without that variable (a unit test creating a component directly) there is no
store: :meth:`NvmStore.from_environment` returns None and the component keeps its data in
RAM only.

Crash safety. A power loss may come at any instant, in the middle of a save too. A save
therefore never overwrites the record in place: it writes the whole new record to a
temporary file beside it, flushes it to the disk (``fsync``), renames it over the old one
(``os.replace``, atomic on POSIX: a reader sees the old file or the new one, never a mix)
and syncs the directory, so that the rename itself is on the disk — the two-page scheme of
an EEPROM emulation (program the new page, then switch to it). A record carries its format
and a CRC-32 of its data; one that does not load (another format, a damaged medium, a file
someone truncated) is reported by :attr:`NvmStore.problem` and read as no record, never
half-read.
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

NVM_VARIABLE = "OBSA_NVM_DIR"
"""The environment variable that names the module's non-volatile store (a directory)."""
FORMAT = "obsa-nvm/1"
"""The format of a record: ``{"format", "crc32", "data"}``, ``crc32`` over ``data`` as
compact JSON with sorted keys."""


class NvmStore:
    """The non-volatile record of one component: :meth:`load`, :meth:`save`, :meth:`erase`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        #: why the last :meth:`load` found no usable record although a file was there
        self.problem: str | None = None

    @classmethod
    def from_environment(cls, name: str,
                         environ: Mapping[str, str] | None = None) -> NvmStore | None:
        """The store of component ``name`` in the directory ``OBSA_NVM_DIR`` names, or None
        when the variable is not set (RAM only)."""
        directory = (os.environ if environ is None else environ).get(NVM_VARIABLE)
        return cls(Path(directory) / f"{name}.json") if directory else None

    def load(self) -> dict[str, Any] | None:
        """The saved data, or None: nothing saved yet, or a record that does not load (see
        :attr:`problem`)."""
        self.problem = None
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            record = json.loads(raw)
            data = record["data"]
            if record.get("format") != FORMAT:
                raise ValueError(f"expected format {FORMAT!r}, found {record.get('format')!r}")
            if record.get("crc32") != _crc(data):
                raise ValueError("its CRC-32 does not match its data")
            if not isinstance(data, dict):
                raise ValueError(f"expected an object of data, found {type(data).__name__}")
        except (ValueError, KeyError, TypeError) as exc:
            self.problem = f"{self.path}: unusable record ({exc}): read as none"
            return None
        return data

    def save(self, data: Mapping[str, Any]) -> None:
        """Replace the record with ``data`` (JSON values), atomically (module docstring)."""
        payload = dict(data)
        text = json.dumps({"format": FORMAT, "crc32": _crc(payload), "data": payload},
                          allow_nan=False)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(text.encode())
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        _sync_directory(self.path.parent)

    def erase(self) -> None:
        """Remove the record (a new battery)."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            return
        _sync_directory(self.path.parent)


def _crc(data: Any) -> int:
    return zlib.crc32(json.dumps(data, sort_keys=True, separators=(",", ":")).encode())


def _sync_directory(directory: Path) -> None:
    """Make a rename or removal in ``directory`` durable (where the file system allows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
