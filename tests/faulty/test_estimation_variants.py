"""The state-estimation suite is fair to packs unlike the reference's: the reference
estimators, declared for another pack (one cell; 12 cells with one temperature sensor; 200
LFP-declared cells with 64), pass what they pass on their own (every test case replays the
vectors' cells repeated to the declared pack size, whatever the chemistry or the number of
temperature sensors declared). The certifications run in the catalogue's background worker
(:mod:`.estimation_runs`)."""

from __future__ import annotations

from typing import Any

import pytest

from .estimation_runs import PACKS, pack_run
from .estimation_runs import needed as _needed

#: its tests run on the worker of this group (tests/conftest.py)
WORKER_GROUP = "catalogue"


def needed(item: pytest.Item) -> set[str]:
    return _needed(item, "drive cycles")


@pytest.mark.slow
@pytest.mark.parametrize("pack", list(PACKS))
def test_the_reference_passes_on_another_pack(runs: dict[str, Any], pack: str) -> None:
    run = runs[pack_run(pack)]
    assert run.report is not None, run.output[-3000:]
    judged = [r for r in run.report["results"] if r["case"]]
    assert judged, run.output[-3000:]
    failed = {(r["requirement"], r["test_case"], r["verdict"]) for r in judged
              if r["verdict"] != "pass"}
    assert not failed, run.output[-3000:]
