"""The bench delivers exactly the signals of the spec's hardware-abstraction interfaces,
within the dictionary's ranges, with the spec's default cycle times."""

import pytest

from conformance.bench import COMMANDS, MEASURED, TRUTH, Bench, BenchConfig
from conformance.bench import sensors as s
from conformance.spec import load_spec

HAL = ("cell_monitor", "current_sensor", "isolation_monitor", "contactor_driver")


@pytest.fixture(scope="module")
def spec():
    return load_spec()


def test_measured_and_truth_signals_match_the_hal_interfaces(spec) -> None:
    outputs = {p.signal for c in HAL for p in spec.interfaces[c].outputs}
    inputs = {p.signal for c in HAL for p in spec.interfaces[c].inputs}
    coil = {n for n in outputs if n.endswith("_coil_on")}  # the driver's, not the bench's
    assert set(MEASURED) == outputs - coil
    assert set(TRUTH) == {n for n in inputs if n.startswith("true_")}
    assert set(COMMANDS) == inputs - set(TRUTH)
    bench = Bench()
    assert set(bench.measurements()) == set(MEASURED)
    assert set(bench.truth()) == set(TRUTH)


def test_array_signals_have_the_dictionary_dimension(spec) -> None:
    cfg = BenchConfig(n_cells=12, n_temp_sensors=3)
    bench = Bench(cfg)
    sizes = {"cell": cfg.n_cells, "temperature_sensor": cfg.n_temp_sensors}
    for record in (bench.measurements(), bench.truth()):
        for name, value in record.items():
            dim = spec.signals[name].dimension
            assert (getattr(value, "shape", None) == (sizes[dim],)) if dim else not hasattr(
                value, "shape"), name


def test_sensor_ranges_lie_within_the_dictionary(spec) -> None:
    ranges = {"cell_voltage_V": s.CELL_VOLTAGE_RANGE_V,
              "cell_temperature_degC": s.CELL_TEMPERATURE_RANGE_DEGC,
              "pack_current_A": s.PACK_CURRENT_RANGE_A, "pack_voltage_V": s.HV_VOLTAGE_RANGE_V,
              "link_voltage_V": s.HV_VOLTAGE_RANGE_V,
              "insulation_resistance_ohm": s.INSULATION_RANGE_OHM}
    for name, (lo, hi) in ranges.items():
        r = spec.signals[name].range
        assert r.min <= lo and hi <= r.max, name
    r = spec.signals["cell_temperature_degC"].range
    assert r.min <= s.OPEN_WIRE_TEMPERATURE_DEGC <= r.max


def test_default_cycles_are_the_spec_defaults(spec) -> None:
    cfg = BenchConfig()
    cm = {p.name: p for p in spec.interfaces["cell_monitor"].parameters}
    assert cfg.cell_monitor_cycle_s == cm["measurement_cycle_s"].default
    assert cfg.insulation_monitor_cycle_s == spec.interfaces["isolation_monitor"].step_period_s
    assert cfg.dt_s == spec.interfaces["current_sensor"].step_period_s


def test_contactor_delays_fit_the_feedback_timeout(spec) -> None:
    cm = {p.name: p for p in spec.interfaces["contactor_manager"].parameters}
    cfg = BenchConfig()
    timeout = cm["contactor_feedback_timeout_s"].default
    assert cfg.contactor_close_delay_s < timeout and cfg.contactor_open_delay_s < timeout
