"""The bench's HV circuit sized for a declared pack and contactor manager: precharge completes
within the declared timeout and tolerance, and the contactors move within the declared
feedback timeout, for every pack and declaration the manifest check accepts."""

from __future__ import annotations

import pytest

from conformance.bench import CHEMISTRIES, Bench, BenchConfig
from conformance.bench.hv import circuit_for

from .bench_helpers import PRECHARGE


def _precharge_time(cfg: BenchConfig, tolerance_V: float, limit_s: float) -> float | None:
    bench = Bench(cfg)
    bench.apply(PRECHARGE)
    while bench.t < limit_s:
        bench.advance()
        tr = bench.truth(arrays=False)
        if abs(tr["true_link_voltage_V"] - tr["true_pack_voltage_V"]) < tolerance_V:
            return bench.t
    return None


@pytest.mark.parametrize(("n_cells", "tolerance_V", "timeout_s"), [
    (4, 0.2, 0.1),  # a 12 V pack, tight tolerance, the shortest precharge timeout
    (96, 1.0, 2.0),  # the reference declaration
    (350, 0.6, 0.5),  # 1.47 kV, close to the dictionary's 1500 V
], ids=["4-cells", "96-cells", "350-cells"])
def test_precharge_completes_within_the_declared_timeout(n_cells: int, tolerance_V: float,
                                                         timeout_s: float) -> None:
    sized = circuit_for(n_cells * float(CHEMISTRIES["nmc"].ocv_V(1.0)), tolerance_V, timeout_s,
                        0.1)
    cfg = BenchConfig(n_cells=n_cells, n_temp_sensors=1, **sized)
    done = _precharge_time(cfg, tolerance_V, limit_s=timeout_s)
    assert done is not None and done <= timeout_s, (sized, done)


@pytest.mark.parametrize("n_cells", [4, 96, 350])
def test_the_bleeder_lets_the_link_settle_inside_the_tolerance(n_cells: int) -> None:
    pack_V = n_cells * 4.19
    sized = circuit_for(pack_V, 1.0, 2.0, 0.1)
    rp, rb = sized["precharge_resistance_ohm"], sized["bleeder_resistance_ohm"]
    assert pack_V * rp / (rp + rb) <= 0.1 * 1.0  # the divider's offset at the end of precharge
    assert rp <= BenchConfig.precharge_resistance_ohm


@pytest.mark.parametrize("feedback_timeout_s", [0.02, 0.05, 0.3])
def test_contactors_move_within_half_the_feedback_timeout(feedback_timeout_s: float) -> None:
    sized = circuit_for(355.0, 1.0, 2.0, feedback_timeout_s)
    assert sized["contactor_close_delay_s"] <= 0.5 * feedback_timeout_s
    assert sized["contactor_open_delay_s"] <= 0.5 * feedback_timeout_s
