"""ADC faults: a drifted gain or offset of the conversion at the input pins of a block under
test (``Bench.plant_inputs()``): on one cell voltage or every one (the cell monitor's common
reference) and on the float pins, growing by its rate from start_s, inside its time window,
never on ``truth()`` or on what the bench's own sensors deliver."""

from __future__ import annotations

import math

import numpy as np
import pytest

from conformance.bench import Bench
from conformance.bench.faults import (
    ADC_SIGNALS,
    KINDS,
    PIN_SIGNALS,
    AdcGain,
    AdcOffset,
    FaultError,
    fault_of,
)

from .bench_helpers import close_path

FLOAT_PINS = [s for s, vtype in PIN_SIGNALS.items() if vtype == "float"]


def _bench() -> Bench:
    bench = Bench(n_cells=6, n_temp_sensors=2)
    close_path(bench)
    bench.set_load_current(-20.0)
    bench.set_insulation(3.0e5)
    bench.advance()
    return bench


def test_the_converted_signals_are_the_cell_voltages_and_the_float_pins() -> None:
    assert ADC_SIGNALS == ("true_cell_voltage_V", *FLOAT_PINS)


@pytest.mark.parametrize("signal", FLOAT_PINS)
def test_a_drifting_gain_on_a_pin(signal: str) -> None:
    bench, twin = _bench(), _bench()
    t0 = bench.t + 0.05
    bench.inject(AdcGain(signal=signal, factor=1.02, rate=0.1, start_s=t0, end_s=t0 + 0.5))
    seen = 0
    for _ in range(80):
        bench.advance()
        twin.advance()
        t = bench.t
        truth = bench.truth(arrays=False)[signal]
        pin = bench.plant_inputs()[signal]
        if t0 - 1e-9 <= t < t0 + 0.5 - 1e-9:
            assert pin == pytest.approx(truth * (1.02 + 0.1 * (t - t0)), rel=1e-12)
            seen += 1
        else:
            assert pin == truth
        assert truth == twin.truth(arrays=False)[signal]
        name = signal.removeprefix("true_")  # the bench's own sensor: no fault
        assert bench.measurements()[name] == twin.measurements()[name]
    assert seen == 50


@pytest.mark.parametrize("signal", FLOAT_PINS)
def test_a_drifting_offset_on_a_pin(signal: str) -> None:
    bench = _bench()
    t0 = bench.t
    bench.inject(AdcOffset(signal=signal, value=-1.5, rate=4.0, start_s=t0))
    bench.run(0.3)
    truth = bench.truth(arrays=False)[signal]
    assert bench.plant_inputs()[signal] == pytest.approx(
        truth - 1.5 + 4.0 * (bench.t - t0), rel=1e-12)


def test_a_gain_of_one_cell_changes_that_cell_alone() -> None:
    bench = _bench()
    bench.inject(AdcGain(signal="true_cell_voltage_V", index=5, factor=0.9, start_s=bench.t))
    truth = np.asarray(bench.truth()["true_cell_voltage_V"])
    pins = np.asarray(bench.plant_inputs()["true_cell_voltage_V"])
    assert pins[:5] == pytest.approx(truth[:5], rel=1e-15)
    assert pins[5] == pytest.approx(0.9 * truth[5], rel=1e-12)
    # the truth and the bench's own cell monitor stay as they were
    assert np.asarray(bench.truth()["true_cell_voltage_V"]) == pytest.approx(truth, rel=1e-15)
    assert not np.any(np.isclose(bench.measurements()["cell_voltage_V"], 0.9 * truth[5],
                                 atol=1e-4))


def test_a_common_reference_drift_scales_every_cell_and_their_sum() -> None:
    bench = _bench()
    t0 = bench.t
    bench.inject(AdcGain(signal="true_cell_voltage_V", rate=-0.01, start_s=t0))
    bench.run(2.0)
    gain = 1.0 - 0.01 * (bench.t - t0)
    truth = np.asarray(bench.truth()["true_cell_voltage_V"])
    pins = np.asarray(bench.plant_inputs()["true_cell_voltage_V"])
    assert pins == pytest.approx(gain * truth, rel=1e-12)
    assert float(np.sum(pins)) == pytest.approx(gain * float(np.sum(truth)), rel=1e-12)


def test_an_offset_of_every_cell_adds_to_the_other_front_end_faults() -> None:
    bench = _bench()
    bench.inject(fault_of("open_sense_wire", signal="true_cell_voltage_V", index=0,
                          start_s=bench.t))
    bench.inject(AdcOffset(signal="true_cell_voltage_V", value=0.01, start_s=bench.t))
    truth = np.asarray(bench.truth()["true_cell_voltage_V"])
    pins = np.asarray(bench.plant_inputs()["true_cell_voltage_V"])
    assert math.isnan(pins[0])  # an open wire stays no reading
    assert pins[1:] == pytest.approx(truth[1:] + 0.01, rel=1e-12)


def test_adc_faults_by_name() -> None:
    assert KINDS["adc_gain"] is AdcGain
    assert KINDS["adc_offset"] is AdcOffset
    f = fault_of("adc_offset", signal="true_pack_voltage_V", rate=0.3)
    assert isinstance(f, AdcOffset) and f.parameters == {"rate": 0.3, "value": 0.0}


def test_an_index_beyond_the_pack_is_refused() -> None:
    bench = Bench(n_cells=6, n_temp_sensors=2)
    with pytest.raises(FaultError, match=r"index: expected 0 … 5, found 6"):
        bench.inject(AdcGain(signal="true_cell_voltage_V", index=6, factor=1.1))


@pytest.mark.parametrize(("kind", "fields", "words"), [
    ("adc_gain", {"signal": "true_cell_temperature_degC", "factor": 1.1},
     "expected a signal among true_cell_voltage_V, true_pack_current_A"),
    ("adc_gain", {"signal": "pack_voltage_V", "factor": 1.1}, "expected a signal among"),
    ("adc_offset", {"signal": "true_main_positive_closed", "value": 1.0},
     "expected a signal among"),
    ("adc_offset", {"signal": "true_pack_voltage_V", "value": 1.0, "index": 0},
     r"index is only for true_cell_voltage_V"),
    ("adc_gain", {"signal": "true_cell_voltage_V", "factor": 1.1, "index": -1},
     r"index: expected None \(every cell\) or an integer ≥ 0, found -1"),
    ("adc_gain", {"signal": "true_cell_voltage_V", "factor": 1.1, "index": True},
     r"index: expected None"),
    ("adc_gain", {"signal": "true_pack_voltage_V"}, "a gain of 1 that does not drift"),
    ("adc_gain", {"signal": "true_pack_voltage_V", "factor": 0.0}, r"factor: expected a gain > 0"),
    ("adc_gain", {"signal": "true_pack_voltage_V", "factor": math.nan},
     "needs a finite number factor"),
    ("adc_gain", {"signal": "true_pack_voltage_V", "rate": math.inf},
     "needs a finite number rate"),
    ("adc_offset", {"signal": "true_link_voltage_V"}, "an offset of 0 that does not drift"),
    ("adc_offset", {"signal": "true_link_voltage_V", "value": "1"}, "needs a finite number value"),
    ("adc_offset", {"signal": "true_link_voltage_V", "rate": True}, "needs a finite number rate"),
])
def test_bad_adc_faults_are_refused(kind: str, fields: dict[str, object], words: str) -> None:
    with pytest.raises(FaultError, match=words):
        fault_of(kind, **fields)


def test_a_refusal_names_the_fault() -> None:
    with pytest.raises(FaultError, match=r"^Fault\(signal='true_pack_voltage_V', "
                                         r"kind='adc_gain'\): factor"):
        AdcGain(signal="true_pack_voltage_V", factor=-1.0)
