"""What one bench step costs in the module's process: the safety core as FMUs against the
same components as Python classes, not a test.

    .venv/bin/python -m examples.fmu_safety_core.build examples/fmu_safety_core/build
    .venv/bin/python benchmarks/fmu_step.py

Steps the three components 1 000 times (96 cells; cell voltages change every 10th step,
the current every step), in this process, without the wire: the Python classes called
directly (what the ``python`` transport's server does), the FMUs through the FMU server's
component (:class:`conformance.adapters.fmu_serve.FmuComponent`: FMPy, pythonfmu, the same
reference code inside). Prints the best of five rounds in µs per bench step and the ratio.
The wire round trip, the same for both, comes on top.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from conformance.adapters import adapter_settings
from conformance.adapters.fmu import fmu_path, plan
from conformance.adapters.fmu_serve import FmuComponent
from conformance.harness.loop import default_value
from conformance.manifest import load_manifest
from conformance.spec import load_spec
from reference_impl.functions.contactors import ContactorManager
from reference_impl.functions.safety import SafetySupervisor
from reference_impl.services.diagnostics import Diagnostics

MANIFEST = Path(__file__).resolve().parents[1] / "examples" / "fmu_safety_core" / "manifest.yaml"
STEPS, ROUNDS = 1000, 5


def main() -> None:
    spec = load_spec()
    manifest, issues = load_manifest(MANIFEST, spec)
    if manifest is None or issues:
        raise SystemExit("build the example's FMUs first (see the docstring): "
                         + "; ".join(map(str, issues)))
    dims = manifest.dimensions(spec)
    settings = adapter_settings(manifest)
    names = manifest.claimed_components(spec)
    unpack = Path(tempfile.mkdtemp(prefix="obsa-bench-fmu-"))
    fmus = {c: FmuComponent(c, {"path": str(fmu_path(settings, c)), **plan(spec, c, dims)},
                            unpack) for c in names}
    classes = {"safety_supervisor": SafetySupervisor(), "contactor_manager": ContactorManager(),
               "diagnostics": Diagnostics()}
    for c in names:
        fmus[c].configure(manifest.effective_parameters(spec, c))
        classes[c].configure(manifest.effective_parameters(spec, c))
    inputs = {c: [p.signal for p in spec.interfaces[c].inputs] for c in names}

    def run(components: dict) -> float:
        for c in names:
            components[c].reset()
        pool = {k: default_value(s, dims) for k, s in spec.signals.items()}
        pool.update(pack_voltage_V=355.2, insulation_resistance_ohm=1e7)
        rng = np.random.default_rng(1)
        start = time.perf_counter()
        for k in range(STEPS):
            if k % 10 == 0:
                cells = 3.7 + rng.normal(0.0, 0.002, dims["cell"])
                cells.flags.writeable = False
                pool["cell_voltage_V"] = cells
            pool["pack_current_A"] = float(rng.normal(0.0, 1.0))
            pool["cell_monitor_age_s"] = (k % 10) * 0.01
            for c in names:
                pool.update(components[c].step(k * 0.01, {x: pool[x] for x in inputs[c]}))
        return (time.perf_counter() - start) / STEPS

    best = {"python classes": float("inf"), "FMUs": float("inf")}
    for _ in range(ROUNDS):
        best["python classes"] = min(best["python classes"], run(classes))
        best["FMUs"] = min(best["FMUs"], run(fmus))
    for label, seconds in best.items():
        print(f"{label:>15}: {seconds * 1e6:7.0f} µs per bench step")
    print(f"{'ratio':>15}: {best['FMUs'] / best['python classes']:7.1f}")


if __name__ == "__main__":
    main()
