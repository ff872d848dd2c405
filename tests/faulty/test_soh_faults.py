"""The SoH test cases judged against the truth have teeth: on the cycle vectors the reference
passes OBSA-SOH-001, 002 and the Annex VII figures, and each faulty SoH estimator of
``SOH_CATALOGUE`` fails exactly the requirements it breaks, under both suites."""

from __future__ import annotations

from pathlib import Path

import pytest

from .modules import Faulty
from .soh_faults import SOH_CATALOGUE
from .test_estimation_faults import _certify, _not_passed

SELECT = "after and cycles"
"""The test cases on the cycle vectors (pytest: test_soh_after_two_full_cycles[…]; Gherkin:
"SoH after two full cycles of …")."""
JUDGED = {"OBSA-SOH-001", "OBSA-SOH-002", "OBSA-REG-001", "OBSA-REG-003", "OBSA-REG-005",
          "OBSA-REG-006"}


@pytest.mark.slow
def test_the_reference_passes_the_cycle_vectors(tmp_path: Path) -> None:
    report = _certify(tmp_path, None, SELECT)
    soh = {r["requirement"] for r in report["results"]
           if r["case"] and r["requirement"] in JUDGED}
    assert soh == JUDGED
    assert not {r for r in _not_passed(report) if r in JUDGED}


@pytest.mark.slow
@pytest.mark.parametrize("faulty", SOH_CATALOGUE, ids=lambda f: f.name)
def test_a_faulty_soh_estimator_fails_what_it_breaks(tmp_path: Path, faulty: Faulty) -> None:
    assert _not_passed(_certify(tmp_path, faulty, SELECT)) == set(faulty.breaks)
