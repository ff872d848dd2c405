"""Replaying a test vector to an isolated estimator, not a test.

    .venv/bin/python benchmarks/replay.py [--steps N] [--repeat R]

The state-estimation test cases replay vectors open loop (conformance/harness/replay.py):
tens of thousands of steps of one component, none depending on an earlier output. This
prints the µs per step of the reference SoH estimator (96 cells, a cycle vector) in the
same run

* in process (the component called directly by the bench: the floor),
* isolated, one call at a time (a request, then its reply: the round trip each step),
* isolated, pipelined (``Adapter.step_series``: requests written ahead of the replies),
* isolated, many steps per message (``Adapter.step_outputs`` over ``obsa.step_series``,
  what a replay uses with a module that offers it), the numbers as text and as packed
  arrays (what the bench sends a module whose hello says ``"packed": true``), and packed
  with each message sent only once the reply before it is checked (``overlap_series``
  off: the bench's work on a reply then waits for the module's on the next message),

the ratio of each isolated way to the in-process one, and the ratio of the many-steps
messages to the one-call-per-step ways and to the messages one after the other. Beside
the wall time per step, the CPU time per step of both processes (the bench's and the
module's): on a machine that others load, the CPU time is the steadier measure. Medians of
``--repeat`` runs; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from conformance.harness.context import Harness
from conformance.harness.replay import configuration, inputs_of, step_times
from conformance.session import Certification
from conformance.vectors import discovery

MANIFEST = Path(__file__).resolve().parents[1] / "reference_impl" / "manifest_full_bms.yaml"
COMPONENT = "soh_estimator"
VECTOR = "nmc-aged-cycles-25c"


def _prepared(in_process: bool) -> tuple[Certification, Harness]:
    cert = Certification.prepare(MANIFEST, None, Path(tempfile.mkdtemp()),
                                 in_process=in_process)
    if cert.refused or cert.adapter is None or cert.session is None:
        raise SystemExit("\n".join(cert.issues) or str(cert.adapter_error))
    return cert, Harness(cert.session, "benchmark", [])


def _series(h: Harness, steps: int) -> tuple[np.ndarray, list[dict[str, Any]]]:
    vector = discovery.vector(VECTOR)
    t, rows = step_times(vector["t_s"], h.step_period(COMPONENT), vector.info.dt_s)
    t, rows = t[:steps], rows[:steps]
    source = inputs_of(h, vector, rows)
    names = [p.signal for p in h.spec.interfaces[COMPONENT].inputs]
    adapter = h.session.adapter
    adapter.configure(COMPONENT, configuration(h, COMPONENT, vector))
    return t, [{n: source[n][i] for n in names} for i in range(len(rows))]


def _module_cpu_s(adapter: Any) -> float:
    """The CPU time the module's process has used so far (0 in process: counted as the
    bench's)."""
    proc = getattr(adapter, "proc", None)
    if proc is None:
        return 0.0
    fields = Path(f"/proc/{proc.pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def per_step_us(h: Harness, t: np.ndarray, inputs: list[dict[str, Any]],
                way: str) -> tuple[float, float]:
    """The wall time and the CPU time of both processes per step (µs) of one replay."""
    adapter = h.session.adapter
    adapter.reset(COMPONENT)
    messages = way in ("columns", "text", "one after the other")
    columns = {n: np.array([row[n] for row in inputs]) for n in inputs[0]} if messages else {}
    packed = getattr(adapter, "_packed", False)
    cpu = time.process_time() + _module_cpu_s(adapter)
    start = time.perf_counter()
    if messages:
        adapter._packed = packed and way != "text"
        adapter.overlap_series = way != "one after the other"
        try:
            adapter.step_outputs(COMPONENT, t, columns)
        finally:
            adapter._packed = packed
            adapter.overlap_series = True
    elif way == "pipelined":
        adapter.step_series(COMPONENT, t, inputs)
    else:
        for ti, values in zip(t, inputs, strict=True):
            adapter.step(COMPONENT, float(ti), values)
    wall = time.perf_counter() - start
    cpu = time.process_time() + _module_cpu_s(adapter) - cpu
    return wall / len(t) * 1e6, cpu / len(t) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"{COMPONENT}, vector {VECTOR}, {args.steps} steps, median of {args.repeat}")
    results: dict[str, tuple[float, float]] = {}
    for in_process in (True, False):
        cert, h = _prepared(in_process)
        try:
            t, inputs = _series(h, args.steps)
            ways = (("one", "in process"),) if in_process else \
                (("one", "isolated, one call at a time"), ("pipelined", "isolated, pipelined"),
                 ("text", "isolated, many steps/message, text"),
                 ("one after the other", "isolated, many steps/message, not overlapped"),
                 ("columns", "isolated, many steps/message"))
            for way, name in ways:
                runs = [per_step_us(h, t, inputs, way) for _ in range(args.repeat)]
                results[name] = (float(np.median([w for w, _ in runs])),
                                 float(np.median([c for _, c in runs])))
        finally:
            assert cert.adapter is not None
            cert.adapter.close()
    floor = results["in process"][0]
    print(f"{'':46s} {'wall':>8s}            {'CPU, both processes':>20s}")
    for name, (us, cpu) in results.items():
        print(f"{name:46s} {us:8.1f} µs/step  {cpu:8.1f} µs/step   "
              f"wall {us / floor:5.2f}× the in-process time")
    batched = results["isolated, many steps/message"]
    for way in ("one call at a time", "pipelined", "many steps/message, text",
                "many steps/message, not overlapped"):
        wall, cpu = results[f"isolated, {way}"]
        print(f"many steps/message ÷ {way:34s} wall {batched[0] / wall:5.2f}   "
              f"CPU {batched[1] / cpu:5.2f}")


if __name__ == "__main__":
    main()
