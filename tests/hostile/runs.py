"""Certify a module through the real CLI in a subprocess, and look at what it left behind.

Shared by the hostile catalogue and the run tests: each certification gets a fresh
``--out`` with an old *certified* report planted in it (so a run that fails to write its
own report cannot pass on another's), and a marker in its environment, so that every
process it started — the module's child process, its threads' process, its grandchildren —
can be found afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conformance.manifest import safety_core_manifest_path

ROOT = Path(__file__).resolve().parents[2]
PLANTED_RUN_ID = "planted-old-certified-report"
#: two short test cases: one with the safety supervisor in the loop, one without it
SELECTION = "test_reset_keeps_history or test_fault_latches"
SS_CASE = "OBSA-SAFE-013"
DIAG_CASE = "OBSA-DIAG-004"


@dataclass
class Run:
    exit_code: int
    report: dict[str, Any] | None
    output: str
    out: Path
    leftovers: list[str] = field(default_factory=list)

    def verdicts(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for r in (self.report or {}).get("results", []):
            out.setdefault(r["requirement"], set()).add(r["verdict"])
        return out

    def messages(self, requirement: str) -> list[str]:
        return [r["evidence"]["message"] for r in (self.report or {}).get("results", [])
                if r["requirement"] == requirement]


def manifest_for(ref: str | None, directory: Path, **adapter: Any) -> Path:
    """The reference manifest with the safety supervisor replaced by ``ref``."""
    data = yaml.safe_load(safety_core_manifest_path().read_text(encoding="utf-8"))
    if ref is not None:
        data["adapter"]["components"]["safety_supervisor"] = ref
    options = adapter.pop("options", None)
    data["adapter"].update(adapter)
    if options:
        data["adapter"]["options"] = options
    path = directory / "manifest.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def plant_old_report(out: Path) -> None:
    """A complete certified report of some earlier run, where this run will write."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps({"run_id": PLANTED_RUN_ID,
                                                 "outcome": "certified", "results": []}))


def processes_with(marker: str) -> list[str]:
    """'pid: command line' of every process whose environment or command line holds
    ``marker`` (every process a certification started inherits it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if state != "Z" and (marker.encode() in environ or marker.encode() in cmdline):
            command = cmdline.replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{entry.name}: {command[:120]}")
    return found


def certify(manifest: Path | str, out: Path, *args: str, timeout_s: float = 120,
            send: tuple[signal.Signals, float] | None = None) -> Run:
    """``python -m conformance certify MANIFEST --out OUT ARGS``; ``send`` = (signal,
    delay after the first progress line) stops it on the way."""
    marker = f"obsa-hostile-{uuid.uuid4().hex}"
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg",
               OBSA_HOSTILE_MARKER=marker)
    cmd = [sys.executable, "-m", "conformance", "certify", str(manifest), "--out", str(out),
           *args]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        if send is not None:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if line.startswith("["):  # the first test case is done: the run is under way
                    time.sleep(send[1])
                    proc.send_signal(send[0])
                    break
        rest, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        rest, _ = proc.communicate()
        lines.append(f"\n[test: killed after {timeout_s} s]\n")
    lines.append(rest or "")
    time.sleep(0.2)  # let the kernel reap what the run killed
    report_path = out / "report.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else None
    leftovers = processes_with(marker)
    for item in leftovers:  # never leave them to the next test
        try:
            os.kill(int(item.partition(":")[0]), signal.SIGKILL)
        except ProcessLookupError:
            pass
    return Run(proc.returncode, report, "".join(lines), out, leftovers)
