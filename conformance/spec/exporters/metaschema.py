"""JSON Schemas of OBSA's file formats, generated from their pydantic models.

- ``spec-<kind>.schema.json``: every kind of spec file (:mod:`conformance.spec.models`);
  the loader validates every spec file against them before building models;
- ``manifest.schema.json``: the module manifest (:mod:`conformance.manifest.model`);
- ``report.schema.json``: report.json (:mod:`conformance.report.model`).

They are the published, language-neutral form of these formats (draft 2020-12), checked in
under ``schemas/`` and checked for drift like every generated artefact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from ..models import KINDS
from ._files import json_text, write_files

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def model_schema(model: type[BaseModel], file_name: str,
                 mode: Literal["validation", "serialization"] = "validation") -> dict[str, Any]:
    """The JSON Schema document of ``model``, published as ``schemas/<file_name>``."""
    return {
        "$schema": DIALECT,
        "$id": f"https://obsa.dev/schemas/{file_name}",
        **model.model_json_schema(mode=mode),
    }


def schema_of(kind: str) -> dict[str, Any]:
    """Meta-schema of one kind of spec file."""
    return model_schema(KINDS[kind], f"spec-{kind}.schema.json")


def _documents() -> dict[str, dict[str, Any]]:
    from ...manifest.model import Manifest
    from ...report.model import Report

    docs = {f"spec-{kind}.schema.json": schema_of(kind) for kind in KINDS}
    docs["manifest.schema.json"] = model_schema(Manifest, "manifest.schema.json")
    # report.json is written by the toolkit: its schema describes what is serialised
    docs["report.schema.json"] = model_schema(Report, "report.schema.json", "serialization")
    return docs


def render() -> dict[str, str]:
    """File name → text of every model-derived schema."""
    return {name: json_text(doc) for name, doc in sorted(_documents().items())}


def dump(out_dir: Path) -> list[Path]:
    return write_files(render(), out_dir)
