"""Reading YAML while remembering where every value came from — and refusing hostile files.

Every error the toolkit reports about a spec file or a manifest names the file, the
line and the field; this module keeps the line of every mapping key and sequence item.

It is also the one gate every YAML input passes (the spec files and the module manifest):
a file someone else wrote must never hang or crash the tool. The document is built from
the parser's event stream, without recursion, under the bounds of :class:`Limits` — file
size, nesting depth, number of values, length of one value — and refuses what a plain
data file never needs: aliases (a few lines of them expand to billions of values, or
to a value that contains itself), tags other than the standard scalar ones, merge keys,
keys that are not scalars, and non-finite numbers. Each refusal is an :class:`Issue`
with the line and field, raised before anything is expanded.
"""

from __future__ import annotations

import math
import re
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


@dataclass(frozen=True)
class Limits:
    """Bounds on one YAML file. Each is far above what a real spec file or manifest needs
    (measured on spec/ 0.2.0: the largest file has 28 kB, the most values 1 882 (keys,
    values and collections), the deepest nesting 5 levels, the longest text 1 378
    characters; a manifest has 3 kB), and low enough that the worst file inside them is
    refused in a fraction of a second (benchmarks/hostile_yaml.py)."""

    max_bytes: int = 1024 * 1024
    max_depth: int = 32
    max_values: int = 50_000
    max_text_chars: int = 64 * 1024
    max_key_chars: int = 256  # keys are names; every message about a value quotes its key


LIMITS = Limits()


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


class YAMLSyntax(Exception):
    """The file is not a YAML document this toolkit accepts; ``issues`` says why, located."""

    def __init__(self, issue: Issue | list[Issue]) -> None:
        issues = issue if isinstance(issue, list) else [issue]
        super().__init__("\n".join(str(i) for i in issues))
        self.issues = issues
        self.issue = issues[0]


# libyaml's parser is ~3× faster than the pure-Python one and keeps the same marks
_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc, valid-type]
    pass


# YAML 1.1 reads 1e-3 and 5e3 as text (its floats need a dot and a signed exponent); a
# manifest author means the number, as YAML 1.2 and JSON do. Only this loader is changed.
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


_TAG = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null")}
_COLLECTION_TAGS = {None, "!", _TAG + "map", _TAG + "seq"}
# YAML 1.1 has dates; a spec file or manifest has no date field, so a date stays the text
# the author wrote (a version "2024-01-01" must not turn into a date object).
_TEXT_TAGS = {_TAG + "timestamp"}
_INT_BOUND = 2**63
# characters YAML allows in a stream (YAML 1.1 §5.1, as libyaml checks them)
_NOT_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


class _Refused(Exception):
    def __init__(self, mark: Any, path: PathKey, message: str) -> None:
        super().__init__(message)
        self.line = mark.line + 1 if mark is not None else None
        self.path = path
        self.message = message


@dataclass
class _Frame:
    container: dict[str, Any] | list[Any]
    path: PathKey
    key: str | None = None  # a mapping's key whose value comes next


class _Builder:
    """Builds the document from parser events: an explicit stack, no recursion."""

    def __init__(self, loader: _Loader, limits: Limits) -> None:
        self.loader = loader
        self.limits = limits
        self.lines: dict[PathKey, int] = {}
        self.values = 0
        self.nonfinite: list[tuple[int, PathKey, str]] = []

    def document(self) -> Any:
        get, check = self.loader.get_event, self.loader.check_event
        get()  # stream start
        if check(yaml.StreamEndEvent):
            return None
        get()  # document start
        root = self._root()
        get()  # document end
        if not check(yaml.StreamEndEvent):
            raise _Refused(get().start_mark, (), "expected a single YAML document, found another "
                                                  "('---' starts a second one)")
        return root

    def _root(self) -> Any:
        stack: list[_Frame] = []
        root: Any = None
        while True:
            event = self.loader.get_event()
            if isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                if not stack:
                    return root
                continue
            top = stack[-1] if stack else None
            if isinstance(top, _Frame) and isinstance(top.container, dict) and top.key is None:
                top.key = self._key(event, top)
                continue
            if top is None:
                path: PathKey = ()
            elif isinstance(top.container, list):
                path = top.path + (len(top.container),)
            else:
                path = top.path + (top.key,)  # type: ignore[operator]
            value = self._value(event, path, len(stack))
            if top is None:
                root = value
            elif isinstance(top.container, list):
                top.container.append(value)
            else:
                top.container[top.key] = value  # type: ignore[index]
                top.key = None
            if isinstance(value, (dict, list)):
                stack.append(_Frame(value, path))
            elif top is None:
                return root

    def _count(self, event: Any, path: PathKey) -> None:
        self.values += 1
        if self.values > self.limits.max_values:
            raise _Refused(event.start_mark, path,
                           f"expected at most {self.limits.max_values} values in one file, "
                           "found more")

    def _key(self, event: Any, frame: _Frame) -> str:
        if not isinstance(event, yaml.ScalarEvent):
            kind = "an alias" if isinstance(event, yaml.AliasEvent) else "a mapping or list"
            raise _Refused(event.start_mark, frame.path, f"expected a text key, found {kind}")
        self._count(event, frame.path)
        if len(event.value) > self.limits.max_key_chars:
            raise _Refused(event.start_mark, frame.path,
                           f"expected a key of at most {self.limits.max_key_chars} characters, "
                           f"found {len(event.value)}")
        key = self._scalar(event, frame.path)
        if key == "<<" and self._tag(event) == _TAG + "merge":
            raise _Refused(event.start_mark, frame.path,
                           "expected every key written out, found a merge key '<<'")
        key = key if isinstance(key, str) else str(key)
        assert isinstance(frame.container, dict)
        path = frame.path + (key,)
        if key in frame.container:
            raise _Refused(event.start_mark, path,
                           f"duplicate key '{key}' (first at line {self.lines[path]})")
        self.lines[path] = event.start_mark.line + 1
        return key

    def _value(self, event: Any, path: PathKey, depth: int) -> Any:
        if isinstance(event, yaml.AliasEvent):
            raise _Refused(event.start_mark, path,
                           f"expected every value written out, found the alias *{event.anchor} "
                           "(YAML aliases are not accepted)")
        self._count(event, path)
        self.lines.setdefault(path, event.start_mark.line + 1)
        if isinstance(event, yaml.ScalarEvent):
            value = self._scalar(event, path)
            if isinstance(value, float) and not math.isfinite(value):
                self.nonfinite.append((event.start_mark.line + 1, path, event.value))
            elif isinstance(value, int) and not -_INT_BOUND <= value < _INT_BOUND:
                # no field needs more; a larger one cannot even be printed in a message
                raise _Refused(event.start_mark, path,
                               "expected an integer from -2^63 to 2^63 - 1, found one of "
                               f"{value.bit_length()} bits")
            return value
        if depth >= self.limits.max_depth:
            raise _Refused(event.start_mark, path,
                           f"expected at most {self.limits.max_depth} levels of nesting, "
                           "found more")
        if event.tag not in _COLLECTION_TAGS:
            raise _Refused(event.start_mark, path,
                           f"expected a plain mapping or list, found the tag "
                           f"{_short_tag(event.tag)}")
        return {} if isinstance(event, yaml.MappingStartEvent) else []

    def _tag(self, event: Any) -> str:
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        return str(tag)

    def _scalar(self, event: Any, path: PathKey) -> Any:
        if len(event.value) > self.limits.max_text_chars:
            raise _Refused(event.start_mark, path,
                           f"expected a value of at most {self.limits.max_text_chars} "
                           f"characters, found {len(event.value)}")
        tag = self._tag(event)
        if tag in _TEXT_TAGS or tag == _TAG + "merge":
            return event.value
        if tag not in _SCALAR_TAGS:
            raise _Refused(event.start_mark, path,
                           f"expected a plain value (text, number, true/false or null), "
                           f"found the tag {_short_tag(tag)}")
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.loader.yaml_constructors[tag](self.loader, node)
        except (ValueError, TypeError, OverflowError, LookupError, yaml.YAMLError) as exc:
            found = event.value if len(event.value) <= 40 else event.value[:37] + "..."
            raise _Refused(event.start_mark, path,
                           f"expected a value of the tag {_short_tag(tag)}, found {found!r} "
                           f"({exc})") from None


def _first_unprintable(text: str, file: str) -> Issue | None:
    match = _NOT_PRINTABLE.search(text)
    if match is None:
        return None
    start = text.rfind("\n", 0, match.start()) + 1
    line = text.count("\n", 0, match.start()) + 1
    return Issue(file, line, "", f"expected printable characters, found U+{ord(match[0]):04X} "
                                 f"at column {match.start() - start + 1}")


def parse_yaml(text: str, file: str, limits: Limits = LIMITS) -> Located:
    """Parse one YAML document under ``limits``; raises :class:`YAMLSyntax` with located
    issues for a syntax error, a refused construct or non-finite numbers."""
    bad_char = _first_unprintable(text, file)
    if bad_char is not None:
        raise YAMLSyntax(bad_char)
    loader = _Loader(text)
    builder = _Builder(loader, limits)
    try:
        data = builder.document()
    except _Refused as exc:
        raise YAMLSyntax(Issue(file, exc.line, dotted(exc.path), exc.message)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise YAMLSyntax(Issue(file, line, "", f"not valid YAML: {exc.problem}")) from None
    except yaml.YAMLError as exc:
        raise YAMLSyntax(Issue(file, 1, "", f"not valid YAML: {exc}")) from None
    finally:
        loader.dispose()
    if builder.nonfinite:
        raise YAMLSyntax([Issue(file, line, dotted(path), f"expected a finite number, found {text}")
                          for line, path, text in builder.nonfinite])
    return Located(file=file, data=data, lines=builder.lines)


def read_yaml(path: Path, display: str | None = None, limits: Limits = LIMITS) -> Located:
    """Read and parse a YAML file; raises :class:`ReadError` or :class:`YAMLSyntax`.

    The size bound is checked before the file is read, and only that many bytes are ever
    read, so a huge file or an endless device costs nothing.
    """
    name = display or str(path)
    try:
        if not path.is_file():
            what = "no such file" if not path.exists() else "not a regular file"
            raise ReadError(f"{name}: cannot read: {what}")
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise YAMLSyntax(Issue(name, 1, "", f"expected a file of at most {limits.max_bytes} "
                                                f"bytes, found {size} bytes"))
        with path.open("rb") as f:
            raw = f.read(limits.max_bytes + 1)
        if len(raw) > limits.max_bytes:  # grew since stat
            raise YAMLSyntax(Issue(name, 1, "", f"expected a file of at most {limits.max_bytes} "
                                                "bytes, found more"))
    except OSError as exc:
        raise ReadError(f"{name}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YAMLSyntax(Issue(name, line, "", f"expected UTF-8 text, found the byte "
                                               f"0x{raw[exc.start]:02X} at column {column}")
                         ) from None
    return parse_yaml(text, name, limits)
