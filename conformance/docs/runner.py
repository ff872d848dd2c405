"""``obsa docs build``: the published standard as HTML, warnings as errors.

The docs sources (:func:`docs_dir`: ``docs/`` in a checkout, ``conformance/_data/docs`` in a
wheel) are copied into a scratch directory first: the build writes its generated pages next
to the hand-written ones, and an installed package's files may be read-only.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
import time
from pathlib import Path

from ..paths import docs_dir

#: what the build needs besides Sphinx itself (the ``docs`` extra)
REQUIRED = ("sphinx", "sphinx_needs", "myst_parser")
#: never copied from the sources: earlier builds' output and generated pages
IGNORE = ("_build", "generated", "__pycache__", ".doctrees")


class DocsUnavailable(Exception):
    """The docs cannot be built here: a package is missing or the sources are not found."""


def missing_packages() -> list[str]:
    return [name for name in REQUIRED if importlib.util.find_spec(name) is None]


def build(out: Path, *, source: Path | None = None, quiet: bool = True,
          builder: str = "html") -> int:
    """Build the docs into ``out`` with ``-W --keep-going``; Sphinx's exit status.

    Raises :class:`DocsUnavailable` when Sphinx or an extension is not installed or when
    there are no docs sources."""
    missing = missing_packages()
    if missing:
        raise DocsUnavailable(
            f"cannot build the docs: {', '.join(missing)} not installed "
            "(pip install 'obsa[docs]')")
    src = Path(source) if source is not None else docs_dir()
    if not (src / "conf.py").is_file():
        raise DocsUnavailable(f"cannot build the docs: no conf.py in {src}")
    from sphinx.cmd.build import build_main

    out = Path(out).resolve()
    with tempfile.TemporaryDirectory(prefix="obsa-docs-") as tmp:
        staged = Path(tmp) / "docs"
        shutil.copytree(src, staged, ignore=shutil.ignore_patterns(*IGNORE))
        args = ["-b", builder, "-W", "--keep-going", "-d", str(Path(tmp) / "doctrees"),
                str(staged), str(out)]
        if quiet:
            args.insert(0, "-q")
        started = time.perf_counter()
        code = build_main(args)
        if not quiet:
            print(f"obsa docs build: {time.perf_counter() - started:.1f} s")
    return int(code)
