"""Wall time of certifying the reference implementation, against the 30 s target.

Runs ``obsa certify reference`` in a fresh process (as a user would) and prints the wall
time and its ratio to the target. Not a test.

    .venv/bin/python benchmarks/certify_reference.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time

TARGET_S = 30.0


def main() -> None:
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "conformance", "certify", "reference",
                               "--out", out, "--no-progress"], capture_output=True, text=True)
        wall = time.perf_counter() - start
    print(f"obsa certify reference: exit {proc.returncode}, {wall:.1f} s wall "
          f"({wall / TARGET_S:.2f} of the {TARGET_S:.0f} s target)")
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:])


if __name__ == "__main__":
    main()
