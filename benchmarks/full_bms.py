"""Closed-loop speed of the whole reference BMS: the fifteen blocks of the full_bms profile
with the bench plant, beside the plant alone, measured in the same run.

Prints the real-time factor (simulated seconds per wall second) at 10 ms steps of:

- the plant alone (the same pack, the HV path closed, the same load profile);
- the reference full BMS as one node (reference_impl/nodes/node.py: every block stepped
  in the profile's order at its own period, fed the plant's true quantities — the
  arrangement of tests/reference/test_reference_full_bms.py), the issue's target ≥ 100×;
- the suite's closed loop with every component of reference_impl/manifest_full_bms.yaml
  in process (reply validation, the trace recording and the always-on monitors included).

Every ratio is of numbers measured in this run (medians of ``--repeat`` runs). Not a test:
these machines are noisy, so nothing is asserted.

    .venv/bin/python benchmarks/full_bms.py [--seconds 20] [--cells 96] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from conformance.bench import Bench, BenchConfig
from conformance.harness.context import Harness
from conformance.session import Certification
from reference_impl.nodes.node import Node

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "reference_impl" / "manifest_full_bms.yaml"
TARGET = 100.0  # the full reference BMS, 96 cells, 10 ms steps
TRUE = ("true_pack_current_A", "true_pack_voltage_V", "true_link_voltage_V",
        "true_insulation_resistance_ohm", "true_main_positive_closed",
        "true_main_negative_closed", "true_precharge_closed")


def _declared() -> dict[str, dict[str, Any]]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))["configuration"]
    return {component: dict(values) for component, values in data.items()}


def _bench(cells: int) -> Bench:
    return Bench(BenchConfig(n_cells=cells, n_temp_sensors=max(1, cells // 4), capacity_Ah=5.144,
                             initial_soc=0.6, soc_spread=0.02, seed=11))


def _load(t: float) -> float:
    return 2.0 * np.sin(0.3 * t)


def plant_speed(cells: int, seconds: float) -> float:
    bench = _bench(cells)
    closed = {"main_positive_close_cmd": True, "main_negative_close_cmd": True,
              "precharge_close_cmd": False}
    bench.apply({**closed, "main_positive_close_cmd": False, "precharge_close_cmd": True})
    bench.run(1.0)
    bench.apply(closed)
    bench.run(1.0)
    start = time.perf_counter()
    for _ in range(bench.clock.steps_for(seconds)):
        bench.set_load_current(_load(bench.t))
        bench.measurements()
        bench.plant_inputs()
        bench.apply(closed)
        bench.advance()
    return seconds / (time.perf_counter() - start)


def node_speed(cells: int, seconds: float) -> float:
    """The reference node fed the plant's pins and true quantities, its commands applied."""
    bench = _bench(cells)
    node = Node("full_bms", {"cell": cells, "temperature_sensor": max(1, cells // 4)})
    node.configure(_declared())
    fixed = {"close_request": True, "fault_reset_request": False, "charger_connected": False,
             "can_fault_flags": 0}

    def step() -> None:
        truth = bench.truth(arrays=False)
        signals = node.step(bench.t, {**bench.plant_inputs(), **{k: truth[k] for k in TRUE},
                                      **fixed})
        bench.apply(signals)
        bench.advance()

    for _ in range(bench.clock.steps_for(2.0)):  # the HV path closes through the precharge
        step()
    start = time.perf_counter()
    for _ in range(bench.clock.steps_for(seconds)):
        bench.set_load_current(_load(bench.t))
        step()
    return seconds / (time.perf_counter() - start)


def suite_speed(cert: Certification, cells: int, seconds: float) -> float:
    """The suite's closed loop with every component of the manifest, in process."""
    assert cert.session is not None
    h = Harness(cert.session, "benchmark", [])
    loop = h.run(components=list(cert.session.components), n_cells=cells,
                 n_temp_sensors=max(1, cells // 4))
    loop.set("close_request", True)
    loop.run(2.0)

    def every(loop: Any) -> None:
        loop.bench.set_load_current(_load(loop.t))

    start = time.perf_counter()
    loop.run(seconds, every=every)
    return seconds / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=20.0, help="simulated seconds per run")
    ap.add_argument("--cells", type=int, default=96)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cells = args.cells
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    cert = Certification.prepare(str(MANIFEST), None, Path(tempfile.mkdtemp()),
                                 in_process=True)
    if cert.refused or cert.adapter is None:
        raise SystemExit("\n".join(cert.issues) or str(cert.adapter_error))
    try:
        plant = float(np.median([plant_speed(cells, args.seconds) for _ in range(args.repeat)]))
        node = float(np.median([node_speed(cells, args.seconds) for _ in range(args.repeat)]))
        suite = float(np.median([suite_speed(cert, cells, args.seconds)
                                 for _ in range(args.repeat)]))
    finally:
        cert.close()
    print(f"real-time factor at dt 10 ms, {cells} cells, median of {args.repeat}:")
    print(f"  plant alone:                              {plant:7.0f}×")
    print(f"  reference full BMS as one node:           {node:7.0f}×  = {node / plant:.2f} of "
          f"the plant alone — {node / TARGET:.2f} of the {TARGET:.0f}× target")
    print(f"  suite's loop, every component in process: {suite:7.0f}×  = {suite / plant:.2f} of "
          f"the plant alone, {suite / node:.2f} of the node")


if __name__ == "__main__":
    main()
