"""The SoC test cases have teeth: each faulty estimator of the catalogue fails exactly the
requirements it breaks, and the reference and a correct estimator written otherwise pass, on
the vectors the reference passes (the 4-cell NMC pack on WLTC at 25 °C, the stale-current
case, the long run with a current-sensor offset, and the SoH-definition and SoP-limit
cases), under both suites (no disagreement). The certifications run in the
catalogue's background worker (:mod:`.estimation_runs`)."""

from __future__ import annotations

from typing import Any

import pytest

from .estimation_faults import ESTIMATION_CATALOGUE
from .estimation_runs import CORRECT, correct_run, faulty_report, report_of
from .estimation_runs import needed as _needed
from .modules import Faulty
from .reports import judged, not_passed, why_not_passed

#: its tests run on the worker of this group (tests/conftest.py)
WORKER_GROUP = "catalogue"


def needed(item: pytest.Item) -> set[str]:
    return _needed(item, "drive cycles")




JUDGED = {*(f"OBSA-SOC-00{i}" for i in range(2, 8)), "OBSA-SOH-003", "OBSA-SOH-004",
          "OBSA-SOP-001", "OBSA-SOP-004"}


@pytest.mark.slow
def test_the_reference_passes_the_selected_vectors(runs: dict[str, Any]) -> None:
    report = report_of(runs, "estimation reference: drive cycles")
    assert judged(report) == JUDGED
    assert not_passed(report) == set(), why_not_passed(report)
    # the report names the vectors judged, by the hash of their arrays
    from conformance.paths import vectors_dir
    from conformance.vectors import load_vector

    assert {v: report["vectors"][v]["sha256"] for v in ("nmc-pack4-wltc-25c", "nmc-wltc-25c")} == {
        v: load_vector(vectors_dir() / f"{v}.json").info.sha256
        for v in ("nmc-pack4-wltc-25c", "nmc-wltc-25c")}


@pytest.mark.slow
@pytest.mark.parametrize("faulty", ESTIMATION_CATALOGUE, ids=lambda f: f.name)
def test_a_faulty_estimator_fails_what_it_breaks(runs: dict[str, Any], faulty: Faulty) -> None:
    report = faulty_report(runs, f"estimation: {faulty.name}", faulty, ESTIMATION_CATALOGUE)
    failed = not_passed(report)
    assert faulty.breaks <= failed <= faulty.breaks | faulty.may_break, failed


@pytest.mark.slow
@pytest.mark.parametrize("correct", [c for c, (_, s) in CORRECT.items() if s == "drive cycles"])
def test_a_correct_estimator_written_otherwise_passes(runs: dict[str, Any], correct: str
                                                      ) -> None:
    report = report_of(runs, correct_run(correct))
    assert judged(report) == JUDGED
    assert not_passed(report) == set(), why_not_passed(report)
