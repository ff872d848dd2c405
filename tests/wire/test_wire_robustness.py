"""Modules that break the wire contract, certified through the real CLI.

Each is the reference served over stdio behind a relay that misbehaves in one way
(relay_module.py): it crashes, replies garbage, the wrong id, a reply with a field missing
or added, NaN or infinity, a line longer than the contract allows, never answers
obsa.hello, or states another spec version. For each: the run ends with exit status 1 and
its own complete report, the supervisor's test case is an error whose message gives the
reason, the test case without the supervisor passes (or is an error too when the module
was refused at start-up), no traceback is printed and no process is left.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ..hostile.runs import (
    DIAG_CASE,
    PLANTED_RUN_ID,
    SELECTION,
    SS_CASE,
    Run,
    certify,
    manifest_for,
    plant_old_report,
)

RELAY = Path(__file__).with_name("relay_module.py")

BROKEN: dict[str, tuple[str, str]] = {
    # mode: (verdict of the test case without the supervisor, what the error says)
    "segfault": ("pass", "was killed by SIGSEGV during safety_supervisor.step"),
    "garbage": ("pass", "broke the wire contract: a line that is not JSON: 'hello, world'"),
    "wrong_id": ("pass", "expected the JSON-RPC 2.0 reply to request"),
    "missing_field": ("pass", "missing output"),
    "extra_field": ("pass", "unexpected output"),
    "nan": ("pass", "a line that is not JSON"),
    "inf": ("pass", "a line that is not JSON"),
    "huge_line": ("pass", "a reply longer than 16777216 bytes without a line end"),
    "silent": ("error", "no reply within the timeout of 5 s"),
    "other_spec": ("error", "expected spec version 0.3.0 (the manifest's), found '0.2.0'"),
}


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    selected = {item.callspec.params["mode"] for item in request.session.items
                if "mode" in getattr(getattr(item, "callspec", None), "params", {})}
    base = tmp_path_factory.mktemp("wire")
    jobs = {}
    for mode in sorted(selected):
        d = base / mode
        d.mkdir()
        out = d / "out"
        plant_old_report(out)
        manifest = manifest_for(None, d, type="process", timeout_s=2.0, options={
            "command": [sys.executable, str(RELAY), mode], "startup_timeout_s": 5})
        jobs[mode] = (manifest, out)
    with ThreadPoolExecutor(max_workers=max(4, 2 * (os.cpu_count() or 2))) as pool:
        futures = {mode: pool.submit(certify, m, out, "--no-progress", "--no-html", "-k",
                                     SELECTION, timeout_s=300)
                   for mode, (m, out) in jobs.items()}
        return {mode: f.result() for mode, f in futures.items()}


@pytest.mark.parametrize("mode", sorted(BROKEN))
def test_a_module_breaking_the_contract_gets_errors_with_the_reason(runs: dict[str, Run],
                                                                    mode: str) -> None:
    run = runs[mode]
    diag, says = BROKEN[mode]
    tail = run.output[-3000:]
    assert run.report is not None and run.report["run_id"] != PLANTED_RUN_ID, tail
    assert run.exit_code == 1, tail
    assert run.report["outcome"] == "not-certified"
    assert "Traceback" not in run.output, tail
    verdicts = run.verdicts()
    assert verdicts[SS_CASE] == {"error"}, (verdicts, run.messages(SS_CASE))
    assert all(says in m for m in run.messages(SS_CASE)), run.messages(SS_CASE)
    assert verdicts[DIAG_CASE] == {diag}, (verdicts[DIAG_CASE], run.messages(DIAG_CASE))
    assert run.leftovers == [], f"processes left behind: {run.leftovers}"
