"""A module whose own hardware abstraction is in the loop is judged on its own measurements:
once its cell monitor and current sensor have stepped, the bench's sensor models no longer
overwrite what they measured, whatever the order of the components."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from conformance.bench.faults import AdcGain, AdcOffset
from conformance.harness.context import Harness
from conformance.session import Certification

ROOT = Path(__file__).resolve().parents[2]
SUP = "safety_supervisor"


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory):
    c = Certification.prepare(ROOT / "reference_impl" / "manifest_full_bms.yaml", None,
                              tmp_path_factory.mktemp("out"), in_process=True)
    assert c.session is not None and not c.refused
    yield c
    c.close()


def _harness(cert: Certification) -> Harness:
    assert cert.session is not None
    return Harness(cert.session, "t::case", ["OBSA-SAFE-020"])


def test_the_supervisor_reads_the_module_s_pack_voltage(cert: Certification) -> None:
    h = _harness(cert)
    loop = h.run(components=["cell_monitor", "current_sensor", SUP], ideal_sensors=True)
    # the full BMS's order: its hardware abstraction first, read in the same step
    assert loop.components.index(SUP) > loop.components.index("current_sensor")
    loop.run(0.2)
    mask = h.bit(SUP, "pack_voltage_implausible")
    assert int(loop.pool["safety_fault_flags"]) & mask == 0
    tolerance = float(h.param(SUP, "pack_voltage_tolerance_V"))
    loop.bench.inject(AdcOffset(signal="true_pack_voltage_V", value=2 * tolerance,
                                start_s=loop.t))
    loop.run(float(h.param(SUP, "plausibility_fault_delay_s")) + 0.1)
    truth = loop.bench.truth(arrays=False)["true_pack_voltage_V"]
    assert loop.bench.measurements()["pack_voltage_V"] == pytest.approx(truth, abs=0.1)
    assert float(loop.pool["pack_voltage_V"]) == pytest.approx(truth + 2 * tolerance, abs=0.1)
    # the supervisor read the module's reading, not the bench's sensor's
    assert int(loop.pool["safety_fault_flags"]) & mask


def test_the_cell_monitor_s_gain_reaches_the_sum_of_the_cells(cert: Certification) -> None:
    h = _harness(cert)
    loop = h.run(components=["cell_monitor", "current_sensor", SUP], ideal_sensors=True)
    loop.run(0.2)
    loop.bench.inject(AdcGain(signal="true_cell_voltage_V", factor=1.05, start_s=loop.t))
    loop.run(0.3)
    truth = np.asarray(loop.bench.truth()["true_cell_voltage_V"])
    assert np.asarray(loop.pool["cell_voltage_V"]) == pytest.approx(1.05 * truth, abs=0.002)
    assert np.asarray(loop.bench.measurements()["cell_voltage_V"]) == pytest.approx(truth,
                                                                                   abs=0.002)


def test_without_its_hardware_abstraction_the_bench_measures(cert: Certification) -> None:
    h = _harness(cert)
    loop = h.run(components=[SUP], ideal_sensors=True)
    loop.run(0.1)
    loop.bench.inject(AdcOffset(signal="true_pack_voltage_V", value=50.0, start_s=loop.t))
    loop.run(0.1)
    truth = loop.bench.truth(arrays=False)["true_pack_voltage_V"]
    assert float(loop.pool["pack_voltage_V"]) == pytest.approx(truth, abs=0.1)
