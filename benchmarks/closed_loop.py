"""Closed-loop cost per step: the bench plant alone, with a null module and with the
reference safety core in the loop, isolated and in process, measured in the same run.

Prints the cost of one 10 ms step (and the real-time factor, simulated seconds per second
it gives) of the loop the suite runs — the three safety-core components, reply validation
and the suite's trace recording — for:

- the plant alone (the same load profile, measurements, commands, advance: no module, no
  recording);
- a null module (benchmarks/null_module.py: fixed valid replies), in process and isolated:
  the bench's own overhead; its in-process speed against the plant alone has a target
  (≥ 70 %);
- the reference safety core, isolated (how a certification runs it: its own process, one
  batched JSON-RPC round trip per step; target ≥ 150×) beside in process (debugging
  mode); and in process at 100 times the cells (target ≥ 300×).

How it measures, since the CPU speed of a shared machine drifts by nearly 2× from one
minute to the next: the runs are alternated. A round sets every configuration up anew and
runs them in turns — each runs 1/20 of its simulated seconds per turn, in an order that is
reversed at every turn (plant, null, …, null, plant, plant, null, …) — so that the runs of
one round share the same seconds of the machine; ``--repeat`` rounds. A ratio is the
median of its per-round ratios, an absolute figure the median of its rounds. In-process
runs are timed in CPU time of this process (``time.process_time``: what a neighbour's
load adds only by slowing the shared core); isolated runs, whose cost is split between
two processes and their pipe, in wall time, their ratios to the wall time of the same
round's in-process runs. The load average is printed before and after. It also prints
the bare round trip of a pipe to a child process: the floor of an isolated step. Not a
test: nothing is asserted.

    .venv/bin/python benchmarks/closed_loop.py [--seconds 20] [--cells 96] [--repeat 5]
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
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

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
CHUNKS = 20  # turns per round: each configuration runs 1/20 of its seconds per turn
CLOSED = {"main_positive_close_cmd": True, "main_negative_close_cmd": True,
          "precharge_close_cmd": False}


class Run(NamedTuple):
    """What one configuration took in one round: simulated seconds, steps, CPU seconds of
    this process, wall seconds."""

    seconds: float
    steps: int
    cpu_s: float
    wall_s: float


#: a configuration, set up: advance(seconds) runs it on for that long, returns its steps
Advance = Callable[[float], int]


def _profile(t0: float) -> Callable[[Any], None]:
    def every(loop: Any) -> None:
        loop.bench.set_load_current(40.0 * np.sin(0.3 * (loop.t - t0)))
    return every


def loop_run(cert: Certification, cells: int) -> Advance:
    """The suite's closed loop (trace on) under a varying load, HV path closed."""
    assert cert.session is not None
    h = Harness(cert.session, "benchmark", [])
    loop = h.run(n_cells=cells, n_temp_sensors=max(1, cells // 4))
    loop.set("close_request", True)
    loop.run(2.0)
    every = _profile(loop.t)

    def advance(seconds: float) -> int:
        loop.run(seconds, every=every)
        return loop.bench.clock.steps_for(seconds)

    return advance


def plant_run(cert: Certification, cells: int) -> Advance:
    """The same plant under the same load, HV path closed, alone."""
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

    def advance(seconds: float) -> int:
        steps = bench.clock.steps_for(seconds)
        for _ in range(steps):
            view.t = bench.t
            every(view)
            bench.measurements()
            bench.apply(CLOSED)
            bench.advance()
        return steps

    return advance


def run_round(setups: dict[str, tuple[Callable[[], Advance], float]], chunks: int,
              reverse: bool) -> dict[str, Run]:
    """One round: each configuration (name → how to set it up, its simulated seconds) set
    up anew, then all run in turns of 1/``chunks`` of their seconds, in the order given
    and back (the last turn's order reversed), each turn timed."""
    advance = {name: setup() for name, (setup, _) in setups.items()}
    took = {name: [0.0, 0.0, 0] for name in setups}  # CPU s, wall s, steps
    order = list(setups)[::-1] if reverse else list(setups)
    for _ in range(chunks):
        for name in order:
            wall, cpu = time.perf_counter(), time.process_time()
            steps = advance[name](setups[name][1] / chunks)
            t = took[name]
            t[0] += time.process_time() - cpu
            t[1] += time.perf_counter() - wall
            t[2] += steps
        order.reverse()
    return {name: Run(setups[name][1], int(t[2]), t[0], t[1]) for name, t in took.items()}


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


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="simulated seconds per run")
    ap.add_argument("--cells", type=int, default=96)
    ap.add_argument("--repeat", type=int, default=5, help="rounds of alternated runs")
    args = ap.parse_args()
    cells, many = args.cells, args.cells * 100
    print(f"load average (1, 5, 15 min) {_load()} on {os.cpu_count()} cores; "
          f"pipe round trip to a child that sleeps: {pipe_round_trip_us():.0f} µs")

    null = _null_manifest(Path(tempfile.mkdtemp()))
    certs = {"null in process": _open(null, True),
             "reference in process": _open(safety_core_manifest_path(), True),
             "null isolated": _open(null, False),
             "reference isolated": _open(safety_core_manifest_path(), False)}
    plant_cert = certs["reference in process"]
    s, s_many = args.seconds, args.seconds / 10
    # name → how to set it up, its simulated seconds per round
    setups: dict[str, tuple[Callable[[], Advance], float]] = {
        "plant": (partial(plant_run, plant_cert, cells), s),
        **{name: (partial(loop_run, cert, cells), s) for name, cert in certs.items()},
        "plant many": (partial(plant_run, plant_cert, many), s_many),
        "reference many": (partial(loop_run, certs["reference in process"], many), s_many),
    }
    rounds: list[dict[str, Run]] = []
    try:
        for r in range(args.repeat):
            rounds.append(run_round(setups, CHUNKS, reverse=r % 2 == 1))
    finally:
        for cert in certs.values():
            cert.close()

    def cpu_us(name: str) -> float:
        return float(np.median([r[name].cpu_s / r[name].steps * 1e6 for r in rounds]))

    def wall_us(name: str) -> float:
        return float(np.median([r[name].wall_s / r[name].steps * 1e6 for r in rounds]))

    def ratio(num: str, den: str, clock: str = "cpu_s") -> float:
        """The median over the rounds of the speed of ``num`` over that of ``den``."""
        return float(np.median([getattr(r[den], clock) / getattr(r[num], clock)
                                for r in rounds]))

    def line(label: str, us: float, step_s: float = 0.01) -> str:
        return f"  {label:<40} {us:8.1f} µs {step_s / (us * 1e-6):7.0f}×"

    dt = 0.01
    share = ratio("null in process", "plant")
    print(f"per {dt * 1e3:.0f} ms step, median of {args.repeat} alternated rounds (trace "
          "recorded in loops); in process: CPU time of this process, isolated: wall time")
    print(line(f"plant alone, {cells} cells", cpu_us("plant")))
    print(line(f"null module, in process, {cells} cells", cpu_us("null in process"))
          + f"  = {share:.2f} of the plant alone — {share / TARGET_NULL_SHARE:.2f} of the "
          f"{TARGET_NULL_SHARE:.0%} target")
    ref_share = ratio("reference in process", "plant")
    print(line(f"reference, in process, {cells} cells", cpu_us("reference in process"))
          + f"  = {ref_share:.2f} of the plant alone")
    iso_null = ratio("null isolated", "plant", "wall_s")
    print(line(f"null module, isolated, {cells} cells (wall)", wall_us("null isolated"))
          + f"  = {iso_null:.2f} of the plant alone (wall)")
    iso = ratio("reference isolated", "reference in process", "wall_s")
    rtf_iso = float(np.median([r["reference isolated"].seconds / r["reference isolated"].wall_s
                               for r in rounds]))
    print(line(f"reference, isolated, {cells} cells (wall)", wall_us("reference isolated"))
          + f"  = {iso:.2f} of in process (wall) — {rtf_iso / TARGET_ISOLATED:.2f} of the "
          f"{TARGET_ISOLATED:.0f}× target")
    print(line(f"plant alone, {many} cells", cpu_us("plant many")))
    many_share = ratio("reference many", "plant many")
    rtf_many = float(np.median([r["reference many"].seconds / r["reference many"].cpu_s
                                for r in rounds]))
    print(line(f"reference, in process, {many} cells", cpu_us("reference many"))
          + f"  = {many_share:.2f} of the plant alone — {rtf_many / TARGET_MANY_CELLS:.2f} "
          f"of the {TARGET_MANY_CELLS:.0f}× target")
    print("per-round null/plant ratios: "
          + " ".join(f"{r['plant'].cpu_s / r['null in process'].cpu_s:.2f}" for r in rounds))
    print(f"load average (1, 5, 15 min) after: {_load()}")


if __name__ == "__main__":
    main()
