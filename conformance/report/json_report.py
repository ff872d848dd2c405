"""report.json and its schema (``schemas/report.schema.json``, generated from the model).

The JSON report is the record of a certification: every other format (JUnit, HTML, the
certificate) can be rebuilt from it. NaN and infinities are written as null, because JSON
has no such numbers; a measured value of null means "could not be measured".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..paths import schemas_dir
from .model import Report

DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_FILE = "report.schema.json"


def schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of report.json, from :class:`Report`."""
    return {
        "$schema": DIALECT,
        "$id": f"https://obsa.dev/schemas/{SCHEMA_FILE}",
        **Report.model_json_schema(mode="serialization"),
    }


def render_schema() -> str:
    """Canonical text of the schema file (sorted keys, indent 2, trailing newline)."""
    return json.dumps(schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def dump_schema(out_dir: Path | None = None) -> Path:
    """Regenerate ``report.schema.json`` (default: the project's ``schemas/``)."""
    path = (out_dir or schemas_dir()) / SCHEMA_FILE
    path.write_text(render_schema(), encoding="utf-8", newline="\n")
    return path


def render_json(report: Report) -> str:
    """Text of report.json (non-finite numbers as null)."""
    return report.model_dump_json(indent=2) + "\n"


def write_json(report: Report, path: Path | str) -> Path:
    """Write report.json; returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_json(report), encoding="utf-8", newline="\n")
    return path


def read_json(path: Path | str) -> Report:
    """Read a report.json back into the model (e.g. to re-render HTML)."""
    return Report.model_validate_json(Path(path).read_text(encoding="utf-8"))
