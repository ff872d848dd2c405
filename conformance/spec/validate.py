"""Semantic checks across spec files (filled in below)."""

from __future__ import annotations

from .loader import Spec
from .source import Issue


def semantic_issues(spec: Spec) -> list[Issue]:
    return []
