"""The cell monitor's test cases have teeth and are fair: each faulty cell monitor of
``CMU_CATALOGUE`` fails exactly the requirements it breaks, and each correct one made
differently from the reference (``CMU_VARIANTS``: other packs, a noisier front end, a
scanning front end) passes everything it is judged on. The certifications run in the
catalogue's background worker (:data:`.catalogue_runs.CELL_MONITOR`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from conformance.bench import (
    Bench,
    BenchConfig,
    FaultError,
    OpenSenseWire,
    OpenSensor,
    ShortedSensor,
)
from conformance.bench.faults import FRONT_END_SIGNALS
from conformance.spec import load_spec

from .catalogue_runs import CELL_MONITOR
from .cmu_faults import CMU_CATALOGUE, CMU_VARIANTS
from .correct_modules import Variant
from .estimation_runs import faulty_report, report_of
from .modules import Faulty
from .reports import judged, not_passed, why_not_passed

#: its tests run on the worker of this group (tests/conftest.py)
WORKER_GROUP = "catalogue"
PROFILE = ("OBSA-MEAS-001", "OBSA-MEAS-002", "OBSA-MEAS-003", "OBSA-MEAS-004",
           "OBSA-MEAS-005")


def needed(item: pytest.Item) -> set[str]:
    """The runs a test reads (:meth:`.catalogue_runs.Catalogue.needed`)."""
    return CELL_MONITOR.needed(item)


def test_front_end_ranges_are_the_dictionarys() -> None:
    """The rails of the bench's open and shorted sensors are the ends of the plant signals'
    ranges in the data dictionary."""
    spec = load_spec()
    for name, (low, high) in FRONT_END_SIGNALS.items():
        rng = spec.signals[name].range
        assert rng is not None and (rng.min, rng.max) == (low, high), name


def test_front_end_faults_act_on_the_input_pins_only() -> None:
    """An open sense wire makes the cells beside it undefined, an open or shorted sensor sits
    at a rail of its range; truth() stays the truth."""
    bench = Bench(BenchConfig(n_cells=4, n_temp_sensors=2))
    bench.inject(OpenSenseWire(signal="true_cell_voltage_V", index=4))  # above the last cell
    bench.inject(OpenSenseWire(signal="true_cell_voltage_V", index=1))  # between cells 1 and 2
    bench.inject(ShortedSensor(signal="true_cell_temperature_degC", index=1))
    seen = bench.plant_inputs()
    assert np.isnan(seen["true_cell_voltage_V"]).tolist() == [True, True, False, True]
    assert seen["true_cell_temperature_degC"][1] == FRONT_END_SIGNALS[
        "true_cell_temperature_degC"][1]
    assert np.isfinite(bench.truth()["true_cell_voltage_V"]).all()
    bench.clear_faults()
    assert np.isfinite(bench.plant_inputs()["true_cell_voltage_V"]).all()


@pytest.mark.parametrize(("make", "expected"), [
    (lambda: OpenSenseWire(signal="true_cell_voltage_V", index=5), "index: expected 0 … 4"),
    (lambda: OpenSensor(signal="true_cell_temperature_degC", index=2), "expected 0 … 1"),
    (lambda: OpenSensor(signal="cell_temperature_degC", index=0),
     "expected signal 'true_cell_temperature_degC'"),
    (lambda: OpenSenseWire(signal="true_cell_voltage_V"), "index: expected an integer ≥ 0"),
], ids=["wire_beyond_the_string", "sensor_beyond_the_pack", "measured_signal", "no_index"])
def test_a_bad_front_end_fault_is_refused_by_name(make: Callable[[], Any],
                                                   expected: str) -> None:
    bench = Bench(BenchConfig(n_cells=4, n_temp_sensors=2))
    with pytest.raises(FaultError) as err:
        bench.inject(make())
    assert expected in str(err.value)


@pytest.mark.slow
def test_the_reference_cell_monitor_is_certified(runs: dict[str, Any]) -> None:
    report = report_of(runs, CELL_MONITOR.reference_run())
    assert judged(report) == set(PROFILE)
    assert not_passed(report) == set(), why_not_passed(report)


@pytest.mark.slow
@pytest.mark.parametrize("faulty", CMU_CATALOGUE, ids=lambda f: f.name)
def test_a_faulty_cell_monitor_fails_what_it_breaks(runs: dict[str, Any], faulty: Faulty
                                                    ) -> None:
    failed = not_passed(faulty_report(runs, CELL_MONITOR.faulty_run(faulty), faulty,
                                      CMU_CATALOGUE))
    assert faulty.breaks <= failed <= faulty.breaks | faulty.may_break


@pytest.mark.slow
@pytest.mark.parametrize("variant", CMU_VARIANTS, ids=lambda v: v.name)
def test_a_correct_cell_monitor_is_certified(runs: dict[str, Any], variant: Variant) -> None:
    report = report_of(runs, CELL_MONITOR.correct_run(variant.name))
    assert judged(report) == set(PROFILE)
    assert not_passed(report) == set(), f"{variant.why}\n{why_not_passed(report)}"
