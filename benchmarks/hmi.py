"""Snapshot requests per second of the HMI API on loopback, not a test.

    .venv/bin/python benchmarks/hmi.py

Starts ``obsa hmi reference`` (the reference full BMS on the bench plant, real time) in a
child process on a free loopback port, waits for its first snapshot, then times GET
/api/snapshot: 3000 requests over one keep-alive connection, then the same over 4
connections in parallel threads. Prints requests/s of each beside the target (1000/s).
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

REQUESTS = 3000
CONNECTIONS = 4
TARGET_PER_S = 1000.0


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(port: int, n: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(n):
        conn.request("GET", "/api/snapshot")
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            raise RuntimeError(f"GET /api/snapshot: HTTP {r.status}")
    conn.close()


def main() -> None:
    port = _port()
    obsa = Path(sys.executable).with_name("obsa")
    child = subprocess.Popen([str(obsa), "hmi", "reference", "--port", str(port)],
                             stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _run(port, 1)
                break
            except (OSError, RuntimeError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        start = time.perf_counter()
        _run(port, REQUESTS)
        one = REQUESTS / (time.perf_counter() - start)
        threads = [threading.Thread(target=_run, args=(port, REQUESTS // CONNECTIONS))
                   for _ in range(CONNECTIONS)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        many = REQUESTS // CONNECTIONS * CONNECTIONS / (time.perf_counter() - start)
    finally:
        child.terminate()
        child.wait(timeout=10)
    print(f"GET /api/snapshot on loopback, the reference full BMS stepping in real time "
          f"behind it: {one:.0f} requests/s over 1 connection, {many:.0f} requests/s over "
          f"{CONNECTIONS} (target {TARGET_PER_S:.0f}/s: "
          f"{'met' if min(one, many) >= TARGET_PER_S else 'NOT met'})")


if __name__ == "__main__":
    main()
