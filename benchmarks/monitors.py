"""Cost of the always-on monitors, not a test.

    .venv/bin/python benchmarks/monitors.py

Runs the reference safety core (in its child process, as certification does) for 20 s of
simulated time with a latched over-voltage, once with the standard trace channels only and
once with the monitors' extra channels, then checks the monitors on the trace. Prints the
wall time of each and the monitors' share of a test case: recording (extra channels) and
checking (after the test case), as ratios to the loop without them.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from conformance.bench import Offset
from conformance.harness.context import Harness, standard_channels
from conformance.harness.loop import ClosedLoop
from conformance.harness.monitors import Watch, violations
from conformance.manifest import safety_core_manifest_path
from conformance.session import Certification

SIMULATED_S = 20.0


def _loop(h: Harness, watch: Watch | None) -> ClosedLoop:
    s = h.session
    bench = s.bench_factory(seed=1)
    for comp in s.components:
        s.adapter.configure(comp, h.params(comp))
        s.adapter.reset(comp)
    channels = standard_channels() + (watch.channels() if watch else [])
    loop = ClosedLoop(h.spec, bench, s.adapter, s.components, s.dimensions, channels)
    bench.inject(Offset(signal="cell_voltage_V", index=0, start_s=1.0, value=1.0))
    return loop


def main() -> None:
    with tempfile.TemporaryDirectory() as out:
        cert = Certification.prepare(safety_core_manifest_path(), None, Path(out))
        assert cert.session is not None
        h = Harness(cert.session, "benchmark", [])
        start = time.perf_counter()
        _loop(h, None).run(SIMULATED_S)
        plain = time.perf_counter() - start
        watch = Watch(h.spec, cert.session.components)
        start = time.perf_counter()
        loop = _loop(h, watch)
        loop.run(SIMULATED_S)
        watched = time.perf_counter() - start
        start = time.perf_counter()
        found = violations(h, loop, watch)
        check = time.perf_counter() - start
        cert.close()
    steps = round(SIMULATED_S / 0.01)
    print(f"{steps} steps of the reference safety core: {plain:.2f} s without monitors, "
          f"{watched:.2f} s recording for them (×{watched / plain:.2f}), checking "
          f"{check * 1000:.0f} ms (×{check / plain:.3f} of the loop); "
          f"{len(found)} violation(s)")


if __name__ == "__main__":
    main()
