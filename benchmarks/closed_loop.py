"""Closed-loop speed: the bench plant with the reference safety core in the loop.

Prints the real-time factor (simulated seconds per wall second) of the loop the suite
runs — 96 cells, 10 ms step, the three safety-core components through the Python adapter
with reply validation — with and without trace recording, and the target ratio (≥ 200×).
Not a test: these machines are noisy, so the numbers are printed, never asserted.

    .venv/bin/python benchmarks/closed_loop.py [--seconds 60] [--cells 96]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from conformance.harness.context import Harness
from conformance.session import Certification

TARGET = 200.0


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="simulated seconds per run")
    ap.add_argument("--cells", type=int, default=96)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cert = Certification.prepare("reference", None, Path(tempfile.mkdtemp()))
    if cert.refused:
        raise SystemExit("\n".join(cert.issues))
    for trace in (False, True):
        ratios = [measure(cert, args.seconds, args.cells, trace) for _ in range(args.repeat)]
        best, median = max(ratios), float(np.median(ratios))
        print(f"closed loop, {args.cells} cells, 10 ms step, trace {'on ' if trace else 'off'}: "
              f"median {median:6.0f}× real time (best {best:.0f}×) — "
              f"{median / TARGET:.2f} of the {TARGET:.0f}× target")
    cert.close()


if __name__ == "__main__":
    main()
