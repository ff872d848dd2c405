"""``obsa manifest check``: every check ``obsa certify`` makes of a manifest before it runs
a test case (schema, spec version, profiles, features, pack, adapter, parameter ranges,
limit ordering, consistency), and nothing run: the module is not started."""

from __future__ import annotations

import json
from pathlib import Path

from ..manifest import load_manifest, resolve_manifest
from ..spec.loader import Spec
from ..spec.source import Issue


def resolve(arg: str) -> Path:
    """'reference' names the reference implementation's manifest, as for ``obsa certify``."""
    return resolve_manifest(arg)


def check_file(path: Path, spec: Spec) -> list[Issue]:
    """Every reason ``obsa certify`` would refuse the manifest at ``path``; empty when it
    would test it. A file that cannot be read is an issue too."""
    if path.is_dir():
        return [Issue(str(path), None, "", "expected a manifest file, found a directory")]
    _manifest, issues = load_manifest(path, spec)
    return issues


def issues_json(issues: list[Issue]) -> str:
    """The issues as a JSON list of {file, line, field, message}."""
    return json.dumps([{"file": i.file, "line": i.line, "field": i.field, "message": i.message}
                       for i in issues], indent=2, ensure_ascii=False)
