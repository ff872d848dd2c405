"""The wall time a user waits for a report: from the start of ``obsa certify`` until the
report is written — start-up, the spec, the module, the suite and the report itself, not
only the suite's run.

``obsa certify`` starts the clock (:func:`timing`) with the time its process started;
:func:`~conformance.report.write_all` reads it (:func:`waited_s`) when it writes the report.
Without a running clock (the suite run as a pytest plugin, a report re-rendered) the
report keeps the duration its run measured.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

_IMPORTED = time.monotonic()
_started: float | None = None
"""time.monotonic() when the command started, while a command is running."""


def process_started() -> float:
    """time.monotonic() when this process started, or was forked (Linux: from /proc, to
    10 ms; elsewhere: when this module was first imported, early in the command)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = int(fields[19])  # field 22, starttime: clock ticks after boot
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError, AttributeError):
        return _IMPORTED
    # a fork is younger than this module's import in its parent: /proc says so, rightly
    return time.monotonic() - age if age >= 0 else _IMPORTED


@contextmanager
def timing(started: float | None = None) -> Iterator[None]:
    """The clock of one command, started at ``started`` (time.monotonic(); default: now)."""
    global _started
    previous = _started
    _started = time.monotonic() if started is None else started
    try:
        yield
    finally:
        _started = previous


def waited_s() -> float | None:
    """Seconds since the running command started; None when no command is timing."""
    return None if _started is None else time.monotonic() - _started
