"""The module manifest (PICS + PIXIT): read it, check it against the spec, refuse early.

Usage::

    manifest, issues = load_manifest(path, spec)   # structure + every check of the spec
    if issues:
        ...refuse, print the issues (each names file:line, field, expected vs found)
    params = manifest.effective_parameters(spec, "safety_supervisor")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..spec.loader import Spec, schema_issues
from ..spec.source import Issue, Located, ReadError, YAMLSyntax, dotted, read_yaml
from .check import check_manifest, compatible, value_problem
from .model import Manifest, attach_source
from .schema import validator

__all__ = [
    "Manifest",
    "check_manifest",
    "compatible",
    "load_manifest",
    "read_manifest",
    "reference_manifest_path",
    "resolve_manifest",
    "safety_core_manifest_path",
    "value_problem",
]


def reference_manifest_path() -> Path:
    """The reference implementation's manifest: the whole BMS, claiming every profile the
    reference implements (``reference_impl/manifest_full_bms.yaml``); what ``reference``
    names on the command line."""
    return Path(__file__).resolve().parents[2] / "reference_impl" / "manifest_full_bms.yaml"


def safety_core_manifest_path() -> Path:
    """The reference's BMU safety core alone (``reference_impl/manifest.yaml``: the three
    components of ``bmu_safety_core``), the base of most derived manifests in the tests."""
    return Path(__file__).resolve().parents[2] / "reference_impl" / "manifest.yaml"


def resolve_manifest(arg: str | Path) -> Path:
    """``reference`` names the reference implementation's manifest; anything else is a path."""
    return reference_manifest_path() if str(arg) == "reference" else Path(arg)


def read_manifest(path: Path | str) -> tuple[Manifest | None, list[Issue]]:
    """Read a manifest and check its structure only (JSON Schema, then the model)."""
    shown = str(path)
    try:
        doc = read_yaml(Path(path), shown)
    except ReadError as exc:
        return None, [Issue(shown, None, "", str(exc).removeprefix(f"{shown}: "))]
    except YAMLSyntax as exc:
        return None, exc.issues
    if not isinstance(doc.data, dict):
        return None, [Issue(shown, 1, "", "expected a mapping (a module manifest), "
                                         f"found {type(doc.data).__name__}")]
    issues = _schema_issues(doc)
    if issues:
        return None, issues
    try:
        manifest = Manifest.model_validate(doc.data)
    except ValidationError as exc:  # rules the JSON Schema cannot state (e.g. key patterns)
        return None, [_pydantic_issue(doc, e) for e in exc.errors()]
    return attach_source(manifest, shown, doc), []


def load_manifest(
    path: Path | str, spec: Spec | None = None
) -> tuple[Manifest | None, list[Issue]]:
    """Read a manifest; with ``spec``, also run :func:`check_manifest`.

    Returns the manifest (None when its structure is broken) and every issue found; a
    non-empty list means the module must be refused. A file that cannot be read is an
    issue too, not an exception.
    """
    try:
        manifest, issues = read_manifest(path)
        if manifest is not None and spec is not None:
            issues = issues + check_manifest(manifest, spec)
    except Exception as exc:  # a bug in a check: still refuse, name the file, no traceback
        return None, [Issue(str(path), 1, "", "internal error while checking this manifest: "
                                              f"{type(exc).__name__}: {str(exc)[:200]}")]
    return manifest, issues


def _schema_issues(doc: Located) -> list[Issue]:
    return schema_issues(doc, validator())


def _pydantic_issue(doc: Located, err: Any) -> Issue:
    path = tuple(p for p in err["loc"] if p != "[key]")
    return Issue(doc.file, doc.line(path), dotted(path), err["msg"].removeprefix("Value error, "))
