"""A correct-but-different safety core must be certified (DESIGN.md §5).

``examples/independent_core`` was written from the spec alone, with another design than the
reference implementation (table-driven supervisor with leaky violation integrators, a
transition-table contactor manager, an event-log fault memory). If the suite rejects it,
the suite encodes a quirk of the reference, or the example breaks the spec: either way the
failing requirement in the output says where to look.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "examples" / "independent_core" / "manifest.yaml"


def test_independent_core_is_certified(tmp_path: Path) -> None:
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    proc = subprocess.run(
        [sys.executable, "-m", "conformance", "certify", str(MANIFEST), "--out", str(out),
         "--no-progress"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = (proc.stdout + proc.stderr)[-3000:]
    assert proc.returncode == 0, output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["outcome"] == "certified", output
    assert report["results"], "the certification ran no test case"
    not_passed = {r["requirement"]: r["verdict"] for r in report["results"]
                  if r["verdict"] != "pass"}
    assert not not_passed, f"not passed: {not_passed}\n{output}"
