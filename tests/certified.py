"""Certify a module through the real command line and require the certificate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def assert_certified(manifest: Path | str, out: Path, *extra: str,
                     timeout_s: float = 900) -> dict[str, Any]:
    """``obsa certify MANIFEST --out OUT EXTRA`` in a fresh process must exit 0 with every
    test case passed, or not applicable saying why (a case with nothing to judge on this
    module, e.g. one that needs components the module does not have); the report."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "certify", str(manifest), "--out", str(out),
         "--no-progress", *extra], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=timeout_s)
    output = (proc.stdout + proc.stderr)[-3000:]
    assert proc.returncode == 0, output
    report: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["outcome"] == "certified", output
    assert report["results"], "the certification ran no test case"
    not_passed = {r["requirement"]: r["verdict"] for r in report["results"]
                  if r["verdict"] != "pass" and not (
                      r["verdict"] == "not-applicable" and r["evidence"]["message"])}
    assert not not_passed, f"not passed: {not_passed}\n{output}"
    return report
