"""report.json (its schema, ``schemas/report.schema.json``, is generated from the model by
:mod:`conformance.spec.exporters.metaschema`).

The JSON report is the record of a certification: every other format (JUnit, HTML, the
certificate) can be rebuilt from it. NaN and infinities are written as null, because JSON
has no such numbers; a measured value of null means "could not be measured".
"""

from __future__ import annotations

from pathlib import Path

from .files import write_atomic
from .model import Report


def render_json(report: Report) -> str:
    """Text of report.json (non-finite numbers as null)."""
    return report.model_dump_json(indent=2) + "\n"


def write_json(report: Report, path: Path | str) -> Path:
    """Write report.json; returns its path."""
    return write_atomic(path, render_json(report))


def read_json(path: Path | str) -> Report:
    """Read a report.json back into the model (e.g. to re-render HTML)."""
    return Report.model_validate_json(Path(path).read_text(encoding="utf-8"))
