"""``obsa hmi reference``: one command, the reference BMS working behind the dashboard."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conformance.cli import main

from .conftest import free_port

OBSA = Path(sys.executable).with_name("obsa")


def _snapshot(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/snapshot", timeout=5) as r:
        return dict(json.loads(r.read()))


def test_reference_runs_accelerated_behind_the_dashboard() -> None:
    port = free_port()
    child = subprocess.Popen([str(OBSA), "hmi", "reference", "--speed", "10", "--port",
                              str(port)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert f"http://127.0.0.1:{port}/" in child.stdout.readline()
        deadline = time.monotonic() + 20
        while True:
            try:
                first = _snapshot(port)
                break
            except OSError:
                assert time.monotonic() < deadline, "no answer within 20 s"
                time.sleep(0.1)
        start = time.monotonic()
        time.sleep(2.0)
        last = _snapshot(port)
        wall = time.monotonic() - start
        simulated = last["hmi_snapshot_time_s"] - first["hmi_snapshot_time_s"]
        # ten simulated seconds per second, within the machine's slack
        assert 0.5 * 10 * wall <= simulated <= 10 * wall + 0.2, (simulated, wall)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert b"OBSA HMI dashboard" in r.read()
    finally:
        child.terminate()
        child.wait(timeout=10)


def test_a_speed_that_is_not_positive_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hmi", "reference", "--speed", "0"]) == 2
    assert "--speed: expected a positive number, got 0" in capsys.readouterr().err
