"""The vendor's tools on the command line, next to ``obsa certify``: scaffold and check a
manifest (:mod:`.manifest_init`, :mod:`.manifest_check`), look up requirements and what
verifies them (:mod:`.requirements`), read and compare reports (:mod:`.reports`).

Every tool raises :class:`ToolError` for bad input (an unknown profile or requirement, a
file that cannot be read); the command line prints its message on one line and exits 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..spec.loader import Spec

__all__ = ["ToolError", "load_bundled_spec", "tool_version", "version_lines"]


class ToolError(Exception):
    """Bad input to a tool: one line for the user, exit status 2."""


def load_bundled_spec(root: str | Path | None = None) -> Spec:
    """The spec, or :class:`ToolError` with the first problem when it cannot be loaded."""
    from ..spec.loader import SpecError, load_spec
    from ..spec.source import ReadError

    try:
        return load_spec(root)
    except SpecError as exc:
        first = exc.issues[0] if exc.issues else "unknown problem"
        raise ToolError(f"the spec is invalid ({len(exc.issues)} problems): {first}") from exc
    except ReadError as exc:
        raise ToolError(f"the spec cannot be read: {exc}") from exc


def tool_version() -> str:
    """The installed version of the ``obsa`` distribution ('unknown' from a bare checkout)."""
    try:
        from importlib.metadata import PackageNotFoundError, version
    except ImportError:  # pragma: no cover
        return "unknown"
    try:
        return version("obsa")
    except PackageNotFoundError:
        return "unknown"


def version_lines() -> list[str]:
    """What ``obsa --version`` prints: the tool, the spec it holds, the report format."""
    from ..report.model import Report

    report_format = Report.model_fields["obsa_report"].default
    try:
        spec_version = load_bundled_spec().version
    except ToolError as exc:
        spec_version = f"unavailable ({exc})"
    return [f"obsa {tool_version()}",
            f"spec {spec_version}",
            f"report format {report_format}"]
