"""Pin faults: the front-end faults of the current sensor, isolation monitor and contactor
driver under test act on their scalar plant inputs (``Bench.plant_inputs()``), inside their
time window, never on ``truth()`` or on what the bench's own sensors deliver."""

from __future__ import annotations

import math

import pytest

from conformance.bench import Bench
from conformance.bench.faults import (
    KINDS,
    PIN_SIGNALS,
    FaultError,
    NoReading,
    StuckAuxContact,
    fault_of,
)

from .bench_helpers import CLOSED, close_path

FLOAT_PINS = [s for s, vtype in PIN_SIGNALS.items() if vtype == "float"]
BOOL_PINS = [s for s, vtype in PIN_SIGNALS.items() if vtype == "bool"]


def test_plant_inputs_carry_every_true_scalar() -> None:
    bench = Bench(n_cells=4, n_temp_sensors=2)
    close_path(bench)
    bench.set_load_current(-12.5)
    bench.advance()
    pins, truth = bench.plant_inputs(), bench.truth(arrays=False)
    for name in PIN_SIGNALS:
        assert pins[name] == truth[name]
    assert pins["true_pack_current_A"] == pytest.approx(-12.5)
    assert pins["true_main_positive_closed"] is True


@pytest.mark.parametrize("signal", FLOAT_PINS)
def test_no_reading_is_nan_inside_its_window_only(signal: str) -> None:
    bench = Bench(n_cells=4, n_temp_sensors=2)
    close_path(bench)
    bench.set_load_current(5.0)
    bench.set_insulation(2.0e5)
    t0 = bench.t + 0.05
    bench.inject(NoReading(signal=signal, start_s=t0, end_s=t0 + 0.1))
    seen = []
    for _ in range(25):
        bench.advance()
        pins = bench.plant_inputs()
        seen.append((bench.t, pins[signal]))
        assert not math.isnan(bench.truth(arrays=False)[signal])
        assert not math.isnan(float(bench.measurements()[signal.removeprefix("true_")]))
    nan_at = [t for t, v in seen if math.isnan(v)]
    assert nan_at, "no step read NaN"
    assert min(nan_at) == pytest.approx(t0, abs=1e-9)
    assert max(nan_at) == pytest.approx(t0 + 0.09, abs=1e-9)
    assert all(not math.isnan(v) for t, v in seen if t < t0 - 1e-9 or t > t0 + 0.095)


@pytest.mark.parametrize("signal", BOOL_PINS)
def test_stuck_aux_contact_reads_its_value(signal: str) -> None:
    bench = Bench(n_cells=4, n_temp_sensors=2)
    bench.inject(StuckAuxContact(signal=signal, value=True, start_s=0.0))
    bench.advance()
    assert bench.plant_inputs()[signal] is True
    assert bench.truth(arrays=False)[signal] is False
    bench.clear_faults()
    assert bench.plant_inputs()[signal] is False


def test_stuck_open_aux_contact_on_a_closed_path() -> None:
    bench = Bench(n_cells=4, n_temp_sensors=2)
    bench.inject(StuckAuxContact(signal="true_main_positive_closed", value=False, start_s=0.0))
    close_path(bench)
    bench.apply(CLOSED)
    bench.run(0.1)
    assert bench.truth(arrays=False)["true_main_positive_closed"] is True
    assert bench.plant_inputs()["true_main_positive_closed"] is False
    assert bench.measurements()["main_positive_closed_fb"] is True  # the bench's own driver


def test_pin_faults_by_name() -> None:
    assert KINDS["no_reading"] is NoReading
    assert KINDS["stuck_aux_contact"] is StuckAuxContact
    f = fault_of("stuck_aux_contact", signal="true_precharge_closed", value=False)
    assert isinstance(f, StuckAuxContact) and f.parameters == {"value": False}


@pytest.mark.parametrize(("kind", "fields", "words"), [
    ("no_reading", {"signal": "true_main_positive_closed"}, "expected a signal among"),
    ("no_reading", {"signal": "pack_current_A"}, "expected a signal among"),
    ("no_reading", {"signal": "true_pack_current_A", "index": 0}, "index is only"),
    ("stuck_aux_contact", {"signal": "true_pack_current_A", "value": True},
     "expected a signal among"),
    ("stuck_aux_contact", {"signal": "true_precharge_closed"}, "value: expected True or False"),
    ("stuck_aux_contact", {"signal": "true_precharge_closed", "value": 1},
     "value: expected True or False"),
])
def test_bad_pin_faults_are_refused(kind: str, fields: dict[str, object], words: str) -> None:
    with pytest.raises(FaultError, match=words):
        fault_of(kind, **fields)
