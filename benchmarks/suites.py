"""What running both suites costs: ``obsa certify reference --suite both`` against the
pytest suite alone (target: < 1.5×), and the Gherkin suite alone, measured in this run.

Each run is a fresh ``obsa certify reference --no-html --no-progress`` process, isolated
(how a certification runs); ``--repeat N`` runs the three N times, interleaved, and keeps
each one's fastest wall time and its CPU time (user + system of the run and its children:
the module's process included). Prints each, the ratios to the pytest suite alone, and
how many results each report holds. Not a test: the numbers depend on the machine's load.

    .venv/bin/python benchmarks/suites.py [--repeat 3] [--manifest reference]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET = 1.5


def run(manifest: str, suite: str, out: Path) -> tuple[float, float, dict]:
    """One certification: wall time, CPU time (with children), its report."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "conformance", "certify", manifest, "--out",
                           str(out), "--no-html", "--no-progress", "--suite", suite],
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    if proc.returncode != 0:
        print(f"  (--suite {suite}: exit {proc.returncode}, {report['outcome']}; "
              f"disagreements {report.get('disagreements')})")
    return wall, cpu, report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--manifest", default="reference")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"best of {args.repeat}")
    best: dict[str, tuple[float, float, dict]] = {}
    base = Path(tempfile.mkdtemp(prefix="obsa-suites-"))
    for i in range(args.repeat):
        for suite in ("pytest", "both", "gherkin"):
            measured = run(args.manifest, suite, base / f"{suite}-{i}")
            if suite not in best or measured[0] < best[suite][0]:
                best[suite] = measured
    anchor_wall, anchor_cpu, _ = best["pytest"]
    for suite in ("pytest", "gherkin", "both"):
        wall, cpu, report = best[suite]
        judged = sum(1 for r in report["results"] if r["case"])
        print(f"  --suite {suite:<8} wall {wall:5.2f} s ({wall / anchor_wall:4.2f}×)  "
              f"CPU {cpu:5.2f} s ({cpu / anchor_cpu:4.2f}×)  {judged} judged results, "
              f"outcome {report['outcome']}")
    ratio = best["both"][0] / anchor_wall
    print(f"both suites / pytest alone: {ratio:.2f}× wall — {ratio / TARGET:.2f} of the "
          f"{TARGET}× target")


if __name__ == "__main__":
    main()
