"""Meta-schemas of the spec file kinds, generated from :mod:`conformance.spec.models`.

They are the published, language-neutral form of the spec format (draft 2020-12);
the loader validates every file against them before building models.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..models import KINDS

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_of(kind: str) -> dict:
    schema = KINDS[kind].model_json_schema(mode="validation")
    return {
        "$schema": DIALECT,
        "$id": f"https://obsa.dev/schemas/spec-{kind}.schema.json",
        **schema,
    }


def render() -> dict[str, str]:
    """File name → text of every meta-schema."""
    return {
        f"spec-{kind}.schema.json": json.dumps(schema_of(kind), indent=2, sort_keys=True) + "\n"
        for kind in KINDS
    }


def dump(out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in render().items():
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
