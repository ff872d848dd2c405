"""Build broken copies of the spec and run the validator on them.

Broken specs are made by copying the real ``spec/`` and applying small textual edits,
so that the fixtures follow the spec as it grows; an edit whose text is gone fails
loudly instead of silently testing nothing.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from conformance.paths import spec_dir
from conformance.spec.validate import run_validate

SPEC_DIR = spec_dir()
_ISSUE_LINE = re.compile(
    r"^(?P<file>[^:\s]+?)(?::(?P<line>\d+))?: (?P<field>[^:]*): (?P<message>.*)$"
)


@dataclass(frozen=True)
class Edit:
    """Replace the first ``old`` after ``after`` in ``file``; ``old=None`` creates the file."""

    file: str
    old: str | None
    new: str
    after: str | None = None


@dataclass(frozen=True)
class Printed:
    """One issue as ``obsa spec validate`` printed it."""

    file: str
    line: int | None
    field: str
    message: str


def copy_spec(tmp_path: Path) -> Path:
    root = tmp_path / "spec"
    shutil.copytree(SPEC_DIR, root)
    return root


def _start(text: str, after: str | None, file: str) -> int:
    if after is None:
        return 0
    i = text.find(after)
    assert i >= 0, f"{file}: anchor {after!r} not found; update the fixture table"
    return i + len(after)


def apply(root: Path, edit: Edit) -> None:
    path = root / edit.file
    if edit.old is None:
        path.write_text(edit.new, encoding="utf-8")
        return
    text = path.read_text(encoding="utf-8")
    start = _start(text, edit.after, edit.file)
    i = text.find(edit.old, start)
    assert i >= 0, f"{edit.file}: {edit.old!r} not found (after {edit.after!r}); update the table"
    path.write_text(text[:i] + edit.new + text[i + len(edit.old):], encoding="utf-8")


def line_of(root: Path, file: str, needle: str, after: str | None = None) -> int:
    """1-based line of the first ``needle`` after ``after`` in a (possibly edited) file."""
    text = (root / file).read_text(encoding="utf-8")
    i = text.find(needle, _start(text, after, file))
    assert i >= 0, f"{file}: {needle!r} not found (after {after!r})"
    return text.count("\n", 0, i) + 1


def validate(path: Path | str | None, quiet: bool = False) -> tuple[int, str, str]:
    """Run ``obsa spec validate`` in-process: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_validate(None if path is None else str(path), quiet=quiet)
    return code, out.getvalue(), err.getvalue()


def printed_issues(stdout: str) -> list[Printed]:
    """Parse ``file:line: field: message`` lines; the summary line is skipped."""
    out = []
    for raw in stdout.splitlines():
        m = _ISSUE_LINE.match(raw)
        if m and m["file"].endswith(".yaml"):
            line = int(m["line"]) if m["line"] else None
            field = "" if m["field"] == "<document>" else m["field"]
            out.append(Printed(m["file"], line, field, m["message"]))
    return out


def generic(field: str) -> str:
    """``requirements[3].acceptance[0].unit`` → ``requirements[*].acceptance[*].unit``."""
    return re.sub(r"\[\d+\]", "[*]", field)


def billion_laughs(levels: int, fan_out: int = 9, prefix: str = "a") -> str:
    """The classic alias bomb: ``fan_out ** levels`` strings from a few hundred bytes."""
    lines = [f"{prefix}0: &{prefix}0 [" + ", ".join(["lol"] * fan_out) + "]"]
    for i in range(1, levels + 1):
        refs = ", ".join([f"*{prefix}{i - 1}"] * fan_out)
        lines.append(f"{prefix}{i}: &{prefix}{i} [{refs}]")
    return "\n".join(lines) + "\n"
