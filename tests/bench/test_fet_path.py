"""The switch-per-direction power path (BenchConfig.power_path = "fets")."""

from __future__ import annotations

import pytest

from conformance.bench import Bench, BenchConfig
from conformance.bench.config import BenchConfigError

BOTH = {"charge_fet_cmd": True, "discharge_fet_cmd": True}


def _bench() -> Bench:
    bench = Bench(BenchConfig(n_cells=4, n_temp_sensors=1, power_path="fets", dt_s=0.01))
    bench.apply(BOTH)
    bench.advance()
    return bench


@pytest.mark.parametrize("demand, charge_on, discharge_on, flows", [
    (20.0, True, True, True), (-20.0, True, True, True),
    (20.0, False, True, False), (-20.0, False, True, True),  # charge off: discharge flows
    (20.0, True, False, True), (-20.0, True, False, False),  # discharge off: charge flows
    (20.0, False, False, False), (-20.0, False, False, False),
])
def test_each_switch_blocks_one_direction(demand: float, charge_on: bool, discharge_on: bool,
                                          flows: bool) -> None:
    bench = _bench()
    bench.set_load_current(demand)
    bench.apply({"charge_fet_cmd": charge_on, "discharge_fet_cmd": discharge_on})
    assert bench.hv.current_A == demand  # a command acts at the next step
    bench.advance()
    assert bench.hv.charge_fet.closed is charge_on and bench.hv.discharge_fet.closed is discharge_on
    assert bench.hv.current_A == (demand if flows else 0.0)
    bench.advance()
    assert bench.measurements()["pack_current_A"] == pytest.approx(
        demand if flows else 0.0, abs=1.0)


def test_a_contactor_bench_ignores_switch_commands_and_vice_versa() -> None:
    fets = _bench()
    fets.apply({"main_positive_close_cmd": True, "main_negative_close_cmd": True})
    fets.apply({"charge_fet_cmd": False, "discharge_fet_cmd": False})
    fets.set_load_current(-10.0)
    fets.advance()
    assert fets.hv.current_A == 0.0 and not fets.hv.main_positive.closed
    contactors = Bench(BenchConfig(n_cells=4, n_temp_sensors=1))
    contactors.apply(BOTH)
    contactors.set_load_current(-10.0)
    contactors.run(0.1)
    assert contactors.hv.current_A == 0.0


def test_an_unknown_power_path_is_refused() -> None:
    with pytest.raises(BenchConfigError, match="power_path: expected 'contactors' or 'fets'"):
        BenchConfig(power_path="relays")
