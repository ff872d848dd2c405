"""The SoH test cases judged against the truth have teeth: on the cycle vectors the reference
passes OBSA-SOH-001, 002 and the Annex VII figures, and each faulty SoH estimator of
``SOH_CATALOGUE`` fails exactly the requirements it breaks, under both suites. The
certifications run in the catalogue's background worker (:mod:`.estimation_runs`)."""

from __future__ import annotations

from typing import Any

import pytest

from .estimation_runs import faulty_report, report_of
from .estimation_runs import needed as _needed
from .modules import Faulty
from .reports import not_passed
from .soh_faults import SOH_CATALOGUE

#: its tests run on the worker of this group (tests/conftest.py)
WORKER_GROUP = "catalogue"

JUDGED = {"OBSA-SOH-001", "OBSA-SOH-002", "OBSA-REG-001", "OBSA-REG-003", "OBSA-REG-005",
          "OBSA-REG-006"}


def needed(item: pytest.Item) -> set[str]:
    return _needed(item, "cycles")




@pytest.mark.slow
def test_the_reference_passes_the_cycle_vectors(runs: dict[str, Any]) -> None:
    report = report_of(runs, "estimation reference: cycles")
    soh = {r["requirement"] for r in report["results"]
           if r["case"] and r["requirement"] in JUDGED}
    assert soh == JUDGED
    assert not {r for r in not_passed(report) if r in JUDGED}


@pytest.mark.slow
@pytest.mark.parametrize("faulty", SOH_CATALOGUE, ids=lambda f: f.name)
def test_a_faulty_soh_estimator_fails_what_it_breaks(runs: dict[str, Any], faulty: Faulty
                                                     ) -> None:
    failed = not_passed(faulty_report(runs, f"estimation: {faulty.name}", faulty,
                                      SOH_CATALOGUE))
    assert faulty.breaks <= failed <= faulty.breaks | faulty.may_break, failed
