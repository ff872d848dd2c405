"""Wall time of certifying the reference implementation, against the 10 s target.

Runs ``obsa certify reference`` in a fresh process (as a user would), isolated (how a
certification runs) and ``--in-process`` (debugging mode), and prints the wall times, the
suite's own duration from each report, and the ratio of each to the target. Not a test.

    .venv/bin/python benchmarks/certify_reference.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 10.0


def run(*extra: str) -> tuple[int, float, float | None]:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "conformance", "certify", "reference",
                               "--out", out, "--no-progress", *extra],
                              capture_output=True, text=True)
        wall = time.perf_counter() - start
        report = Path(out) / "report.json"
        suite = json.loads(report.read_text())["duration_s"] if report.exists() else None
    if proc.returncode not in (0, 1):
        print(proc.stdout[-2000:], proc.stderr[-2000:])
    return proc.returncode, wall, suite


def main() -> None:
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for label, extra in (("isolated  ", ()), ("in process", ("--in-process",))):
        code, wall, suite = run(*extra)
        print(f"obsa certify reference, {label}: exit {code}, {wall:.1f} s wall "
              f"(suite {suite if suite is not None else float('nan'):.1f} s, the rest is "
              f"start-up and the report) — {wall / TARGET_S:.2f} of the {TARGET_S:.0f} s "
              "target")


if __name__ == "__main__":
    main()
