"""The telemetry's test cases have teeth and are fair: each faulty telemetry of
``TELEMETRY_CATALOGUE`` fails exactly the requirements it breaks, and each correct one
written otherwise (``TELEMETRY_CORRECT``) passes them all, on the reference gateway's
manifest; the certifications run in the catalogue's background worker
(:data:`.catalogue_runs.TELEMETRY`). The bench's uplink model refuses an outage that is no
time interval."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.bench import Bench, BenchConfig
from conformance.bench.network import UplinkError

from .catalogue_runs import TELEMETRY
from .estimation_runs import faulty_report, report_of
from .modules import Faulty
from .reports import judged, not_passed, why_not_passed
from .telemetry_faults import TELEMETRY_CATALOGUE, TELEMETRY_CORRECT

#: its tests run on the worker of this group (tests/conftest.py)
WORKER_GROUP = "catalogue"
CONN = {f"OBSA-CONN-00{i}" for i in range(1, 8)}


def needed(item: pytest.Item) -> set[str]:
    """The runs a test reads (:meth:`.catalogue_runs.Catalogue.needed`)."""
    return TELEMETRY.needed(item)


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
def test_the_reference_telemetry_is_certified(runs: dict[str, Any]) -> None:
    report = report_of(runs, TELEMETRY.reference_run())
    assert judged(report) == CONN
    assert not_passed(report) == set(), why_not_passed(report)


@pytest.mark.slow
@pytest.mark.parametrize("faulty", TELEMETRY_CATALOGUE, ids=lambda f: f.name)
def test_a_faulty_telemetry_fails_what_it_breaks(runs: dict[str, Any], faulty: Faulty) -> None:
    failed = not_passed(faulty_report(runs, TELEMETRY.faulty_run(faulty), faulty,
                                      TELEMETRY_CATALOGUE))
    assert faulty.breaks <= failed <= faulty.breaks | faulty.may_break, failed


@pytest.mark.slow
@pytest.mark.parametrize("correct", TELEMETRY_CORRECT, ids=lambda f: f.name)
def test_a_correct_telemetry_unlike_the_reference_passes(runs: dict[str, Any],
                                                         correct: Faulty) -> None:
    report = report_of(runs, TELEMETRY.correct_run(correct.name))
    assert judged(report) == CONN
    assert not_passed(report) == set(), why_not_passed(report)


def test_every_telemetry_requirement_has_a_faulty_module() -> None:
    assert {r for f in TELEMETRY_CATALOGUE for r in f.breaks} == CONN
