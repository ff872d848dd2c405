"""Where the standard's files live: next to the package in a source checkout,
or inside it (``conformance/_data``) in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def data_root() -> Path:
    bundled = _PKG / "_data"
    return bundled if (bundled / "spec").is_dir() else _PKG.parent


def spec_dir() -> Path:
    return data_root() / "spec"


def schemas_dir() -> Path:
    return data_root() / "schemas"


def features_dir() -> Path:
    """The Gherkin suite: feature files, ``environment.py`` and ``steps/``."""
    return data_root() / "features"


def docs_dir() -> Path:
    """The sources of the published standard: ``conf.py``, the hand-written pages and
    guides; the rest is generated from the spec at build time (:mod:`conformance.docs`)."""
    return data_root() / "docs"


def vectors_dir() -> Path:
    """The state-estimation test vectors (``obsa-vector/1``, :mod:`conformance.vectors.format`)
    and the cell characterizations they name."""
    return data_root() / "vectors"
