"""Results as data, and the report formats built from them.

``write_all(report, out_dir)`` writes report.json (the record), junit.xml (for CI) and
report.html (for people, with evidence plots drawn by the reader's browser) and returns
their paths. PNG files of the plots are an export on request (:mod:`.plots`, matplotlib).
"""

from __future__ import annotations

from pathlib import Path

from . import wall
from .html import render_html, write_html
from .json_report import read_json, render_json, write_json
from .junit import render_junit, write_junit
from .model import (
    Channel,
    CriterionResult,
    Evidence,
    ModuleInfo,
    Report,
    TestResult,
    VerdictName,
    compare,
)

MODULE_LOG = "module-stderr.log"
"""What the module wrote on stderr, kept beside the report (not part of the record)."""
REPORT_FILES = ("report.json", "junit.xml", "report.html", MODULE_LOG)
"""The files a run writes (it removes them from its directory before it starts)."""
PNG_DIR = "evidence-png"
"""The folder beside the report where ``obsa certify --png`` exports the evidence plots."""

__all__ = [
    "MODULE_LOG",
    "PNG_DIR",
    "REPORT_FILES",
    "Channel", "CriterionResult", "Evidence", "ModuleInfo", "Report", "TestResult",
    "VerdictName", "compare", "read_json", "render_html", "render_json", "render_junit",
    "write_all", "write_html", "write_json", "write_junit",
]


def write_all(report: Report, out_dir: Path | str, html: bool = True) -> list[Path]:
    """Write report.json, junit.xml and (unless ``html`` is False) report.html into
    ``out_dir``; return their paths.

    While ``obsa certify`` times its run (:mod:`.wall`), the report's ``duration_s`` becomes
    the wall time its user has waited so far, the same in every file; ``report`` itself is
    updated, so the run's summary line says it too. Each file appears complete or not at
    all (:func:`.files.write_atomic`), and report.json, the record the exit status of
    ``obsa certify`` comes from, is written last."""
    waited = wall.waited_s()
    if waited is not None:
        report.duration_s = round(waited, 3)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [write_junit(report, out / "junit.xml")]
    if html:
        written.append(write_html(report, out / "report.html"))
    return [write_json(report, out / "report.json"), *written]
