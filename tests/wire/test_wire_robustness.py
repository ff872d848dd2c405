"""Modules that break the wire contract, certified through the real CLI.

Each is the reference served over stdio behind a relay that misbehaves in one way
(relay_module.py): it crashes, replies garbage, the wrong id, a reply with a field missing
or added, NaN or infinity, a line longer than the contract allows, never answers
obsa.hello, or states another spec version; or it sits behind a TCP gateway whose
connection drops (the module crashes) or stalls (the module stops answering). For each:
the run ends with exit status 1 and its own complete report, the supervisor's test case is
an error whose message gives the reason, the test case without the supervisor passes (or
is an error too when the module was refused at start-up), no traceback is printed and no
process is left.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
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
from .gateway import LOOPBACK, Gateway

RELAY = Path(__file__).with_name("relay_module.py")

pytestmark = pytest.mark.slow  # twelve certifications

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
    # behind a TCP gateway (mode after 'tcp_': the module's misbehaviour)
    "tcp_segfault": ("pass", "the connection to 127.0.0.1:{port} was closed during "
                             "safety_supervisor.step; the adapter is now unusable"),
    "tcp_stall": ("pass", "no reply within the timeout of 2 s; the connection to the module "
                          "was closed and the adapter is now unusable"),
}


#: the start-up bound of the modes that answer their start: ample, as four certifications
#: start at once beside the session's others (at 5 s a loaded machine timed a relay's import
#: out); the silent module's 5 s is what its run must name
STARTUP_S = 30


@pytest.fixture(scope="module")
def gateways() -> Iterator[dict[str, Gateway]]:
    """A gateway per TCP mode, each bridging its connections to a new relay."""
    found = {mode: Gateway([sys.executable, str(RELAY), mode.removeprefix("tcp_")])
             for mode in BROKEN if mode.startswith("tcp_")}
    yield found
    for gateway in found.values():
        gateway.close()


@pytest.fixture(scope="module")
def runs(request: pytest.FixtureRequest, gateways: dict[str, Gateway],
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
        if mode in gateways:
            adapter = {"type": "tcp", "options": {"host": LOOPBACK, "port": gateways[mode].port,
                                                  "startup_timeout_s": STARTUP_S}}
        else:
            adapter = {"type": "process", "options": {
                "command": [sys.executable, str(RELAY), mode],
                "startup_timeout_s": 5 if mode == "silent" else STARTUP_S}}
        manifest = manifest_for(None, d, timeout_s=2.0, **adapter)
        jobs[mode] = (manifest, out)
    with ThreadPoolExecutor(max_workers=max(4, 2 * (os.cpu_count() or 2))) as pool:
        futures = {mode: pool.submit(certify, m, out, "--no-progress", "--no-html", "-k",
                                     SELECTION, timeout_s=300)
                   for mode, (m, out) in jobs.items()}
        return {mode: f.result() for mode, f in futures.items()}


@pytest.mark.parametrize("mode", sorted(BROKEN))
def test_a_module_breaking_the_contract_gets_errors_with_the_reason(
        runs: dict[str, Run], gateways: dict[str, Gateway], mode: str) -> None:
    run = runs[mode]
    diag, says = BROKEN[mode]
    if mode in gateways:
        says = says.format(port=gateways[mode].port)
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
