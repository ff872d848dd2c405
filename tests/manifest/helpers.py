"""Broken copies of the reference manifest, made by small textual edits.

The edits apply to ``reference_impl/manifest.yaml`` so the fixtures follow it as it grows;
an edit whose text is gone fails loudly instead of silently testing nothing.
"""

from __future__ import annotations

from pathlib import Path

from conformance.manifest import safety_core_manifest_path

REFERENCE_TEXT = safety_core_manifest_path().read_text(encoding="utf-8")


def line_of(text: str, fragment: str) -> int:
    """1-based line of the first line containing ``fragment``."""
    for i, line in enumerate(text.splitlines(), start=1):
        if fragment in line:
            return i
    raise AssertionError(f"{fragment!r} not in the manifest")


def edited(tmp_path: Path, old: str, new: str, name: str = "manifest.yaml") -> Path:
    """Write the reference manifest with ``old`` replaced by ``new`` (once)."""
    assert old in REFERENCE_TEXT, f"fixture text {old!r} is gone from the reference manifest"
    path = tmp_path / name
    path.write_text(REFERENCE_TEXT.replace(old, new, 1), encoding="utf-8")
    return path
