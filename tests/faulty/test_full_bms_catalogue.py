"""The full BMS's areas have teeth and are fair: on each area's selection of test cases
(:data:`.full_bms_runs.AREAS`) the reference full BMS passes every requirement the selection
judges, on its own pack and on each pack unlike it; every faulty module fails exactly the
requirements it breaks; every correct module unlike the reference passes — under both
suites, which must agree (a faulty module under the pytest suite, and the Gherkin scenarios
of what it breaks for the area's Gherkin sample). The certifications run in the catalogue's
background worker (:func:`.full_bms_runs.full_bms_jobs`)."""

from __future__ import annotations

from typing import Any

import pytest

from .estimation_runs import faulty_report, report_of
from .full_bms_runs import (
    AREAS,
    WHOLE_SUITE_PACKS,
    correct_run,
    faulty_run,
    pack_run,
    reference_run,
    whole_suite_run,
)
from .modules import Faulty
from .reports import gherkin_run, gherkin_select, judged, not_passed, why_not_passed

#: its tests run on the worker of this group (tests/conftest.py)
WORKER_GROUP = "catalogue"

FAULTY = [pytest.param(area, faulty, id=f"{area}-{faulty.name}")
          for area, spec in AREAS.items() for faulty in spec.faulty]
CORRECT = [pytest.param(area, correct, id=f"{area}-{correct.name}")
           for area, spec in AREAS.items() for correct in spec.correct]
PACKS = [pytest.param(area, pack, id=f"{area}-{pack}")
         for area, spec in AREAS.items() for pack in spec.packs]


def needed(item: pytest.Item) -> set[str]:
    params = getattr(getattr(item, "callspec", None), "params", {})
    if "whole_suite_pack" in params:
        return {whole_suite_run(params["whole_suite_pack"])}
    area = params.get("area")
    if area is None:
        return set()
    if "faulty" in params:
        run = faulty_run(area, params["faulty"])
        sample = gherkin_select(params["faulty"], AREAS[area].faulty) is not None
        return {run, *([gherkin_run(run)] if sample else [])}
    if "correct" in params:
        return {correct_run(area, params["correct"])}
    if "pack" in params:
        return {pack_run(area, params["pack"])}
    return {reference_run(area)}


@pytest.mark.slow
@pytest.mark.parametrize("area", list(AREAS))
def test_the_reference_passes_the_area(runs: dict[str, Any], area: str) -> None:
    report = report_of(runs, reference_run(area))
    assert judged(report), "the selection judged no requirement"
    assert not_passed(report) == set(), why_not_passed(report)


@pytest.mark.slow
@pytest.mark.parametrize(("area", "faulty"), FAULTY)
def test_a_faulty_module_fails_what_it_breaks(runs: dict[str, Any], area: str,
                                              faulty: Faulty) -> None:
    failed = not_passed(faulty_report(runs, faulty_run(area, faulty), faulty,
                                      AREAS[area].faulty))
    assert faulty.breaks <= failed <= faulty.breaks | faulty.may_break, failed


@pytest.mark.slow
@pytest.mark.parametrize(("area", "correct"), CORRECT)
def test_a_correct_module_unlike_the_reference_passes(runs: dict[str, Any], area: str,
                                                      correct: Faulty) -> None:
    assert not_passed(report_of(runs, correct_run(area, correct))) == set()


@pytest.mark.slow
@pytest.mark.parametrize(("area", "pack"), PACKS)
def test_the_reference_passes_the_area_on_other_packs(runs: dict[str, Any], area: str,
                                                      pack: str) -> None:
    """On a pack unlike the reference's (one temperature sensor, 200 LFP cells …) a case
    with nothing to judge there (a spread between sensors on one sensor) is not applicable,
    saying why; every other requirement of the area passes."""
    report = report_of(runs, pack_run(area, pack), "pytest")
    assert judged(report)
    failed = {r["requirement"] for r in report["results"]
              if r["case"] and r["verdict"] not in ("pass", "not-applicable")}
    assert failed == set()
    assert all(r["evidence"]["message"] for r in report["results"]
               if r["case"] and r["verdict"] == "not-applicable")


@pytest.mark.slow
@pytest.mark.parametrize("whole_suite_pack", list(WHOLE_SUITE_PACKS))
def test_the_reference_passes_the_whole_suite_on_other_packs(runs: dict[str, Any],
                                                             whole_suite_pack: str) -> None:
    """The whole suite, every profile the reference claims, on a pack unlike its own (12 LFP
    cells with one sensor and LFP limits; 200 cells with 64 sensors): no test case depends
    on the reference's pack. A case with nothing to judge there is not applicable, saying
    why; every other requirement verified by test passes."""
    report = report_of(runs, whole_suite_run(whole_suite_pack), "pytest")
    left = set(report["left_to_certification_body"])
    covered = judged(report)
    assert covered and {r["requirement"] for r in report["results"]
                        if r["verdict"] != "not-applicable"} - left <= covered
    failed = {r["requirement"] for r in report["results"]
              if r["case"] and r["verdict"] not in ("pass", "not-applicable")}
    assert failed == set(), failed
    assert all(r["evidence"]["message"] for r in report["results"]
               if r["case"] and r["verdict"] == "not-applicable")
