"""Small reStructuredText writers for the generated pages: escaped text, headings, tables.

Every text of the spec goes through :func:`esc`: a spec sentence may hold ``|x − y|``,
``*``, backquotes or a word ending in ``_``, which reStructuredText would read as markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_SPECIAL = re.compile(r"([\\`*_|\[\]<>])")


def one_line(text: str) -> str:
    """The text with its line breaks and runs of blanks folded into single spaces."""
    return " ".join(str(text).split())


def esc(text: object) -> str:
    """Plain text, safe anywhere inline (markup characters escaped)."""
    return _SPECIAL.sub(r"\\\1", one_line(str(text)))


_LITERAL = re.compile(r"``(.+?)``")
_ROLE = re.compile(r":[a-z]+:`~?([^`]+)`")


def esc_doc(text: object) -> str:
    """A docstring's text: its ````literals```` and ``:role:`targets``` (which point into
    the code, not into these pages) as literals, the rest escaped."""
    text = _ROLE.sub(r"``\1``", one_line(str(text)))
    parts = _LITERAL.split(text)
    return "".join(lit(p) if i % 2 else _SPECIAL.sub(r"\\\1", p) for i, p in enumerate(parts))


def lit(text: object) -> str:
    """Inline literal (``code``)."""
    value = one_line(str(text))
    return f"``{value}``" if value else ""


def heading(title: str, char: str = "=", over: bool = False) -> str:
    line = char * max(len(title), 3)
    return f"{line}\n{title}\n{line}\n" if over else f"{title}\n{line}\n"


def indent(text: str, spaces: int = 3) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line.strip() else "" for line in text.splitlines())


def table(header: Sequence[str], rows: Iterable[Sequence[str]], *, widths: Sequence[int] = (),
          title: str = "", cls: str = "") -> str:
    """A ``list-table``; cells are reStructuredText already (escape them with :func:`esc`).

    An empty table renders as an empty string: docutils refuses a table without rows."""
    body = [list(r) for r in rows]
    if not body:
        return ""
    out = [f".. list-table:: {title}".rstrip()]
    if any(header):
        out.append("   :header-rows: 1")
    if widths:
        out.append(f"   :widths: {' '.join(str(w) for w in widths)}")
    if cls:
        out.append(f"   :class: {cls}")
    out.append("")
    for row in [list(header), *body] if any(header) else body:
        if len(row) != len(header):
            raise ValueError(f"a row of {len(row)} cells in a table of {len(header)} columns")
        for i, cell in enumerate(row):
            lines = str(cell).splitlines() or [""]
            first, rest = lines[0], lines[1:]
            out.append(f"   {'* -' if i == 0 else '  -'} {first}".rstrip())
            out.extend(f"       {line}".rstrip() for line in rest)
    return "\n".join(out) + "\n"


def bullets(items: Iterable[str]) -> str:
    return "\n".join(f"- {item}" for item in items) + "\n"


def slug(text: str) -> str:
    """A label: lower case, runs of other characters as one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def number(value: float | int | bool | str | None) -> str:
    """``1.0`` → ``1``, ``0.005`` → ``0.005``; None → empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
