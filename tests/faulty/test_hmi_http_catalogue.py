"""The HMI-over-HTTP test cases have teeth and are fair: each faulty service of
``HMI_HTTP_CATALOGUE`` fails exactly the requirement it breaks, and the correct service
written otherwise (``HMI_HTTP_CORRECT``) passes them all, on the reference gateway's
manifest (the HTTP cases only); the certifications run in the catalogue's background worker
(:data:`.catalogue_runs.HMI_HTTP`)."""

from __future__ import annotations

from typing import Any

import pytest

from .catalogue_runs import HMI_HTTP
from .estimation_runs import faulty_report, report_of
from .hmi_http_faults import HMI_HTTP_CATALOGUE, HMI_HTTP_CORRECT
from .modules import Faulty
from .reports import judged, not_passed, why_not_passed

#: its tests run on the worker of this group (tests/conftest.py)
WORKER_GROUP = "catalogue"
HTTP = {f"OBSA-HMI-00{i}" for i in range(5, 10)}


def needed(item: pytest.Item) -> set[str]:
    """The runs a test reads (:meth:`.catalogue_runs.Catalogue.needed`)."""
    return HMI_HTTP.needed(item)


@pytest.mark.slow
def test_the_reference_service_is_certified(runs: dict[str, Any]) -> None:
    report = report_of(runs, HMI_HTTP.reference_run())
    assert judged(report) == HTTP
    assert not_passed(report) == set(), why_not_passed(report)


@pytest.mark.slow
@pytest.mark.parametrize("faulty", HMI_HTTP_CATALOGUE, ids=lambda f: f.name)
def test_a_faulty_service_fails_what_it_breaks(runs: dict[str, Any], faulty: Faulty) -> None:
    report = faulty_report(runs, HMI_HTTP.faulty_run(faulty), faulty, HMI_HTTP_CATALOGUE)
    assert judged(report) == HTTP
    assert not_passed(report) == faulty.breaks


@pytest.mark.slow
@pytest.mark.parametrize("correct", HMI_HTTP_CORRECT, ids=lambda f: f.name)
def test_a_correct_service_unlike_the_reference_passes(runs: dict[str, Any],
                                                       correct: Faulty) -> None:
    report = report_of(runs, HMI_HTTP.correct_run(correct.name))
    assert judged(report) == HTTP
    assert not_passed(report) == set(), why_not_passed(report)


def test_every_http_requirement_has_a_faulty_service() -> None:
    assert {r for f in HMI_HTTP_CATALOGUE for r in f.breaks} == HTTP
