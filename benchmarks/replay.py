"""Replaying a test vector to an isolated estimator, not a test.

    .venv/bin/python benchmarks/replay.py [--steps N] [--repeat R]

The state-estimation test cases replay vectors open loop (conformance/harness/replay.py):
tens of thousands of steps of one component, none depending on an earlier output. This
prints the µs per step of the reference SoH estimator (96 cells, a cycle vector) in the
same run

* in process (the component called directly by the bench: the floor),
* isolated, one call at a time (a request, then its reply: the round trip each step),
* isolated, pipelined (``Adapter.step_series``: requests written ahead of the replies),

and the ratio of each isolated way to the in-process one. Medians of ``--repeat`` runs;
nothing is asserted.
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


def per_step_us(h: Harness, t: np.ndarray, inputs: list[dict[str, Any]],
                pipelined: bool) -> float:
    adapter = h.session.adapter
    adapter.reset(COMPONENT)
    start = time.perf_counter()
    if pipelined:
        adapter.step_series(COMPONENT, t, inputs)
    else:
        for ti, values in zip(t, inputs, strict=True):
            adapter.step(COMPONENT, float(ti), values)
    return (time.perf_counter() - start) / len(t) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"{COMPONENT}, vector {VECTOR}, {args.steps} steps, median of {args.repeat}")
    results: dict[str, float] = {}
    for in_process in (True, False):
        cert, h = _prepared(in_process)
        try:
            t, inputs = _series(h, args.steps)
            ways = ((False, "in process"),) if in_process else \
                ((False, "isolated, one call at a time"), (True, "isolated, pipelined"))
            for pipelined, name in ways:
                results[name] = float(np.median([per_step_us(h, t, inputs, pipelined)
                                                 for _ in range(args.repeat)]))
        finally:
            assert cert.adapter is not None
            cert.adapter.close()
    floor = results["in process"]
    for name, us in results.items():
        print(f"{name:32s} {us:8.1f} µs/step  {us / floor:5.2f}× the in-process time")


if __name__ == "__main__":
    main()
