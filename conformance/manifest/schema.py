"""``schemas/manifest.schema.json``: the published form of the manifest format.

Generated from :class:`conformance.manifest.model.Manifest`; a test fails when the
checked-in file drifts. :func:`conformance.manifest.load_manifest` validates every manifest
against this schema before building the model, so the first errors a vendor sees are the
same ones any JSON Schema tool would report.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

from ..paths import schemas_dir
from .model import Manifest

DIALECT = "https://json-schema.org/draft/2020-12/schema"
FILE_NAME = "manifest.schema.json"


def schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a module manifest."""
    return {
        "$schema": DIALECT,
        "$id": f"https://obsa.dev/schemas/{FILE_NAME}",
        **Manifest.model_json_schema(mode="validation"),
    }


def render() -> str:
    """Canonical text of the schema file (sorted keys, indent 2, trailing newline)."""
    return json.dumps(schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def dump(out_dir: Path | None = None) -> Path:
    """Regenerate the schema file (default: the project's ``schemas/``)."""
    path = (out_dir or schemas_dir()) / FILE_NAME
    path.write_text(render(), encoding="utf-8", newline="\n")
    return path


@functools.lru_cache(maxsize=1)
def validator() -> jsonschema.protocols.Validator:
    """Validator of the checked-in schema (falls back to the model's when it is missing)."""
    path = schemas_dir() / FILE_NAME
    data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else schema()
    return jsonschema.Draft202012Validator(data)


if __name__ == "__main__":
    print(dump())
