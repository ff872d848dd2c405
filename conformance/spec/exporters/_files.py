"""What every exporter shares: deterministic text and writing a rendered file set.

Generated artefacts are checked in and compared byte for byte, so every exporter renders
text the same way on every machine: sorted keys, two-space indent, UTF-8, one trailing
newline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def json_text(data: Any) -> str:
    """Canonical JSON text of ``data`` (sorted keys, indent 2, trailing newline)."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_files(files: dict[str, str], out_dir: Path) -> list[Path]:
    """Write ``files`` (relative name → text) under ``out_dir``; return the paths written."""
    written = []
    for name in sorted(files):
        path = out_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(files[name], encoding="utf-8", newline="\n")
        written.append(path)
    return written
