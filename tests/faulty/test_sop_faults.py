"""The closed-loop state-of-power test case has teeth and is fair: each faulty estimator of
``SOP_CATALOGUE`` fails exactly the requirements it breaks, the reference and a correct
estimator written otherwise (``SopResistanceOnly``) pass, on the vectors of
:data:`.estimation_runs.SOP_SELECT` (an aged NMC drive cycle at 40 °C, another NMC cell than
characterized on a drive cycle at 10 °C, an aged NMC cell's pulses at 25 °C and, low in its
SoC range, at 10 °C), under both suites. The certifications run in the catalogue's background worker
(:mod:`.estimation_runs`)."""

from __future__ import annotations

from typing import Any

import pytest

from .estimation_runs import CORRECT, correct_run, faulty_report, report_of
from .estimation_runs import needed as _needed
from .modules import Faulty
from .reports import not_passed
from .sop_faults import SOP_CATALOGUE

#: its tests run on the worker of this group (tests/conftest.py)
WORKER_GROUP = "catalogue"

JUDGED = {"OBSA-SOP-002", "OBSA-SOP-003"}


def needed(item: pytest.Item) -> set[str]:
    return _needed(item, "sop truth")


def _report(runs: dict[str, Any], name: str, suite: str = "both") -> dict[str, Any]:
    report = report_of(runs, name, suite)
    # each suite judged the selection (a -k that matched no scenario would leave one empty)
    for suite in report["suites"]:
        judged = {r["requirement"] for r in report["results"]
                  if r["case"] and r.get("suite") == suite}
        assert judged == JUDGED, (suite, judged)
    return report


@pytest.mark.slow
def test_the_reference_passes_the_closed_loop_cases(runs: dict[str, Any]) -> None:
    assert not_passed(_report(runs, "estimation reference: sop truth")) == set()


@pytest.mark.slow
@pytest.mark.parametrize("correct", [c for c, (_, s) in CORRECT.items() if s == "sop truth"])
def test_a_correct_estimator_written_otherwise_passes(runs: dict[str, Any], correct: str
                                                      ) -> None:
    assert not_passed(_report(runs, correct_run(correct))) == set()


@pytest.mark.slow
@pytest.mark.parametrize("faulty", [pytest.param(f, id=f.name) for f in SOP_CATALOGUE])
def test_a_faulty_sop_estimator_fails_what_it_breaks(runs: dict[str, Any], faulty: Faulty
                                                     ) -> None:
    name = f"estimation: {faulty.name}"
    faulty_report(runs, name, faulty, SOP_CATALOGUE)  # and its Gherkin run, if it has one
    failed = not_passed(_report(runs, name, "pytest"))
    assert faulty.breaks <= failed <= faulty.breaks | faulty.may_break, failed
