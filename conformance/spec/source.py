"""Reading YAML while remembering where every value came from.

Every error the toolkit reports about a spec file or a manifest names the file, the
line and the field; this module keeps the line of every mapping key and sequence item.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Issue:
    """One problem found in an input file, phrased for a person."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field or '<document>'}: {self.message}"


class ReadError(Exception):
    """A file could not be read at all (missing, unreadable): exit status 2."""


@dataclass
class Located:
    """A parsed YAML document plus the line of every path inside it."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line(self, path: PathKey) -> int | None:
        """Line of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), 1)


def dotted(path: PathKey) -> str:
    """``('requirements', 3, 'id')`` → ``requirements[3].id``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# libyaml's parser is ~3× faster than the pure-Python one and keeps the same marks
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    pass


def _construct(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], loader: _Loader) -> Any:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str):
                key = str(key)
            if key in out:
                raise yaml.MarkedYAMLError(
                    problem=f"duplicate key '{key}'", problem_mark=key_node.start_mark
                )
            lines[path + (key,)] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, path + (key,), lines, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, path + (i,), lines, loader) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def parse_yaml(text: str, file: str) -> Located:
    """Parse one YAML document; syntax errors become an :class:`Issue` list via YAMLSyntax."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        lines: dict[PathKey, int] = {}
        data = _construct(node, (), lines, loader) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YAMLSyntax(Issue(file, line, "", f"not valid YAML: {exc.problem}")) from None
    except yaml.YAMLError as exc:
        raise YAMLSyntax(Issue(file, None, "", f"not valid YAML: {exc}")) from None
    finally:
        loader.dispose()
    return Located(file=file, data=data, lines=lines)


class YAMLSyntax(Exception):
    def __init__(self, issue: Issue) -> None:
        super().__init__(str(issue))
        self.issue = issue


def read_yaml(path: Path, display: str | None = None) -> Located:
    """Read and parse a YAML file; raises :class:`ReadError` or :class:`YAMLSyntax`."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else exc
        raise ReadError(f"{name}: cannot read: {reason}") from None
    return parse_yaml(text, name)
