"""Reading the other end of a pipe: wait busy for a moment when it pays, else sleep.

A process asleep in ``poll`` is woken slowly on a virtual machine: a pipe round trip
between the bench and a module's process takes ~65 µs when the reader sleeps, ~4 µs when
it spins. So both ends of the process transport (:mod:`.process`, :mod:`.serve`) read
busy for a moment before they sleep. Spinning pays only while the other end answers
within that moment on a core of its own; on a loaded machine a spinning reader takes the
core the other end (or anyone else) needs. :class:`Reader` therefore adapts:

- with a single usable core it never spins;
- the moment follows recent answer times: a few times the typical one, at most
  :data:`SPIN_S` (a slow answer is waited for asleep);
- once a wait runs past twice the typical answer time, it yields the core at every turn
  (``sched_yield``): any other process waiting for this core runs first (a quick answer
  is awaited without the system calls);
- when most of the recent waits ran past the moment, or gave the core away at a yield
  (another process was waiting for it: the machine is loaded), it stops spinning for a
  while, then tries again.

Spinning never delays a deadline: it lasts at most :data:`SPIN_S` (2 ms, far below the
shortest per-call timeout), and an end of file or an error ends it at once. Imports
nothing heavy: the component server uses it too.
"""

from __future__ import annotations

import os
import select
import time

SPIN_S = 0.002
"""The longest a reader waits busy before it sleeps."""
MIN_SPIN_S = 50e-6
"""The shortest moment worth spinning (a pipe round trip of a sleeping reader)."""
SPIN_FACTOR = 4.0
"""The moment is this many times the typical recent answer time."""
PATIENCE = 2.0
"""For this many typical answer times a reader spins without yielding: a yield is a
system call, and a yield at every turn of a quick wait costs a fast module a third of
its round trips (measured: 0.70 of a bare pipe against 0.90 without)."""
YIELDED_S = 20e-6
"""A yield that took longer ran another process: the core was wanted."""
WINDOW = 32
"""Waits per verdict on spinning: when more than half of them ran past the moment..."""
PAUSE = 512
"""... this many waits sleep at once, before spinning is tried again."""

_yield = getattr(os, "sched_yield", lambda: None)


def usable_cores() -> int:
    """The cores this process may run on (its affinity), else the machine's count."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


class Reader:
    """Reads a file descriptor (made non-blocking) as described in the module docstring.

    ``max_spin_s`` 0 never spins. :meth:`read` returns the next bytes, ``b""`` at end of
    file, None when nothing came within the timeout.
    """

    def __init__(self, fd: int, max_spin_s: float = SPIN_S) -> None:
        os.set_blocking(fd, False)
        self.fd = fd
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        self.max_spin_s = max_spin_s if usable_cores() > 1 else 0.0
        self.spin_s = self.max_spin_s  # the current moment
        self.typical_s = self.max_spin_s / SPIN_FACTOR  # recent answer time, smoothed
        self.waits = 0  # in the current window
        self.misses = 0  # waits of the current window that ran past the moment
        self.paused = 0  # waits left without spinning
        self.pauses = 0  # how often spinning was stopped (for benchmarks)

    def read(self, timeout_s: float | None = None) -> bytes | None:
        """The next bytes (``b""`` at end of file); None when none came within
        ``timeout_s`` (None: wait as long as it takes)."""
        fd = self.fd
        if self.paused:
            self.paused -= 1
        elif self.spin_s > 0.0:
            clock = time.perf_counter
            start = now = clock()
            until = start + self.spin_s
            patient = start + PATIENCE * self.typical_s
            wanted = False
            while True:
                try:
                    chunk = os.read(fd, 1 << 20)
                except BlockingIOError:
                    pass
                else:
                    self._answered(clock() - start, wanted)
                    return chunk
                if now >= until:
                    break
                if now >= patient:
                    _yield()
                    before, now = now, clock()
                    wanted = wanted or now - before > YIELDED_S
                else:
                    now = clock()
            self._missed()
            if timeout_s is not None:
                timeout_s = max(0.0, timeout_s - (clock() - start))
        return self._sleep(timeout_s)

    def _sleep(self, timeout_s: float | None) -> bytes | None:
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            try:
                return os.read(self.fd, 1 << 20)
            except BlockingIOError:
                pass
            if deadline is None:
                self._poll.poll()
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._poll.poll(remaining * 1000.0):
                try:  # a last look: the answer may have come as the deadline passed
                    return os.read(self.fd, 1 << 20)
                except BlockingIOError:
                    return None

    def _answered(self, took_s: float, wanted: bool) -> None:
        self.typical_s += 0.125 * (took_s - self.typical_s)
        self.spin_s = min(self.max_spin_s, max(MIN_SPIN_S, SPIN_FACTOR * self.typical_s))
        self._count(wanted)

    def _missed(self) -> None:
        # the answer is slower than the moment: allow a longer one next time (up to the
        # limit), unless most waits miss — then the other end is not running: sleep a while
        self.spin_s = min(self.max_spin_s, 2.0 * self.spin_s)
        self._count(True)

    def _count(self, missed: bool) -> None:
        self.waits += 1
        self.misses += missed
        if self.waits >= WINDOW:
            if 2 * self.misses > self.waits:
                self.paused = PAUSE
                self.pauses += 1
            self.waits = self.misses = 0
