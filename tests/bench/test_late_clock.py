"""A bench whose clock starts late behaves exactly as one that starts at 0, shifted in time;
and the faults that make invalid readings and the catalogue random scenarios draw from."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from conformance.bench import Bench, BenchConfig, FaultError, Stuck, fault_of
from conformance.bench.clock import Clock
from conformance.bench.config import BenchConfigError
from conformance.bench.faults import HV_FAULTS, MEASURED_SIGNALS, catalogue

from .bench_helpers import PRECHARGE

LATE = (65.0, float(2**24), 2**32 / 1000.0)


def test_clock_counts_steps_from_its_start() -> None:
    clock = Clock(0.01, start_s=65.53)
    assert clock.t == 65.53
    for _ in range(7):
        clock.tick()
    assert clock.t == 65.53 + 7 * 0.01 == clock.time_of(7)
    assert Clock(0.01).t == 0.0
    for bad in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="start_s"):
            Clock(0.01, start_s=bad)
    with pytest.raises(BenchConfigError, match="clock_start_s"):
        BenchConfig(clock_start_s=-0.5)


def _trace(start: float, faults: list[tuple[float, dict[str, Any]]],
           duration_s: float = 1.2) -> list[dict[str, Any]]:
    """Measurements of a bench started at ``start``, with faults placed relative to it."""
    bench = Bench(BenchConfig(seed=3, clock_start_s=start))
    for offset, kw in faults:
        bench.inject(fault_of(start_s=start + offset, **kw))
    bench.apply(PRECHARGE)
    out = []
    while bench.t < start + duration_s - 1e-9:
        out.append(bench.measurements())
        bench.advance()
    return out


@pytest.mark.parametrize("start", LATE)
def test_a_late_bench_delivers_what_an_early_one_does(start: float) -> None:
    """Sampling, ages and fault windows (cell monitor samples, the isolation monitor's
    cycle, per-step sensors) keep their timing relative to the clock's start."""
    faults: list[tuple[float, dict[str, Any]]] = [
              (0.35, dict(signal="cell_voltage_V", kind="offset", index=2, value=0.5,
                          end_s=None)),
              (0.52, dict(signal="insulation_resistance_ohm", kind="gain", factor=0.1)),
              (0.61, dict(signal="pack_current_A", kind="dropout"))]
    early, late = _trace(0.0, faults), _trace(start, faults)
    assert len(early) == len(late)
    for a, b in zip(early, late, strict=True):
        assert a.keys() == b.keys()
        for name in a:
            assert np.array_equal(np.asarray(a[name]), np.asarray(b[name])), name


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_float_signal_can_be_stuck_at_a_non_finite_reading(value: float) -> None:
    bench = Bench(BenchConfig(seed=1))
    bench.inject(Stuck(signal="link_voltage_V", value=value, start_s=0.0))
    bench.inject(Stuck(signal="cell_voltage_V", value=value, index=1,
                       start_s=0.0))
    m = bench.measurements()
    assert np.array_equal(m["link_voltage_V"], value, equal_nan=True)
    assert np.array_equal(m["cell_voltage_V"][1], value, equal_nan=True)
    assert np.isfinite(m["cell_voltage_V"][0])
    bad_faults: list[dict[str, Any]] = [
        dict(signal="link_voltage_V", kind="offset", value=value),
        dict(signal="main_positive_closed_fb", kind="stuck", value=value)]
    for bad in bad_faults:
        with pytest.raises(FaultError, match="value"):
            fault_of(**bad)


def test_catalogue_lists_every_injectable_fault_once() -> None:
    pairs = catalogue()
    assert len(set(pairs)) == len(pairs)
    assert {s for s, _ in pairs} == set(MEASURED_SIGNALS) | set(HV_FAULTS)
    for signal, kind in pairs:  # every pair is accepted (with its parameters)
        fault_of(kind, signal=signal, value=0.1 if kind == "offset" else None,
                 factor=1.1 if kind == "gain" else None, std=0.1 if kind == "noise" else None,
                 rate=0.1 if kind == "ramp" else None)
    assert ("cell_monitor_age_s", "dropout") not in pairs
    assert ("pack_voltage_V", "open_wire") not in pairs
