"""report.json (its schema, ``schemas/report.schema.json``, is generated from the model by
:mod:`conformance.spec.exporters.metaschema`).

The JSON report is the record of a certification: every other format (JUnit, HTML, the
certificate) can be rebuilt from it. NaN and infinities are written as null, because JSON
has no such numbers; a measured value of null means "could not be measured".

The record is indented for people, except the evidence's sample arrays: each is one line,
its numbers at the resolution they carry (:mod:`.samples`), so the file stays a few MB.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from .files import write_atomic
from .model import Evidence, Report
from .samples import times_array, values_array

_SAMPLES = {"results": {"__all__": {"evidence": {"t_s", "channels"}}}}
"""The sample arrays, left out of the model's own dump and written by :func:`evidence_data`."""


def evidence_data(evidence: Evidence, message: str | None = None) -> dict[str, Any]:
    """The evidence as report.json carries it (sample arrays compact and rounded)."""
    data: dict[str, Any] = {
        "message": evidence.message if message is None else message,
        "t_s": times_array(evidence.t_s),
        "channels": [{"name": ch.name, "unit": ch.unit, "values": values_array(ch.values)}
                     for ch in evidence.channels],
        "events": dict(evidence.events),
    }
    if evidence.vector:  # a vector replay's: which vector, and the sensor errors drawn
        data["vector"] = evidence.vector
        data["sensor_errors"] = (evidence.sensor_errors.model_dump(mode="json")
                                 if evidence.sensor_errors is not None else None)
    return data


def report_data(report: Report) -> dict[str, Any]:
    """The report as report.json carries it, ready for :func:`orjson.dumps`."""
    data = report.model_dump(mode="json", exclude=_SAMPLES)
    for result, out in zip(report.results, data["results"], strict=True):
        out["evidence"] = evidence_data(result.evidence, out["evidence"]["message"])
    return data


def render_json(report: Report) -> str:
    """Text of report.json (non-finite numbers as null)."""
    return orjson.dumps(report_data(report), option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"


def write_json(report: Report, path: Path | str) -> Path:
    """Write report.json; returns its path."""
    return write_atomic(path, render_json(report))


def read_json(path: Path | str) -> Report:
    """Read a report.json back into the model (e.g. to re-render HTML)."""
    return Report.model_validate_json(Path(path).read_text(encoding="utf-8"))
