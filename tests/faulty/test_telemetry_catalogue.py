"""The telemetry's test cases have teeth and are fair: each faulty telemetry of
``TELEMETRY_CATALOGUE`` fails exactly the requirements it breaks, and the correct one
written otherwise (``TELEMETRY_CORRECT``) is certified, on the reference gateway's manifest:
the reference and the correct one under both suites, a faulty one under the pytest suite
(and the scenarios of what it breaks under the Gherkin suite, for the Gherkin sample:
:func:`.reports.certify_faulty`). The bench's uplink model refuses an outage that is no
time interval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.bench import Bench, BenchConfig
from conformance.bench.network import UplinkError

from .modules import Faulty
from .reports import (
    Edit,
    certify_faulty,
    certify_under,
    judged,
    not_passed,
    replace_component,
)
from .telemetry_faults import TELEMETRY_CATALOGUE, TELEMETRY_CORRECT

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "reference_impl" / "manifest_telemetry_gateway.yaml"
CONN = {f"OBSA-CONN-00{i}" for i in range(1, 8)}


def _certify(tmp_path: Path, edit: Edit | None) -> dict[str, Any]:
    """Certify the reference gateway's manifest changed by ``edit``, under both suites."""
    return certify_under("both", MANIFEST, tmp_path, edit, "-k", "telemetry", timeout_s=900)


def test_the_uplink_is_down_inside_an_outage_only() -> None:
    bench = Bench(BenchConfig(n_cells=2, n_temp_sensors=1, dt_s=0.1))
    bench.uplink.outage(0.25, 0.45)
    seen = []
    for _ in range(6):
        seen.append(bench.plant_inputs()["true_uplink_available"])
        bench.advance()
    assert seen == [True, True, True, False, False, True]


@pytest.mark.parametrize(("window", "expected"), [
    ((float("nan"), None), "start_s: expected a finite time"),
    ((1.0, 1.0), "end_s: expected None or a finite time after start_s"),
    ((1.0, float("inf")), "end_s: expected None or a finite time after start_s"),
], ids=["nan_start", "empty", "infinite_end"])
def test_a_bad_outage_is_refused_by_name(window: tuple[float, float | None],
                                         expected: str) -> None:
    with pytest.raises(UplinkError) as err:
        Bench(BenchConfig(n_cells=2, n_temp_sensors=1)).uplink.outage(*window)
    assert expected in str(err.value)


@pytest.mark.slow
def test_the_reference_telemetry_is_certified(tmp_path: Path) -> None:
    report = _certify(tmp_path, None)
    assert judged(report) == CONN
    assert not_passed(report) == set()


@pytest.mark.slow
@pytest.mark.parametrize("faulty", TELEMETRY_CATALOGUE, ids=lambda f: f.name)
def test_a_faulty_telemetry_fails_what_it_breaks(tmp_path: Path, faulty: Faulty) -> None:
    failed = not_passed(certify_faulty(faulty, TELEMETRY_CATALOGUE, MANIFEST, tmp_path,
                                       "-k", "telemetry", timeout_s=900))
    assert faulty.breaks <= failed <= faulty.breaks | faulty.may_break, failed


@pytest.mark.slow
@pytest.mark.parametrize("correct", TELEMETRY_CORRECT, ids=lambda f: f.name)
def test_a_correct_telemetry_unlike_the_reference_is_certified(tmp_path: Path,
                                                               correct: Faulty) -> None:
    report = _certify(tmp_path, replace_component(correct))
    assert judged(report) == CONN
    assert not_passed(report) == set()


def test_every_telemetry_requirement_has_a_faulty_module() -> None:
    assert {r for f in TELEMETRY_CATALOGUE for r in f.breaks} == CONN
