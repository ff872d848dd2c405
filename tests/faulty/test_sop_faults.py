"""The closed-loop state-of-power test case has teeth and is fair: each faulty estimator of
``SOP_CATALOGUE`` fails exactly the requirements it breaks, the reference and a correct
estimator written otherwise (``SopResistanceOnly``) pass, on the vectors of
:data:`SOP_SELECT` (an aged NMC drive cycle at 40 °C, another NMC cell than characterized on
a drive cycle at 10 °C, an aged LFP cell's pulses at 10 °C)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .modules import Faulty, _f
from .sop_faults import SOP_CATALOGUE, SopResistanceOnly
from .test_estimation_faults import _certify, _not_passed

SOP_SELECT = ("truth and limits and (nmc-aged-wltc-40c or nmc-other-wltc-10c "
              "or lfp-aged-pulses-10c)")
"""In both suites: pytest's test_sop_limits_hold_on_the_truth[…], the Gherkin scenarios "SoP
limits drawn from the truth of …"."""
JUDGED = {"OBSA-SOP-002", "OBSA-SOP-003"}


def _judged(report: dict) -> set[str]:
    """The requirements judged by a test case, in each suite: both must have run."""
    suites = {r.get("suite") for r in report["results"] if r["case"]}
    assert suites == {"pytest", "gherkin"}, suites
    return {r["requirement"] for r in report["results"] if r["case"]}


@pytest.mark.slow
def test_the_reference_passes_the_closed_loop_cases(tmp_path: Path) -> None:
    report = _certify(tmp_path, None, SOP_SELECT)
    assert _judged(report) == JUDGED
    assert _not_passed(report) == set()


@pytest.mark.slow
def test_a_correct_estimator_written_otherwise_passes(tmp_path: Path) -> None:
    report = _certify(tmp_path, _f("sop_estimator", SopResistanceOnly), SOP_SELECT)
    assert _judged(report) == JUDGED
    assert _not_passed(report) == set()


@pytest.mark.slow
@pytest.mark.parametrize("faulty", SOP_CATALOGUE, ids=lambda f: f.name)
def test_a_faulty_sop_estimator_fails_what_it_breaks(tmp_path: Path, faulty: Faulty) -> None:
    assert _not_passed(_certify(tmp_path, faulty, SOP_SELECT)) == set(faulty.breaks)
