"""The conformance bench plant: pack, HV circuit, sensors, fault injection and clock that a
module under test runs against in closed loop.

    from conformance.bench import Bench, BenchConfig, Fault
    bench = Bench(BenchConfig(n_cells=96, seed=0))
    m = bench.measurements(); bench.apply(commands); bench.advance()
"""

from .bench import COMMANDS, MEASURED, TRUTH, Bench
from .chemistry import CHEMISTRIES, Chemistry, VoltageLimits, bench_model
from .clock import Clock
from .config import BenchConfig, BenchConfigError
from .faults import HV_FAULTS, MEASURED_SIGNALS, Fault, FaultError
from .hv import MainPathClosing

__all__ = [
    "CHEMISTRIES", "COMMANDS", "HV_FAULTS", "MEASURED", "MEASURED_SIGNALS", "TRUTH", "Bench",
    "BenchConfig", "BenchConfigError", "Chemistry", "Clock", "Fault", "FaultError",
    "MainPathClosing", "VoltageLimits", "bench_model",
]
