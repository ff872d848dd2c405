"""Seeded mutations of a YAML file, for the manifest and spec fuzzers.

Each mutation takes the file's text and a ``random.Random`` and returns new bytes plus a
one-line description; the same seed gives the same bytes, so a failing case is replayed
from the seed printed with it. Mutations act either on the parsed data (delete, retype,
extreme or non-finite numbers, huge strings, deep nesting, unknown keys — the file is then
dumped again) or on the text (truncation, binary junk, duplicated or deleted lines, tags,
aliases, control characters, broken indentation).
"""

from __future__ import annotations

import random
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import yaml

from tests.spec.helpers import billion_laughs

Mutation = Callable[[str, random.Random], tuple[bytes, str]]
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
Path_ = tuple[Any, ...]

WEIRD_VALUES: list[Any] = [
    None, True, False, "", "x", "1e3", "nan", [], {}, [1, 2], {"a": 1}, {"a": {"b": [None]}},
    -1, 0, 1, 3.5, 2**63, -(2**63), 10**30, 1e308, -1e308, 5e-324, -0.0, 1e-9,
]
EXTREMES: list[Any] = [0, -0.0, -1, 1e-9, 5e-324, 1e308, -1e308, 2**64, 10**18, 0.5, 1000]
NON_FINITE = [float("nan"), float("inf"), float("-inf")]
TAGS = ["!!int ", "!!float ", "!!bool ", "!!binary ", "!!set ", "!!timestamp ", "!custom ",
        "!!python/object:os.system ", "!!python/name:os.system ", "!!str ", "!!null ", "! ",
        "!<tag:example.com,2024:x> "]
JUNK_FILES = [b"", b"---\n", b"[]\n", b"null\n", b"- a\n- b\n", b"42\n", b"'text'\n",
              b"\xef\xbb\xbfa: 1\n", b"a: 1\n...\n", b"%YAML 1.1\n---\na: 1\n",
              b"%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n", b"{{{{\n", b"\t\n"]


# ---------------------------------------------------------------------------- on the data
def _paths(data: Any, path: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    yield path, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _paths(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from _paths(v, path + (i,))


def _set(data: Any, path: Path_, value: Any) -> Any:
    if not path:
        return value
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    parent[path[-1]] = value
    return data


def _delete(data: Any, path: Path_) -> Any:
    parent = data
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]
    return data


def _on_data(name: str, change: Callable[[Any, random.Random], tuple[Any, str]]) -> Mutation:
    def mutate(text: str, rng: random.Random) -> tuple[bytes, str]:
        data = yaml.load(text, Loader=_Loader)
        data, what = change(data, rng)
        dumped = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
        return dumped.encode("utf-8"), f"{name}: {what}"

    return mutate


def _pick(data: Any, rng: random.Random, want: Callable[[Any], bool] = lambda v: True,
          root: bool = False) -> Path_ | None:
    paths = [p for p, v in _paths(data) if (p or root) and want(v)]
    return rng.choice(paths) if paths else None


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _delete_key(data: Any, rng: random.Random) -> tuple[Any, str]:
    path = _pick(data, rng)
    return (_delete(data, path), f"delete {path}") if path else (data, "nothing to delete")


def _retype(data: Any, rng: random.Random) -> tuple[Any, str]:
    path = _pick(data, rng)
    value = rng.choice(WEIRD_VALUES)
    return _set(data, path or (), value), f"{path} = {value!r}"


def _extreme(data: Any, rng: random.Random) -> tuple[Any, str]:
    path = _pick(data, rng, _is_number)
    if path is None:
        return data, "no number"
    value = rng.choice(EXTREMES)
    return _set(data, path, value), f"{path} = {value!r}"


def _non_finite(data: Any, rng: random.Random) -> tuple[Any, str]:
    path = _pick(data, rng, _is_number)
    if path is None:
        return data, "no number"
    value = rng.choice(NON_FINITE)
    return _set(data, path, value), f"{path} = {value!r}"


def _huge_string(data: Any, rng: random.Random) -> tuple[Any, str]:
    path = _pick(data, rng)
    size = rng.choice([300, 5000, 70_000])
    return _set(data, path or (), "é" * size), f"{path} = a string of {size} characters"


def _deep(data: Any, rng: random.Random) -> tuple[Any, str]:
    path = _pick(data, rng)
    depth = rng.choice([5, 40, 300])
    value: Any = "leaf"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return _set(data, path or (), value), f"{path} nested {depth} deep"


def _unknown_key(data: Any, rng: random.Random) -> tuple[Any, str]:
    path = _pick(data, rng, lambda v: isinstance(v, dict), root=True)
    if path is None:
        return data, "no mapping"
    parent = data
    for part in path:
        parent = parent[part]
    key = rng.choice(["colour", "x" * 300, "1", "Name-With-Dash", "_"])
    parent[key] = rng.choice(WEIRD_VALUES)
    return data, f"{path}.{key[:20]} added"


def _list_to_many(data: Any, rng: random.Random) -> tuple[Any, str]:
    path = _pick(data, rng, lambda v: isinstance(v, list) and bool(v))
    if path is None:
        return data, "no list"
    parent = data
    for part in path:
        parent = parent[part]
    count = rng.choice([2, 50, 20_000])
    parent.extend([parent[0]] * count)
    return data, f"{path} first item repeated {count} times"


# ---------------------------------------------------------------------------- on the text
def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _value_lines(text: str) -> list[int]:
    return [i for i, line in enumerate(_lines(text)) if ": " in line and not line.lstrip()
            .startswith("#")]


def _truncate(text: str, rng: random.Random) -> tuple[bytes, str]:
    raw = text.encode("utf-8")
    at = rng.randrange(len(raw))
    return raw[:at], f"truncated at byte {at}"


def _junk(text: str, rng: random.Random) -> tuple[bytes, str]:
    raw = text.encode("utf-8")
    at = rng.randrange(len(raw))
    junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return raw[:at] + junk + raw[at:], f"{len(junk)} random bytes at byte {at}"


def _duplicate_line(text: str, rng: random.Random) -> tuple[bytes, str]:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    lines.insert(i, lines[i])
    return "".join(lines).encode("utf-8"), f"line {i + 1} duplicated"


def _delete_line(text: str, rng: random.Random) -> tuple[bytes, str]:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    del lines[i]
    return "".join(lines).encode("utf-8"), f"line {i + 1} deleted"


def _indent(text: str, rng: random.Random) -> tuple[bytes, str]:
    lines = _lines(text)
    i = rng.randrange(len(lines))
    lines[i] = (" " if rng.random() < 0.5 else "\t") + lines[i]
    return "".join(lines).encode("utf-8"), f"line {i + 1} indented"


def _tag(text: str, rng: random.Random) -> tuple[bytes, str]:
    lines = _lines(text)
    candidates = _value_lines(text)
    i = rng.choice(candidates)
    tag = rng.choice(TAGS)
    head, _, tail = lines[i].partition(": ")
    lines[i] = f"{head}: {tag}{tail}"
    return "".join(lines).encode("utf-8"), f"line {i + 1} tagged {tag.strip()}"


def _alias(text: str, rng: random.Random) -> tuple[bytes, str]:
    lines = _lines(text)
    kind = rng.choice(["bomb", "recursive", "reuse"])
    if kind == "bomb":
        levels = rng.choice([5, 9, 20])
        return (text + billion_laughs(levels, prefix="zz")).encode("utf-8"), \
            f"billion laughs of {levels} levels appended"
    i = rng.choice(_value_lines(text))
    head, _, tail = lines[i].partition(": ")
    if kind == "recursive":
        lines[i] = f"{head}: &r [*r, {tail.strip() or 'x'}]\n"
    else:
        lines[i] = f"{head}: &r {tail}"
        lines.append("zz_reuse: *r\n")
    return "".join(lines).encode("utf-8"), f"line {i + 1}: {kind} alias"


def _control(text: str, rng: random.Random) -> tuple[bytes, str]:
    at = rng.randrange(len(text))
    char = rng.choice(["\x00", "\x01", "\x1b", "\x7f", "\ufffe", "\ud800"])
    raw = (text[:at] + char + text[at:]).encode("utf-8", "surrogatepass")
    return raw, f"U+{ord(char):04X} at character {at}"


def _big_number(text: str, rng: random.Random) -> tuple[bytes, str]:
    lines = _lines(text)
    i = rng.choice(_value_lines(text))
    number = rng.choice(["0x" + "f" * 5000, "9" * 4400, "-" + "1" * 30, "1" * 20 + ".5e+400",
                         "0o" + "7" * 3000, "0b" + "1" * 70, "1_000_000", "0.000000e-999999"])
    head, _, _ = lines[i].partition(": ")
    lines[i] = f"{head}: {number}\n"
    return "".join(lines).encode("utf-8"), f"line {i + 1} = {number[:20]}…"


def _replace_file(text: str, rng: random.Random) -> tuple[bytes, str]:
    raw = rng.choice(JUNK_FILES)
    return raw, f"whole file replaced by {raw[:30]!r}"


MUTATIONS: dict[str, Mutation] = {
    "delete key": _on_data("delete key", _delete_key),
    "retype": _on_data("retype", _retype),
    "extreme number": _on_data("extreme number", _extreme),
    "non-finite number": _on_data("non-finite number", _non_finite),
    "huge string": _on_data("huge string", _huge_string),
    "deep nesting": _on_data("deep nesting", _deep),
    "unknown key": _on_data("unknown key", _unknown_key),
    "long list": _on_data("long list", _list_to_many),
    "truncate": _truncate,
    "binary junk": _junk,
    "duplicate line": _duplicate_line,
    "delete line": _delete_line,
    "indentation": _indent,
    "tag": _tag,
    "alias": _alias,
    "control character": _control,
    "replace file": _replace_file,
    "big number": _big_number,
}


def mutate(text: str, seed: int) -> tuple[bytes, str]:
    """One seeded mutation of ``text``: (new bytes, what was done)."""
    rng = random.Random(seed)
    name = rng.choice(sorted(MUTATIONS))
    return MUTATIONS[name](text, rng)


class Hang(Exception):
    """A case ran longer than its time limit."""


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail a case that hangs, instead of hanging the test run (SIGALRM, main thread)."""

    def expire(signum: int, frame: object) -> None:
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
