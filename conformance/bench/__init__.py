"""The conformance bench plant: pack, HV circuit, sensors, fault injection and clock that a
module under test runs against in closed loop.

    from conformance.bench import Bench, BenchConfig, Offset
    bench = Bench(BenchConfig(n_cells=96, seed=0))
    m = bench.measurements(); bench.apply(commands); bench.advance()
"""

from .bench import COMMANDS, MEASURED, TRUTH, Bench
from .chemistry import CHEMISTRIES, Chemistry, VoltageLimits, bench_model
from .clock import Clock
from .config import BenchConfig, BenchConfigError
from .faults import (
    HV_FAULTS,
    KINDS,
    MEASURED_SIGNALS,
    Dropout,
    FailToClose,
    Fault,
    FaultError,
    FrontEndFault,
    Gain,
    Noise,
    Offset,
    OpenResistor,
    OpenSenseWire,
    OpenSensor,
    OpenWire,
    Ramp,
    ShortedLink,
    ShortedSensor,
    Stuck,
    Welded,
    fault_of,
)
from .hv import MainPathClosing

__all__ = [
    "CHEMISTRIES", "COMMANDS", "HV_FAULTS", "KINDS", "MEASURED", "MEASURED_SIGNALS", "TRUTH",
    "Bench", "BenchConfig", "BenchConfigError", "Chemistry", "Clock", "Dropout", "FailToClose",
    "Fault", "FaultError", "FrontEndFault", "Gain", "MainPathClosing", "Noise", "Offset",
    "OpenResistor", "OpenSenseWire", "OpenSensor", "OpenWire", "Ramp", "ShortedLink",
    "ShortedSensor", "Stuck", "VoltageLimits", "Welded", "bench_model",
    "fault_of",
]
