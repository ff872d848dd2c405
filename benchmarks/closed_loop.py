"""Closed-loop speed: the bench plant alone, with a null module and with the reference
safety core in the loop, isolated and in process, measured in the same run.

Prints the real-time factor (simulated seconds per wall second) of the loop the suite
runs — 10 ms step, the three safety-core components, reply validation and the suite's
trace recording — for:

- the plant alone (measurements, commands, advance: no module, no recording);
- a null module (benchmarks/null_module.py: fixed valid replies), in process and isolated:
  the bench's own overhead; its in-process speed against the plant alone has a target
  (≥ 70 %);
- the reference safety core, isolated (how a certification runs it: its own process, one
  batched JSON-RPC round trip per step; target ≥ 150×) beside in process (debugging
  mode); and in process at 100 times the cells (target ≥ 300×).

Every ratio is of numbers measured in this run (the median of ``--repeat`` runs each).
It also prints the bare round trip of a pipe to a child process: the floor of an
isolated step. Not a test: these machines are noisy, so nothing is asserted.

    .venv/bin/python benchmarks/closed_loop.py [--seconds 20] [--cells 96] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import select
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from conformance.harness.context import Harness
from conformance.manifest import safety_core_manifest_path
from conformance.session import Certification

sys.path.insert(0, str(Path(__file__).resolve().parent))  # null_module, here and in the child
import null_module  # noqa: E402

TARGET_NULL_SHARE = 0.70  # null module in process / plant alone
TARGET_ISOLATED = 150.0  # reference, isolated, 96 cells
TARGET_MANY_CELLS = 300.0  # reference, in process, 100 × 96 cells
CLOSED = {"main_positive_close_cmd": True, "main_negative_close_cmd": True,
          "precharge_close_cmd": False}


def _profile(t0: float) -> Callable[[Any], None]:
    def every(loop: Any) -> None:
        loop.bench.set_load_current(40.0 * np.sin(0.3 * (loop.t - t0)))
    return every


def loop_speed(cert: Certification, seconds: float, cells: int) -> float:
    """Real-time factor of the suite's closed loop (trace on) under a varying load."""
    assert cert.session is not None
    h = Harness(cert.session, "benchmark", [])
    loop = h.run(n_cells=cells, n_temp_sensors=max(1, cells // 4))
    loop.set("close_request", True)
    loop.run(2.0)
    every = _profile(loop.t)
    start = time.perf_counter()
    loop.run(seconds, every=every)
    return seconds / (time.perf_counter() - start)


def plant_speed(cert: Certification, seconds: float, cells: int) -> float:
    """Real-time factor of the same plant under the same load, HV path closed, alone."""
    assert cert.session is not None
    bench = cert.session.bench_factory(n_cells=cells, n_temp_sensors=max(1, cells // 4))
    bench.apply({**CLOSED, "main_positive_close_cmd": False, "precharge_close_cmd": True})
    bench.run(1.0)
    bench.apply(CLOSED)
    bench.run(1.0)

    class View:  # what the load profile reads of a loop
        t = 0.0

    view = View()
    view.bench = bench  # type: ignore[attr-defined]
    every = _profile(bench.t)
    start = time.perf_counter()
    for _ in range(bench.clock.steps_for(seconds)):
        view.t = bench.t
        every(view)
        bench.measurements()
        bench.apply(CLOSED)
        bench.advance()
    return seconds / (time.perf_counter() - start)


def pipe_round_trip_us(n: int = 5000) -> float:
    """The mean time of a one-line echo through a child process that sleeps in read."""
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


def _null_manifest(directory: Path) -> Path:
    data = yaml.safe_load(safety_core_manifest_path().read_text(encoding="utf-8"))
    data["module"]["name"] = "null module (benchmark)"
    data["adapter"]["components"] = dict(null_module.COMPONENTS)
    path = directory / "null-manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _open(manifest: str | Path, in_process: bool) -> Certification:
    cert = Certification.prepare(manifest, None, Path(tempfile.mkdtemp()),
                                 in_process=in_process)
    if cert.refused or cert.adapter is None:
        raise SystemExit("\n".join(cert.issues) or str(cert.adapter_error))
    return cert


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="simulated seconds per run")
    ap.add_argument("--cells", type=int, default=96)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cells, many = args.cells, args.cells * 100
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"pipe round trip to a child that sleeps: {pipe_round_trip_us():.0f} µs")

    def median(fn: Callable[..., float], *a: Any) -> float:
        return float(np.median([fn(*a) for _ in range(args.repeat)]))

    null = _null_manifest(Path(tempfile.mkdtemp()))
    speeds: dict[str, float] = {}
    for in_process in (True, False):
        mode = "in process" if in_process else "isolated"
        for name, manifest in (("null", null), ("reference", safety_core_manifest_path())):
            cert = _open(manifest, in_process)
            try:
                if name == "null" and in_process:
                    speeds["plant"] = median(plant_speed, cert, args.seconds, cells)
                    speeds["plant many"] = median(plant_speed, cert, args.seconds / 10, many)
                speeds[f"{name} {mode}"] = median(loop_speed, cert, args.seconds, cells)
                if name == "reference" and in_process:
                    speeds["reference many"] = median(loop_speed, cert, args.seconds / 10, many)
            finally:
                cert.close()
    s = speeds
    print(f"real-time factor at dt 10 ms, median of {args.repeat} (trace recorded in loops):")
    print(f"  plant alone, {cells} cells:                    {s['plant']:7.0f}×")
    print(f"  null module, in process, {cells} cells:        {s['null in process']:7.0f}×"
          f"  = {s['null in process'] / s['plant']:.2f} of the plant alone — "
          f"{s['null in process'] / s['plant'] / TARGET_NULL_SHARE:.2f} of the "
          f"{TARGET_NULL_SHARE:.0%} target")
    print(f"  null module, isolated, {cells} cells:          {s['null isolated']:7.0f}×"
          f"  = {s['null isolated'] / s['plant']:.2f} of the plant alone")
    print(f"  reference, in process, {cells} cells:          {s['reference in process']:7.0f}×")
    print(f"  reference, isolated, {cells} cells:            {s['reference isolated']:7.0f}×"
          f"  = {s['reference isolated'] / s['reference in process']:.2f} of in process — "
          f"{s['reference isolated'] / TARGET_ISOLATED:.2f} of the {TARGET_ISOLATED:.0f}× "
          "target")
    print(f"  plant alone, {many} cells:                  {s['plant many']:7.0f}×")
    print(f"  reference, in process, {many} cells:        {s['reference many']:7.0f}×"
          f"  = {s['reference many'] / s['plant many']:.2f} of the plant alone — "
          f"{s['reference many'] / TARGET_MANY_CELLS:.2f} of the {TARGET_MANY_CELLS:.0f}× "
          "target")


if __name__ == "__main__":
    main()
