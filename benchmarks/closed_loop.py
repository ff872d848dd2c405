"""Closed-loop speed: the bench plant with the reference safety core in the loop.

Prints the real-time factor (simulated seconds per wall second) of the loop the suite
runs — 96 cells, 10 ms step, the three safety-core components with reply validation —
with the module isolated in its child process (how a certification runs it: one batched
JSON-RPC round trip per step) and in process (debugging mode), with and without trace
recording, in the same run; and the ratio of each to its target (isolated ≥ 150×). It also
prints the bare round trip of a pipe to a child process on this machine: the floor of an
isolated step. Not a test: these machines are noisy, so the numbers are printed, never
asserted.

    .venv/bin/python benchmarks/closed_loop.py [--seconds 30] [--cells 96] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from conformance.harness.context import Harness
from conformance.session import Certification

TARGET_ISOLATED = 150.0


def measure(cert: Certification, seconds: float, cells: int, trace: bool) -> float:
    assert cert.session is not None
    h = Harness(cert.session, "benchmark", [])
    loop = h.run(n_cells=cells, n_temp_sensors=max(1, cells // 4))
    if not trace:
        loop.channels = []
        loop.trace = {}
    loop.set("close_request", True)
    loop.run(2.0)
    t0 = loop.t

    def profile(lp) -> None:
        lp.bench.set_load_current(40.0 * np.sin(0.3 * (lp.t - t0)))

    start = time.perf_counter()
    loop.run(seconds, every=profile)
    wall = time.perf_counter() - start
    return seconds / wall


def pipe_round_trip_us(n: int = 5000) -> float:
    """Median-free, simple: the mean time of a one-line echo through a child process."""
    echo = "import os\nwhile True:\n d = os.read(0, 65536)\n if not d: break\n os.write(1, d)"
    child = subprocess.Popen([sys.executable, "-c", echo], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, bufsize=0)
    assert child.stdin is not None and child.stdout is not None
    fi, fo = child.stdin.fileno(), child.stdout.fileno()
    poll = select.poll()
    poll.register(fo, select.POLLIN)
    start = time.perf_counter()
    for _ in range(n):
        os.write(fi, b'{"jsonrpc":"2.0","id":1}\n')
        poll.poll(1000)
        os.read(fo, 65536)
    took = (time.perf_counter() - start) / n
    child.stdin.close()
    child.wait()
    return took * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="simulated seconds per run")
    ap.add_argument("--cells", type=int, default=96)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"pipe round trip to a child: {pipe_round_trip_us():.0f} µs")
    medians: dict[tuple[bool, bool], float] = {}
    for in_process in (False, True):
        cert = Certification.prepare("reference", None, Path(tempfile.mkdtemp()),
                                     in_process=in_process)
        if cert.refused or cert.adapter is None:
            raise SystemExit("\n".join(cert.issues) or str(cert.adapter_error))
        mode = "in process" if in_process else "isolated  "
        for trace in (False, True):
            ratios = [measure(cert, args.seconds, args.cells, trace)
                      for _ in range(args.repeat)]
            median = float(np.median(ratios))
            medians[(in_process, trace)] = median
            print(f"closed loop, {mode}, {args.cells} cells, 10 ms step, trace "
                  f"{'on ' if trace else 'off'}: median {median:6.0f}× real time "
                  f"(best {max(ratios):.0f}×)"
                  + ("" if in_process else f" — {median / TARGET_ISOLATED:.2f} of the "
                     f"{TARGET_ISOLATED:.0f}× target"))
        cert.close()
    for trace in (False, True):
        iso, inp = medians[(False, trace)], medians[(True, trace)]
        print(f"isolated / in process, trace {'on ' if trace else 'off'}: {iso / inp:.2f}")


if __name__ == "__main__":
    main()
