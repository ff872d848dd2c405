"""The CAN test cases have teeth and are fair: each faulty CAN node of ``CAN_CATALOGUE``
fails exactly the requirements it breaks, and each correct node made differently from the
reference (``CAN_VARIANTS``) passes everything. Every run is a whole certification of the
reference CAN manifest with its node class replaced, in process (a CMU 5 to 10 s, a BMU
20 to 45 s, as OBSA-CAN-012 runs it past its declared SoC convergence time); the reference
nodes are certified isolated too, with the same results. The certifications run in the
catalogue's background worker (:func:`.catalogue_runs.can_jobs`)."""

from __future__ import annotations

from typing import Any

import pytest

from .can_faults import CAN_CATALOGUE, CAN_VARIANTS, CanFaulty
from .catalogue_runs import can_reference_run, can_run
from .reports import judged, not_passed

#: its tests run on the worker of this group (tests/conftest.py)
WORKER_GROUP = "catalogue"

#: the CAN requirements each node's profile holds (cmu_can, bms_can)
CAN_REQUIREMENTS = {
    "cmu": {f"OBSA-CAN-{i:03d}" for i in (*range(1, 9), 10, 11)},
    "bmu": {f"OBSA-CAN-{i:03d}" for i in (*range(1, 10), 11, 12)},
}

pytestmark = pytest.mark.slow


def needed(item: pytest.Item) -> set[str]:
    params = getattr(getattr(item, "callspec", None), "params", {})
    if "node" in params:
        return {can_reference_run(params["node"], False), can_reference_run(params["node"], True)}
    for key in ("faulty", "variant"):
        if key in params:
            return {can_run(params[key])}
    return set()


def _report(runs: dict[str, Any], name: str) -> dict[str, Any]:
    run = runs[name]
    assert run.report is not None, run.output[-3000:]
    return dict(run.report)


@pytest.mark.parametrize("node", ["cmu", "bmu"])
def test_a_node_in_process_is_judged_as_isolated(runs: dict[str, Any], node: str) -> None:
    """The reference node certified as a vendor's is (its host in a child process), and in
    process (``--in-process``, never certified): every result the same — verdict,
    criteria, evidence and simulated time."""
    isolated = _report(runs, can_reference_run(node, False))
    in_process = _report(runs, can_reference_run(node, True))
    assert isolated["outcome"] == "certified" and not isolated["in_process"]
    assert in_process["outcome"] == "not-certified" and in_process["in_process"]

    def results(report: dict[str, Any]) -> dict[tuple[str, str], Any]:
        return {(r["case"], r["requirement"]): (r["verdict"], r["criteria"],
                                                r["evidence"]["channels"],
                                                r["evidence"]["events"], r["simulated_s"])
                for r in report["results"]}

    assert judged(isolated) == CAN_REQUIREMENTS[node] and not not_passed(isolated)
    assert results(in_process) == results(isolated)


@pytest.mark.parametrize("faulty", CAN_CATALOGUE, ids=lambda f: f.name)
def test_a_faulty_can_node_fails_what_it_breaks_and_nothing_else(runs: dict[str, Any],
                                                                  faulty: CanFaulty) -> None:
    report = _report(runs, can_run(faulty))
    assert judged(report) == CAN_REQUIREMENTS[faulty.node]
    verdicts = {r["requirement"]: r["verdict"] for r in report["results"] if r["case"]}
    assert not_passed(report) == faulty.breaks, verdicts
    assert all(verdicts[r] == "fail" for r in faulty.breaks), verdicts


@pytest.mark.parametrize("variant", CAN_VARIANTS, ids=lambda f: f.name)
def test_a_correct_can_node_made_differently_passes_everything(runs: dict[str, Any],
                                                               variant: CanFaulty) -> None:
    report = _report(runs, can_run(variant))
    assert judged(report) == CAN_REQUIREMENTS[variant.node] and not not_passed(report), [
        (r["requirement"], r["verdict"], r["evidence"]["message"][:200])
        for r in report["results"] if r["verdict"] != "pass"]
