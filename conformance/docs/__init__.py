"""The published standard: a Sphinx extension that renders ``spec/`` into pages at build
time, and :func:`build`, the ``obsa docs build`` command.

When the builder starts (``builder-inited``), the extension loads the spec with
:func:`load_spec`, renders every generated page (:mod:`.pages`) into ``generated/`` inside
the docs sources, copies the schemas there for download, and reports every breach of the
catalogue's rules (:mod:`.check`) as a Sphinx warning, so that ``-W`` fails the build. The
hand-written pages (overview, guides) only link to the generated ones.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from .runner import DocsUnavailable, build

__all__ = ["DocsUnavailable", "build", "setup"]


def _write(root: Path, files: dict[str, str]) -> None:
    """Write the pages; a page whose text did not change keeps its time stamp, so that an
    incremental build reads only what changed."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")


def generate(srcdir: Path) -> list[str]:
    """Render every generated page into ``srcdir/generated``; the breaches of the rules."""
    from ..paths import schemas_dir
    from ..spec import load_spec
    from . import check
    from .pages import GENERATED, Pages

    spec = load_spec()
    out = srcdir / GENERATED
    _write(out, Pages(spec, schemas_dir()).render())
    downloads = out / "_downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    for src in sorted(schemas_dir().rglob("*.json")):
        dst = downloads / src.relative_to(schemas_dir())
        dst.parent.mkdir(parents=True, exist_ok=True)
        if not dst.exists() or dst.read_bytes() != src.read_bytes():
            shutil.copyfile(src, dst)
    return check.problems(spec)


def _builder_inited(app: Any) -> None:
    from sphinx.util import logging

    log = logging.getLogger(__name__)
    for problem in generate(Path(app.srcdir)):
        log.warning("OBSA catalogue: %s", problem, type="obsa", subtype="catalogue")


def setup(app: Any) -> dict[str, Any]:
    app.connect("builder-inited", _builder_inited)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
