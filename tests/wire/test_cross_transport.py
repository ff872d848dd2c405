"""The transport changes nothing: the reference certified in process, isolated (python
transport), over ``obsa serve`` on stdio (a process command) and over TCP gives the same
verdicts and the same measured values.

One certification per transport, run in parallel, on a selection of the suite that drives
the three components of the safety core (supervisor, contactor manager, fault memory); the
values cross JSON in three of the four runs, in the fourth they never leave the process.
The seed is drawn from what the manifest declares, never from how the module is connected,
so all four see the same stimuli (checked first).
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conformance.manifest import safety_core_manifest_path

from ..hostile.runs import ROOT, Run, manifest_for

SELECTION = "test_close_through_precharge or test_fault_latches or test_occurrences_and_times"


@pytest.fixture(scope="module")
def tcp_port() -> Iterator[int]:
    """``obsa serve reference_impl/manifest.yaml --tcp 127.0.0.1:0`` (the safety core);
    yields the port it listens on."""
    proc = subprocess.Popen([sys.executable, "-m", "conformance", "serve",
                             str(safety_core_manifest_path()), "--tcp", "127.0.0.1:0"],
                            cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    found = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
    try:
        assert found, line
        yield int(found.group(1))
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def runs(tcp_port: int, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    base = tmp_path_factory.mktemp("transports")
    serve = [sys.executable, "-m", "conformance", "serve", str(safety_core_manifest_path())]
    jobs: dict[str, tuple[Path, tuple[str, ...]]] = {
        "in_process": (safety_core_manifest_path(), ("--in-process",)),
        "python": (safety_core_manifest_path(), ()),
    }
    for name, adapter in (
        ("serve_stdio", {"type": "process", "options": {"command": serve}}),
        ("tcp", {"type": "tcp", "options": {"host": "127.0.0.1", "port": tcp_port}}),
    ):
        (base / name).mkdir()
        jobs[name] = (manifest_for(None, base / name, **adapter), ())
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        futures = {name: pool.submit(_certify, manifest, base / f"out-{name}", *args)
                   for name, (manifest, args) in jobs.items()}
        return {name: f.result() for name, f in futures.items()}


def _certify(manifest: Path, out: Path, *args: str) -> Run:
    proc = subprocess.run([sys.executable, "-m", "conformance", "certify", str(manifest),
                           "--out", str(out),
                           "--no-progress", "--no-html", "-k", SELECTION, *args], cwd=ROOT,
                          env=dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg"),
                          capture_output=True, text=True, timeout=900)
    path = out / "report.json"
    report = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    return Run(proc.returncode, report, proc.stdout + proc.stderr, out)


def _results(run: Run) -> dict[tuple[str, str], dict[str, Any]]:
    assert run.report is not None, run.output[-3000:]
    # the requirements of deselected test cases are listed too, with no test case
    return {(r["test_case"], r["requirement"]): r for r in run.report["results"]
            if r["test_case"]}


def _seed(run: Run) -> str:
    assert run.report is not None
    return str(run.report["environment"]["seed"])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return bool(a == b)


@pytest.mark.parametrize("transport", ["python", "serve_stdio", "tcp"])
def test_same_verdicts_and_measured_values(runs: dict[str, Run], transport: str) -> None:
    baseline, other = _results(runs["in_process"]), _results(runs[transport])
    assert _seed(runs[transport]) == _seed(runs["in_process"])
    assert len(baseline) >= 5, runs["in_process"].output[-3000:]
    assert set(other) == set(baseline), runs[transport].output[-3000:]
    for key, expected in baseline.items():
        found = other[key]
        assert found["verdict"] == expected["verdict"] == "pass", (key, found["evidence"])
        measured = [(c["name"], c["measured"]) for c in found["criteria"]]
        wanted = [(c["name"], c["measured"]) for c in expected["criteria"]]
        assert [n for n, _ in measured] == [n for n, _ in wanted], key
        for (name, value), (_, reference) in zip(measured, wanted, strict=True):
            assert _same(value, reference), (key, name, value, reference)
    assert runs[transport].report["in_process"] is False  # type: ignore[index]
    assert runs[transport].exit_code == 1  # a partial run is never certified
