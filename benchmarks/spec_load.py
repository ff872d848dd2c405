"""How long loading and checking the whole spec takes, against the 0.5 s target.

Every ``obsa`` command and every test session starts by loading the spec, so its cost is
paid on each run. Four numbers are measured:

* import: importing :mod:`conformance.spec` (pydantic models, jsonschema, yaml);
* cold: the first :func:`check_spec` call in a process (meta-schemas read and compiled);
* warm: the median of N further calls (``check_spec`` re-reads every file each time; the
  cached :func:`load_spec` would cost nothing after the first call);
* process: a whole fresh interpreter that imports and checks the spec, median of a few runs.

Run: ``python benchmarks/spec_load.py [-n 20] [--processes 5] [SPEC_DIR]``. Not a test.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

TARGET_S = 0.5
ROOT = Path(__file__).resolve().parents[1]


def _in_process(spec_dir: str | None, n: int) -> tuple[float, float, list[float], int]:
    t0 = time.perf_counter()
    from conformance.spec import check_spec

    import_s = time.perf_counter() - t0
    root = Path(spec_dir) if spec_dir else None
    t0 = time.perf_counter()
    spec, issues = check_spec(root)
    cold_s = time.perf_counter() - t0
    warm = []
    for _ in range(n):
        t0 = time.perf_counter()
        check_spec(root)
        warm.append(time.perf_counter() - t0)
    size = len(spec.requirements) if spec is not None else -1
    if issues:
        print(f"note: the spec has {len(issues)} issue(s); timings still cover every check")
    return import_s, cold_s, warm, size


def _fresh_process(spec_dir: str | None, runs: int) -> list[float]:
    code = ("import sys\nfrom conformance.spec import check_spec\n"
            "check_spec(*sys.argv[1:2] or [None])")
    args = [sys.executable, "-c", code, *([spec_dir] if spec_dir else [])]
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(args, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec_dir", nargs="?", default=None)
    parser.add_argument("-n", type=int, default=20, help="warm calls (default 20)")
    parser.add_argument("--processes", type=int, default=5, help="fresh processes (default 5)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    import_s, cold_s, warm, n_req = _in_process(args.spec_dir, args.n)
    fresh = _fresh_process(args.spec_dir, args.processes) if args.processes > 0 else []
    warm_s = statistics.median(warm)
    print(f"spec: {n_req} requirements; target {TARGET_S:.3f} s")
    print(f"import conformance.spec      {import_s:8.4f} s")
    print(f"check_spec, cold (1st call)  {cold_s:8.4f} s   {cold_s / TARGET_S:6.1%} of target")
    print(f"check_spec, warm median n={args.n:<3}{warm_s:8.4f} s   "
          f"{warm_s / TARGET_S:6.1%} of target   (min {min(warm):.4f}, max {max(warm):.4f})")
    if fresh:
        fresh_s = statistics.median(fresh)
        print(f"fresh process, median of {len(fresh)}  {fresh_s:8.4f} s   "
              f"{fresh_s / TARGET_S:6.1%} of target   (interpreter start + import + check)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
