"""A real uvicorn server on a free loopback port over the reference full BMS on the bench."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from conformance.bench import Bench
from reference_impl.hmi import create_app
from reference_impl.hmi.runner import ClosedLoopFeed, reference_loop

TOKEN = "s3cret-token"
MANIFEST = Path(__file__).parents[2] / "reference_impl" / "manifest_full_bms.yaml"


@dataclass
class Served:
    url: str
    loop: ClosedLoopFeed
    token: str | None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(loop: ClosedLoopFeed, token: str | None) -> Iterator[Served]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(loop.feed, token), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    loop.start()
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.02)
    try:
        yield Served(f"http://127.0.0.1:{port}", loop, token)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        loop.stop()


def _bench() -> Bench:
    bench = Bench()
    bench.set_load_current(-20.0)
    return bench


@pytest.fixture
def served() -> Iterator[Served]:
    """The reference BMS in real time behind an open server."""
    yield from _serve(reference_loop(_bench(), speed=1.0), None)


@pytest.fixture
def served_token() -> Iterator[Served]:
    yield from _serve(reference_loop(_bench(), speed=1.0), TOKEN)
