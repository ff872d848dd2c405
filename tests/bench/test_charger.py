"""The bench's CC-CV charger (conformance/bench/charger.py): it follows the requests with
its lag, never above its rating or the voltage request, and refuses what it cannot serve."""

from __future__ import annotations

import math

import pytest

from conformance.bench import Bench, BenchConfig
from conformance.bench.charger import Charger, ChargerError


def _settle(charger: Charger, v_req: float, i_req: float, v_term: float, seconds: float,
            dt: float = 0.1) -> float:
    out = 0.0
    for _ in range(round(seconds / dt)):
        out = charger.update(dt, v_req, i_req, v_term)
    return out


def test_constant_current_follows_the_request_with_its_lag() -> None:
    c = Charger(current_max_A=50.0, voltage_max_V=500.0, lag_s=0.5)
    first = c.update(0.1, 400.0, 10.0, 350.0)
    assert first == pytest.approx(10.0 * (1.0 - math.exp(-0.2)))
    assert _settle(c, 400.0, 10.0, 350.0, 10.0) == pytest.approx(10.0, rel=1e-6)


def test_the_rating_limits_the_current() -> None:
    c = Charger(current_max_A=5.0, voltage_max_V=500.0, lag_s=0.0)
    assert c.update(0.1, 400.0, 80.0, 350.0) == 5.0
    assert not c.refused


def test_constant_voltage_reduces_the_current_at_the_voltage_request() -> None:
    c = Charger(current_max_A=50.0, voltage_max_V=500.0, lag_s=0.0, cv_gain_A_per_V=2.0)
    _settle(c, 400.0, 20.0, 390.0, 2.0)
    assert c.current_A == 20.0
    # terminals 1 V above the request: 2 A less per step
    assert c.update(0.1, 400.0, 20.0, 401.0) == pytest.approx(18.0)
    assert _settle(c, 400.0, 20.0, 405.0, 5.0) == 0.0


@pytest.mark.parametrize(("v_req", "i_req"), [(600.0, 10.0), (400.0, -1.0), (-1.0, 10.0),
                                              (math.nan, 10.0), (400.0, math.inf)])
def test_an_out_of_range_request_is_refused(v_req: float, i_req: float) -> None:
    c = Charger(current_max_A=50.0, voltage_max_V=500.0, lag_s=0.0)
    c.update(0.1, 400.0, 10.0, 350.0)
    assert c.update(0.1, v_req, i_req, 350.0) == 0.0
    assert c.refused and c.refusals == 1
    assert c.update(0.1, 400.0, 10.0, 350.0) == 10.0
    assert not c.refused


def test_zero_requests_deliver_nothing_without_refusal() -> None:
    c = Charger(current_max_A=50.0, voltage_max_V=500.0, lag_s=0.0)
    assert c.update(0.1, 0.0, 0.0, 350.0) == 0.0
    assert c.update(0.1, 400.0, 0.0, 350.0) == 0.0
    assert not c.refused


def test_disconnected_delivers_nothing() -> None:
    c = Charger(current_max_A=50.0, voltage_max_V=500.0, lag_s=0.0, connected=False)
    assert c.update(0.1, 400.0, 10.0, 350.0) == 0.0


@pytest.mark.parametrize("kwargs", [{"current_max_A": 0.0}, {"voltage_max_V": math.nan},
                                    {"lag_s": -1.0}, {"cv_gain_A_per_V": 0.0}])
def test_a_bad_rating_is_a_clear_error(kwargs: dict[str, float]) -> None:
    args: dict[str, float] = {"current_max_A": 10.0, "voltage_max_V": 100.0} | kwargs
    with pytest.raises(ChargerError, match=next(iter(kwargs))):
        Charger(**args)


class _Loop:
    """What Charger.drive uses of a closed loop."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.pool: dict[str, object] = {"charge_voltage_request_V": 0.0,
                                        "charge_current_request_A": 0.0,
                                        "charger_connected": False}


def test_drive_charges_the_pack_through_the_closed_path() -> None:
    bench = Bench(BenchConfig(n_cells=4, n_temp_sensors=1, dt_s=0.1, capacity_Ah=5.0))
    loop = _Loop(bench)
    charger = Charger(current_max_A=20.0, voltage_max_V=30.0, lag_s=0.0)
    loop.pool.update(charge_voltage_request_V=16.8, charge_current_request_A=2.5)
    charger.drive(loop)
    assert loop.pool["charger_connected"] is True
    assert bench.hv.current_A == 0.0  # the HV path is open
    bench.apply({"main_negative_close_cmd": True, "main_positive_close_cmd": True})
    bench.run(0.5)
    charger.drive(loop)
    assert bench.hv.current_A == pytest.approx(2.5)
    soc = bench.cell_soc().mean()
    bench.run(10.0)
    assert bench.cell_soc().mean() == pytest.approx(soc + 2.5 * 10.0 / (5.0 * 3600.0), rel=0.02)
    charger.connected = False
    charger.drive(loop)
    assert bench.hv.current_A == 0.0 and loop.pool["charger_connected"] is False
