"""Exporters: every artefact generated from the spec, one module per format.

Each exporter exposes ``render(spec) -> dict[relative file name, text]`` (deterministic)
and ``dump(spec, out_dir) -> list[Path]``. :data:`EXPORTERS` names them and
:data:`CHECKED_IN` says where in the repository each one's output is checked in; the
regeneration entry (``python -m conformance.spec.exporters``), ``obsa spec export`` and the
drift test all use these two tables, so adding an exporter is one line in each.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..loader import Spec, check_spec
from ..source import ReadError
from . import (
    can_reference,
    dbc,
    metaschema,
    needs,
    openapi,
    pytyping,
    records,
    telemetry_wire,
    wire,
)


class Exporter(Protocol):
    def render(self, spec: Spec) -> dict[str, str]: ...

    def dump(self, spec: Spec, out_dir: Path) -> list[Path]: ...


class _Metaschemas:
    """The format schemas come from the models, not from a spec; adapt them to the protocol."""

    @staticmethod
    def render(spec: Spec) -> dict[str, str]:
        return dict(sorted(metaschema.render().items()))

    @staticmethod
    def dump(spec: Spec, out_dir: Path) -> list[Path]:
        return metaschema.dump(out_dir)


@dataclass(frozen=True)
class Target:
    """Where an exporter's output is checked in: a directory of the repository and the
    glob of the files in it that the exporter owns (other files there are hand-written)."""

    directory: str
    pattern: str


EXPORTERS: dict[str, Exporter] = {
    "metaschema": _Metaschemas(),
    "records": records,
    "pytyping": pytyping,
    "needs": needs,
    "wire": wire,
    "can": dbc,
    "can_reference": can_reference,
    "telemetry_wire": telemetry_wire,
    "telemetry_wire_reference": telemetry_wire.REFERENCE,
    "openapi": openapi,
}

CHECKED_IN: dict[str, Target] = {
    "metaschema": Target("schemas", "*.schema.json"),
    "records": Target("schemas/generated", "*"),
    "pytyping": Target("reference_impl", "interfaces.py"),
    "needs": Target("docs/_generated", "needs.json"),
    "wire": Target("schemas/wire", "*.schema.json"),
    "can": Target("docs/_generated/can", "obsa_*"),
    "can_reference": Target("reference_impl/can", "obsa_*"),
    "telemetry_wire": Target("schemas/telemetry", "*"),
    "telemetry_wire_reference": Target("reference_impl/connectivity", "obsa_*"),
    "openapi": Target("reference_impl/hmi", "obsa_*"),
}

REGENERATE = "python -m conformance.spec.exporters"


def repo_root() -> Path:
    """The source checkout this package lives in (where artefacts are checked in)."""
    return Path(__file__).resolve().parents[3]


def export_all(spec: Spec, out_dir: Path) -> list[Path]:
    """Write every artefact under ``out_dir``, laid out as in the repository."""
    written: list[Path] = []
    for name, exporter in EXPORTERS.items():
        written += exporter.dump(spec, out_dir / CHECKED_IN[name].directory)
    return written


def stale_files(name: str, rendered: dict[str, str], root: Path) -> list[Path]:
    """Files of exporter ``name`` checked in under ``root`` that it no longer renders."""
    target = root / CHECKED_IN[name].directory
    if not target.is_dir():
        return []
    return sorted(p for p in target.glob(CHECKED_IN[name].pattern)
                  if p.is_file() and p.name not in rendered and not p.name.startswith("."))


def drift(spec: Spec, root: Path) -> list[str]:
    """One line per checked-in file that differs from, or is missing in, the rendering."""
    problems = []
    for name, exporter in EXPORTERS.items():
        rendered = exporter.render(spec)
        target = root / CHECKED_IN[name].directory
        for file, text in rendered.items():
            path = target / file
            if not path.is_file():
                problems.append(f"{path.relative_to(root)}: missing")
            elif path.read_text(encoding="utf-8") != text:
                problems.append(f"{path.relative_to(root)}: differs from the spec")
        problems += [f"{p.relative_to(root)}: stale (no longer generated)"
                     for p in stale_files(name, rendered, root)]
    return problems


def regenerate(spec: Spec, root: Path) -> tuple[list[Path], list[Path]]:
    """Rewrite every checked-in artefact in place; remove stale ones. (changed, removed)."""
    changed: list[Path] = []
    removed: list[Path] = []
    for name, exporter in EXPORTERS.items():
        rendered = exporter.render(spec)
        for p in stale_files(name, rendered, root):
            p.unlink()
            removed.append(p)
        changed += _write_changed(rendered, root / CHECKED_IN[name].directory)
    return changed, removed


def _write_changed(rendered: dict[str, str], target: Path) -> list[Path]:
    """Write the rendered files whose text differs from what is on disk; return them."""
    changed = []
    for file, text in rendered.items():
        path = target / file
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        changed.append(path)
    return changed


def _checked_spec(path: str | Path | None, command: str) -> Spec | int:
    """The valid spec, or the exit status after printing why there is none."""
    try:
        spec, issues = check_spec(Path(path) if path is not None else None)
    except ReadError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 2
    if issues or spec is None:
        for issue in issues:
            print(issue, file=sys.stderr)
        print(f"{command}: the spec has {len(issues)} issue(s); nothing written", file=sys.stderr)
        return 1
    return spec


def run_export(path: str | None, out: Path) -> int:
    """``obsa spec export``: 0 written, 1 the spec is invalid, 2 unreadable or unwritable."""
    spec = _checked_spec(path, "obsa spec export")
    if isinstance(spec, int):
        return spec
    try:
        written = export_all(spec, Path(out))
    except OSError as exc:
        print(f"obsa spec export: cannot write to {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"obsa spec export: wrote {len(written)} files under {out} (spec {spec.version})")
    return 0


__all__ = ["CHECKED_IN", "EXPORTERS", "REGENERATE", "Exporter", "Target", "drift",
           "export_all", "regenerate", "repo_root", "run_export", "stale_files"]
