"""The bench's thermal actuators and surroundings: the coolant and the heaters follow the
module's cooling and heating requests (only with ``thermal_actuators``), each cell has its
own ambient along the string's gradient, and every case matches the lumped model's exact
solution T(t) = T_env + (T0 − T_env)·exp(−t·G/C)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from conformance.bench import Bench, BenchConfigError

#: a fast pack thermally (C = 100 J/K): the time constants are seconds, not hours
FAST: dict[str, Any] = dict(
    n_cells=4, n_temp_sensors=4, dt_s=0.01, cell_thermal_capacity_J_per_K=100.0,
    cell_heat_transfer_W_per_K=1.0, coolant_heat_transfer_W_per_K=9.0, heater_power_W=20.0,
    coolant_temperature_degC=10.0, ambient_degC=30.0, thermal_actuators=True)


def _expected(t0: float, env: float, g: float, seconds: float, c: float = 100.0) -> float:
    return env + (t0 - env) * math.exp(-seconds * g / c)


def test_cooling_pulls_every_cell_towards_the_coolant() -> None:
    bench = Bench(**FAST)
    bench.apply({"cooling_request": True, "heating_request": False})
    bench.run(10.0)
    # G = 1 + 9 W/K; T_env = (1·30 + 9·10) / 10 = 12 °C
    want = _expected(30.0, 12.0, 10.0, 10.0)
    np.testing.assert_allclose(bench.cell_temperatures_degC(), want, atol=1e-6)
    assert bench.cell_temperatures_degC().max() < 30.0 - 10.0


def test_heating_adds_its_power_to_every_cell() -> None:
    bench = Bench(**(FAST | {"ambient_degC": 0.0}))
    bench.apply({"cooling_request": False, "heating_request": True})
    bench.run(50.0)
    # G = 1 W/K; T_env = 0 + 20 W / 1 W/K = 20 °C
    np.testing.assert_allclose(bench.cell_temperatures_degC(),
                               _expected(0.0, 20.0, 1.0, 50.0), atol=1e-6)


def test_withdrawn_requests_leave_the_cells_to_the_ambient_again() -> None:
    bench = Bench(**FAST)
    bench.apply({"cooling_request": True, "heating_request": False})
    bench.run(5.0)
    cooled = float(bench.cell_temperatures_degC()[0])
    bench.apply({"cooling_request": False, "heating_request": False})
    bench.run(20.0)
    np.testing.assert_allclose(bench.cell_temperatures_degC(),
                               _expected(cooled, 30.0, 1.0, 20.0), atol=1e-6)


def test_both_requests_add_up() -> None:
    bench = Bench(**FAST)
    bench.apply({"cooling_request": True, "heating_request": True})
    bench.run(10.0)
    # T_env = (1·30 + 9·10 + 20) / 10 = 14 °C
    np.testing.assert_allclose(bench.cell_temperatures_degC(),
                               _expected(30.0, 14.0, 10.0, 10.0), atol=1e-6)


def test_without_the_actuators_the_requests_change_nothing() -> None:
    bench = Bench(**(FAST | {"thermal_actuators": False}))
    bench.apply({"cooling_request": True, "heating_request": True})
    bench.run(10.0)
    np.testing.assert_allclose(bench.cell_temperatures_degC(), 30.0, atol=1e-9)


def test_the_sensors_and_the_truth_see_the_cooling() -> None:
    bench = Bench(**FAST)
    bench.apply({"cooling_request": True})  # heating_request missing: it keeps its value
    bench.run(10.0)
    want = _expected(30.0, 12.0, 10.0, 10.0)
    np.testing.assert_allclose(bench.truth()["true_cell_temperature_degC"], want, atol=1e-6)
    measured = np.asarray(bench.measurements()["cell_temperature_degC"], dtype=float)
    assert np.all(np.abs(measured - want) <= bench.config.cell_temperature_accuracy_K)


def test_the_ambient_gradient_spreads_the_cells_along_the_string() -> None:
    bench = Bench(**(FAST | {"ambient_gradient_K": 6.0, "thermal_actuators": False}))
    np.testing.assert_allclose(bench.cell_temperatures_degC(), [30.0, 32.0, 34.0, 36.0])
    bench.set_ambient_temperature(20.0)
    bench.run(500.0)  # five time constants (C/G = 100 s)
    np.testing.assert_allclose(bench.cell_temperatures_degC(), [20.0, 22.0, 24.0, 26.0],
                               atol=0.1)


def test_a_request_changed_mid_run_integrates_exactly() -> None:
    """Switching syncs the lazy integration: the same history in one or many runs."""
    a, b = Bench(**FAST), Bench(**FAST)
    for request in (True, False, True):
        a.apply({"cooling_request": request, "heating_request": not request})
        a.run(3.0)
        b.apply({"cooling_request": request, "heating_request": not request})
        for _ in range(300):
            b.advance()
            b.truth()  # reading the truth never changes the simulation
    np.testing.assert_allclose(a.cell_temperatures_degC(), b.cell_temperatures_degC(),
                               atol=1e-9)


@pytest.mark.parametrize(("field", "value"), [("coolant_heat_transfer_W_per_K", 0.0),
                                              ("heater_power_W", -1.0),
                                              ("coolant_temperature_degC", math.nan),
                                              ("ambient_gradient_K", math.inf),
                                              ("thermal_actuators", "yes")])
def test_bad_actuator_settings_are_refused_with_their_name(field: str, value: Any) -> None:
    with pytest.raises(BenchConfigError, match=field):
        Bench(**(FAST | {field: value}))
