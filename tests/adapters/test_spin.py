"""The pipe reader of the process transport: it never waits past a deadline, sees an end
of file at once, does not spin on one core, and stops spinning when spinning does not pay."""

from __future__ import annotations

import os
import time

import pytest

from conformance.adapters import spin
from conformance.adapters.spin import Reader


@pytest.fixture
def pipe():
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        try:
            os.close(fd)
        except OSError:
            pass


def test_nothing_to_read_returns_none_at_the_deadline(pipe):
    reader = Reader(pipe[0])
    start = time.monotonic()
    assert reader.read(0.05) is None
    assert time.monotonic() - start < 5.0  # never hangs (the bound is loose: busy machines)


def test_data_and_end_of_file(pipe):
    r, w = pipe
    reader = Reader(r)
    os.write(w, b"line\n")
    assert reader.read(1.0) == b"line\n"
    os.close(w)
    assert reader.read(1.0) == b""  # the writer is gone: at once, whatever the timeout
    assert reader.read(None) == b""


def test_one_core_never_spins(pipe, monkeypatch):
    monkeypatch.setattr(spin, "usable_cores", lambda: 1)
    assert Reader(pipe[0]).max_spin_s == 0.0


def test_spinning_stops_when_it_does_not_pay(pipe, monkeypatch):
    monkeypatch.setattr(spin, "usable_cores", lambda: 2)
    reader = Reader(pipe[0], max_spin_s=0.0005)
    for _ in range(spin.WINDOW):  # every wait runs past the moment: nobody answers
        assert reader.read(0.0) is None
    assert reader.paused == spin.PAUSE and reader.pauses == 1
    start = time.perf_counter()
    assert reader.read(0.0) is None  # paused: no spinning at all
    assert reader.paused == spin.PAUSE - 1
    assert time.perf_counter() - start < 0.5


def test_the_moment_follows_the_answer_times(pipe, monkeypatch):
    monkeypatch.setattr(spin, "usable_cores", lambda: 2)
    r, w = pipe
    reader = Reader(r)
    for _ in range(50):  # answers ready at once: the moment shrinks to its floor
        os.write(w, b"x")
        assert reader.read(1.0) == b"x"
    assert reader.spin_s == pytest.approx(spin.MIN_SPIN_S)


def test_a_wait_yields_the_core_only_past_twice_the_typical_answer(pipe, monkeypatch):
    monkeypatch.setattr(spin, "usable_cores", lambda: 2)
    yields: list[None] = []
    monkeypatch.setattr(spin, "_yield", lambda: yields.append(None))
    reader = Reader(pipe[0])
    reader.spin_s, reader.typical_s = 0.001, 1.0  # answers usually take far longer
    assert reader.read(0.0) is None
    assert not yields  # the whole moment spun without a system call
    reader.spin_s, reader.typical_s = 0.001, 0.0  # every answer comes at once
    assert reader.read(0.0) is None
    assert yields  # a late one: the core is offered at every turn
