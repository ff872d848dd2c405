"""The state-of-power limits are judged on cells of the declared chemistry only: the voltage
limits of an LFP pack say nothing about an NMC cell (conformance/suite/test_sop_estimator.py)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from conformance.suite import test_sop_estimator as sop


class Recorder:
    """What a test case reports, for a declared chemistry."""

    def __init__(self, chemistry: str) -> None:
        self.manifest = SimpleNamespace(pack=SimpleNamespace(chemistry=chemistry))
        self.verdicts: list[tuple[str, str, str]] = []

    def not_applicable(self, rid: str, message: str) -> None:
        self.verdicts.append(("not-applicable", rid, message))

    def inconclusive(self, rid: str, message: str) -> None:
        self.verdicts.append(("inconclusive", rid, message))


def _of(chemistry: str) -> list[str]:
    return [v for v in sop.VECTORS if sop._chemistry(v) == chemistry]


def test_the_shipped_truth_vectors_cover_nmc_and_lfp() -> None:
    assert _of("nmc") and _of("lfp")


@pytest.mark.parametrize("declared,judged", [("nmc", "nmc"), ("nca", "nmc"), ("lfp", "lfp")])
def test_a_vector_of_the_declared_chemistry_is_judged_the_others_not_applicable(
        declared: str, judged: str) -> None:
    for vector_id in sop.VECTORS:
        h = Recorder(declared)
        skipped = sop._unjudged_chemistry(h, vector_id)  # type: ignore[arg-type]
        assert skipped == (sop._chemistry(vector_id) != judged)
        if skipped:
            assert {(v, r) for v, r, _ in h.verdicts} == {
                ("not-applicable", "OBSA-SOP-002"), ("not-applicable", "OBSA-SOP-003")}
            assert all(f"judged on {', '.join(_of(judged))}" in m for _, _, m in h.verdicts)
        else:
            assert h.verdicts == []


def test_without_a_vector_of_the_declared_chemistry_the_limits_are_inconclusive() -> None:
    """An LTO pack: no shipped vector with a truth model is of an LTO cell, so nothing can
    judge its limits — inconclusive, which blocks the outcome, never a silent pass."""
    assert not _of("lto")
    h = Recorder("lto")
    assert sop._unjudged_chemistry(h, sop.VECTORS[0])  # type: ignore[arg-type]
    assert [(v, r) for v, r, _ in h.verdicts] == [("inconclusive", "OBSA-SOP-002"),
                                                  ("inconclusive", "OBSA-SOP-003")]
    assert "no vector with a truth model is of the declared lto chemistry" in h.verdicts[0][2]
