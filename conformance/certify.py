"""``obsa certify``: run the applicable conformance suite against a module, write the report.

Exit status: 0 certified (every applicable mandatory test case passed), 1 not certified,
2 refused (invalid manifest or spec) or the run could not complete.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import entry_points
from pathlib import Path

from .session import resolve_manifest
from .suite import SUITE_DIR


def _plugin_args() -> list[str]:
    """Load the plugin explicitly when the distribution's entry point is not installed."""
    if any(ep.value == "conformance.pytest_plugin" for ep in entry_points(group="pytest11")):
        return []
    return ["-p", "conformance.pytest_plugin"]


def run_certify(manifest: str, out: Path, progress: bool = True, select: str | None = None) -> int:
    import pytest

    path = resolve_manifest(manifest)
    if not path.is_file():
        print(f"obsa certify: {path}: cannot read: no such file", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    args = [
        str(SUITE_DIR),
        f"--obsa-module={path}",
        f"--obsa-report={out}",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(SUITE_DIR),
        "-c",
        str(SUITE_DIR / "pytest.ini"),
        "--no-header",
        "-q" if progress else "-qq",
        "-p",
        "no:randomly",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        *_plugin_args(),
    ]
    if select:
        args += ["-k", select]
    pytest.main(args)
    report = out / "report.json"
    try:
        outcome = json.loads(report.read_text(encoding="utf-8"))["outcome"]
    except (OSError, ValueError, KeyError):
        print(f"obsa certify: the run ended without a report in {out}", file=sys.stderr)
        return 2
    return {"certified": 0, "not-certified": 1}.get(outcome, 2)
