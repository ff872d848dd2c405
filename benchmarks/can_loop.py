"""How fast the bench steps a CAN node in simulated time, beside its anchors; not a test.

    .venv/bin/python benchmarks/can_loop.py [--steps 3000] [--repeat 3]

Runs the rig of ``reference_impl/manifest_can_bmu.yaml``
(:class:`~conformance.adapters.can_rig.CanRig`: the reference BMU in its child process,
stepped over the JSON pipe of :mod:`conformance.adapters.can_serve`, 96 cells, the emulated
CMUs, vehicle controller and charger) for ``--steps`` bench steps of 10 ms under a load of
0.2 C, as OBSA-CAN-012 runs it, and prints per step, in the same run:

- the BMU's rig: wall time, the bench process's CPU time and the node process's CPU time
  (read from ``/proc``), and the real-time factor;
- the same rig with a null node (:class:`NullNode`: reads every frame, sends none, drives
  no pin): the bench's emulation, the wire and the host without a BMU;
- the bench plant alone stepping the same pack (measurements, truth, advance): the floor
  of a bench step.

Each figure is the median of ``--repeat`` runs. These machines are shared and noisy: the
ratios between figures of one run say more than the figures; nothing is asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import can
import numpy as np

from conformance.adapters.can import CanAdapter
from conformance.adapters.can_rig import CanRig
from conformance.session import Certification

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "reference_impl" / "manifest_can_bmu.yaml"
LOAD_C = 0.2
#: steps before the timed ones: the node's start and its first frames
WARM_UP_STEPS = 50
#: the manifest's node class (set once the manifest is loaded)
_REFERENCE: list[str] = []


class NullNode:
    """A CAN node that reads every frame its buses hold and does nothing else."""

    def __init__(self, buses: Mapping[str, can.BusABC]) -> None:
        self.buses = dict(buses)

    @classmethod
    def from_pins(cls, buses: Mapping[str, can.BusABC], pins: Any,
                  setup: Mapping[str, Any]) -> NullNode:
        return cls(buses)

    def configure(self, parameters: Mapping[str, Mapping[str, Any]]) -> None:
        pass

    def step(self, t: float) -> None:
        for bus in self.buses.values():
            while bus.recv(timeout=0.0) is not None:
                pass


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rig(cert: Certification, factory: str | None) -> CanRig:
    assert cert.session is not None and cert.spec is not None
    adapter = cert.adapter
    assert isinstance(adapter, CanAdapter)
    adapter.can = dataclasses.replace(adapter.can, factory=factory or _REFERENCE[0])
    capacity = float(cert.manifest.pack.capacity_Ah)  # type: ignore[union-attr]
    bench = cert.session.bench_factory(seed=1)
    rig = CanRig(adapter, cert.spec, bench, cert.manifest)
    rig.bench.set_load_current(-LOAD_C * capacity)
    return rig


def rig_per_step(cert: Certification, steps: int, factory: str | None = None
                 ) -> tuple[float, float, float]:
    """(wall, bench CPU, node CPU) µs per step of the rig (a fresh power-on)."""
    rig = _rig(cert, factory)
    for _ in range(WARM_UP_STEPS):
        rig.step()
    proc = rig.adapter.proc
    assert proc is not None
    node0, cpu0, wall0 = _cpu_s(proc.pid), time.process_time(), time.perf_counter()
    for _ in range(steps):
        rig.step()
    wall = time.perf_counter() - wall0
    cpu, node = time.process_time() - cpu0, _cpu_s(proc.pid) - node0
    return wall / steps * 1e6, cpu / steps * 1e6, node / steps * 1e6


def plant_per_step(cert: Certification, steps: int) -> float:
    """Wall µs per step of the same pack's plant alone: what the rig reads of it each step."""
    rig = _rig(cert, None)
    bench = rig.bench
    start = time.perf_counter()
    for _ in range(steps):
        bench.measurements()
        bench.truth(arrays=True)
        bench.truth(arrays=False)
        bench.cell_soc()
        bench.advance()
    return (time.perf_counter() - start) / steps * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=3000, help="timed bench steps per run")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    # the child process imports the null node from here
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).resolve().parent), os.environ.get("PYTHONPATH", "")])
    cert = Certification.prepare(MANIFEST, None, Path(tempfile.mkdtemp()))
    if cert.refused or not isinstance(cert.adapter, CanAdapter):
        raise SystemExit("\n".join(cert.issues) or str(cert.adapter_error))
    _REFERENCE.append(str(cert.adapter.can.factory))
    try:
        runs = {name: [rig_per_step(cert, args.steps, factory) for _ in range(args.repeat)]
                for name, factory in (("reference BMU", None),
                                      ("null node", "can_loop:NullNode"))}
        plant = float(np.median([plant_per_step(cert, args.steps)
                                 for _ in range(args.repeat)]))
    finally:
        cert.close()
    dt = 0.01
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
          f"{args.steps} steps of {dt * 1000:g} ms, median of {args.repeat}")
    print(f"{'':16s} {'wall µs':>9s} {'bench CPU':>10s} {'node CPU':>9s} {'real-time':>10s}")
    med = {name: np.median(np.asarray(r), axis=0) for name, r in runs.items()}
    for name, (wall, cpu, node) in med.items():
        print(f"{name:16s} {wall:9.0f} {cpu:10.0f} {node:9.0f} {dt * 1e6 / wall:9.1f}×")
    print(f"{'plant alone':16s} {plant:9.0f} {'':10s} {'':9s} {dt * 1e6 / plant:9.1f}×")
    ref, null = med["reference BMU"], med["null node"]
    print(f"reference BMU against the null node: {ref[0] / null[0]:.2f}× the wall time, "
          f"{ref[2] / max(null[2], 1e-9):.2f}× the node CPU; against the plant alone: "
          f"{ref[0] / plant:.1f}× the wall time")


if __name__ == "__main__":
    sys.exit(main())
