"""Wall time of certifying the reference implementation, against its targets, and what the
report costs.

Runs ``obsa certify reference`` in a fresh process (as a user would), isolated (how a
certification runs), with the test cases on every core (``--jobs auto``), once
with report.html and once with ``--no-html``, then once with ``--no-html --jobs 1`` (one
process: the anchor of what sharing the test cases gains), one after the other in this
run, and prints:

- each run's wall time, the ``duration_s`` its report says (from the start of the process
  to the report written) and the ratio to the target (:data:`TARGET_S`, the whole reference
  BMS in under a minute);
- the wall time per requirement judged by a test case (the requirements with at least one
  test-case verdict, every verdict counted once per requirement) against
  :data:`TARGET_PER_REQUIREMENT_S`;
- the ratio of the two wall times (what report.html costs the user), and of the run on
  every core to the run in one process;
- the time to build the report files from the run's results (report.json, junit.xml,
  report.html, best of 3, in this process) and its share of the wall time with HTML;
- the sizes of report.json, report.html and junit.xml.

``--repeat N`` runs the pair N times, alternating, and keeps each one's fastest run (a
shared machine's load comes and goes); ``--in-process`` adds a run in debugging mode;
``--png`` a run that also exports the evidence plots as PNG files. Not a test: the numbers
depend on the machine and its load.

    .venv/bin/python benchmarks/certify_reference.py [--repeat N] [--in-process] [--png]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 60.0
"""Certifying the whole reference BMS (every profile it claims), s."""
TARGET_PER_REQUIREMENT_S = 0.08
"""Wall time per requirement judged by a test case, s."""
REPORT_FILES = ("report.json", "report.html", "junit.xml")


def run(out: Path, *extra: str) -> tuple[int, float, float | None]:
    """One ``obsa certify reference`` into ``out``: exit status, wall time, duration_s."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "conformance", "certify", "reference",
                           "--out", str(out), "--no-progress", *extra],
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    report = out / "report.json"
    duration = json.loads(report.read_text())["duration_s"] if report.exists() else None
    if proc.returncode not in (0, 1):
        print(proc.stdout[-2000:], proc.stderr[-2000:])
    return proc.returncode, wall, duration


def build_times(report_json: Path, repeat: int = 3) -> dict[str, float]:
    """Seconds to render each report file from the results (best of ``repeat``)."""
    from conformance.report import read_json, render_html, render_json, render_junit

    report = read_json(report_json)
    best: dict[str, float] = {}
    for name, render in (("report.json", render_json), ("junit.xml", render_junit),
                         ("report.html", render_html)):
        for _ in range(repeat):
            start = time.perf_counter()
            render(report)
            took = time.perf_counter() - start
            best[name] = min(best.get(name, took), took)
    return best


def judged_requirements(report_json: Path) -> int:
    """How many requirements the run judged by a test case."""
    if not report_json.exists():
        return 0
    results = json.loads(report_json.read_text())["results"]
    return len({r["requirement"] for r in results if r.get("case")})


def _line(label: str, code: int, wall: float, duration: float | None, judged: int) -> str:
    said = f"{duration:.1f} s" if duration is not None else "no report"
    line = (f"obsa certify reference, {label}: exit {code}, {wall:.1f} s wall (report "
            f"duration_s {said}) — {wall / TARGET_S:.2f} of the {TARGET_S:.0f} s target")
    if judged:
        per = wall / judged
        line += (f"; {judged} requirements judged by test, {per:.3f} s each — "
                 f"{per / TARGET_PER_REQUIREMENT_S:.2f} of the {TARGET_PER_REQUIREMENT_S} s "
                 "target")
    return line


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run the pair N times and keep the fastest of each")
    parser.add_argument("--in-process", action="store_true", help="add a run in process")
    parser.add_argument("--png", action="store_true", help="add a run with --png")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    tmp = Path(tempfile.mkdtemp(prefix="obsa-bench-"))
    try:
        html_out, plain_out, one_out = tmp / "html", tmp / "no-html", tmp / "one-process"
        best: dict[str, tuple[int, float, float | None]] = {}
        for _ in range(args.repeat):
            for label, out, extra in (("html", html_out, ("--jobs", "auto")),
                                      ("plain", plain_out, ("--no-html", "--jobs", "auto")),
                                      ("one", one_out, ("--no-html", "--jobs", "1"))):
                result = run(out, *extra)
                if label not in best or result[1] < best[label][1]:
                    best[label] = result
        code, wall_html, duration = best["html"]
        print(_line("with HTML     ", code, wall_html, duration,
                    judged_requirements(html_out / "report.json")))
        code, wall_plain, duration = best["plain"]
        print(_line("--no-html     ", code, wall_plain, duration,
                    judged_requirements(plain_out / "report.json")))
        code, wall_one, duration = best["one"]
        print(_line("--jobs 1      ", code, wall_one, duration,
                    judged_requirements(one_out / "report.json")))
        fastest = f" (fastest of {args.repeat} each)" if args.repeat > 1 else ""
        print(f"with HTML / --no-html: {wall_html / wall_plain:.2f}{fastest}")
        print(f"--no-html on {_cores()} cores / in one process: {wall_plain / wall_one:.2f}"
              f"{fastest}")
        if (html_out / "report.json").exists():
            took = build_times(html_out / "report.json")
            total = sum(took.values())
            parts = ", ".join(f"{name} {s:.2f} s" for name, s in took.items())
            print(f"building the report from the results: {total:.2f} s ({parts}), "
                  f"{100 * total / wall_html:.1f} % of the wall time with HTML")
            sizes = ", ".join(f"{name} {(html_out / name).stat().st_size / 1e6:.2f} MB"
                              for name in REPORT_FILES if (html_out / name).exists())
            print(f"sizes: {sizes}")
        if args.png:
            code, wall, duration = run(tmp / "png", "--png")
            count = len(list((tmp / "png" / "evidence-png").glob("*.png")))
            print(_line("--png         ", code, wall, duration,
                        judged_requirements(tmp / "png" / "report.json"))
                  + f"; {count} PNG files")
        if args.in_process:
            code, wall, duration = run(tmp / "in-process", "--in-process")
            print(_line("in process    ", code, wall, duration,
                        judged_requirements(tmp / "in-process" / "report.json")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
