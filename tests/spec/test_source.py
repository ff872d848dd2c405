"""The bounded YAML reader: hostile files are refused fast, located, and never expanded.

Every refusal is checked against a file that breaks the bound and a file just inside it
(which must read), so a bound that is too tight fails here as surely as a missing one.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from conformance.spec.source import Limits, ReadError, YAMLSyntax, parse_yaml, read_yaml

from .helpers import Edit, apply, billion_laughs, copy_spec, line_of, validate

SMALL = Limits(max_bytes=200, max_depth=4, max_values=10, max_text_chars=8, max_key_chars=3)


def _refused(text: str, limits: Limits = SMALL) -> YAMLSyntax:
    with pytest.raises(YAMLSyntax) as info:
        parse_yaml(text, "x.yaml", limits)
    for issue in info.value.issues:
        assert issue.file == "x.yaml" and issue.line is not None, str(issue)
    return info.value


@pytest.mark.parametrize("text,line,field,message", [
    ("a: 1\nb: [1, 2]\nc: *x\n", 3, "c", "found the alias *x"),  # an undefined one too
    ("a: &x [1]\nb: *x\n", 2, "b", "found the alias *x"),
    ("a: &x [*x]\n", 1, "a[0]", "found the alias *x"),  # a value that contains itself
    ("a: !!int xyz\n", 1, "a", "expected a value of the tag !!int, found 'xyz'"),
    ("a: !!bool maybe\n", 1, "a", "expected a value of the tag !!bool, found 'maybe'"),
    ("a: !!float 1.5.6\n", 1, "a", "expected a value of the tag !!float, found '1.5.6'"),
    ("a: !vendor 1\n", 1, "a", "found the tag !vendor"),
    ("a: 0x" + "f" * 5000 + "\n", 1, "a", "expected an integer from -2^63 to 2^63 - 1, found "
     "one of 20000 bits"),
    ("a: -9223372036854775809\n", 1, "a", "to 2^63 - 1, found one of 64 bits"),
    ("a: !!python/object:os.system x\n", 1, "a", "found the tag !!python/object:os.system"),
    ("a: !!binary aGk=\n", 1, "a", "found the tag !!binary"),
    ("a: !!set {x, y}\n", 1, "a", "expected a plain mapping or list, found the tag !!set"),
    ("b: 1\n<<: {a: 1}\n", 2, "", "found a merge key '<<'"),
    ("? [a, b]\n: 1\n", 1, "", "expected a text key, found a mapping or list"),
    ("a: 1\n---\nb: 2\n", 2, "", "expected a single YAML document"),
    ("a: 1\nb:\n  c: .nan\n  d: [1.0, -.inf]\n", 3, "b.c", "expected a finite number, found .nan"),
    ("a: 1\nb: x\x00y\n", 2, "", "expected printable characters, found U+0000 at column 5"),
    ("a: 1\nb: 2\na: 3\n", 3, "a", "duplicate key 'a' (first at line 1)"),
])
def test_refused_constructs_are_located(text: str, line: int | None, field: str,
                                        message: str) -> None:
    exc = _refused(text, Limits())
    issue = exc.issue
    if line is not None:
        assert (issue.line, issue.field) == (line, field), str(issue)
    assert message in issue.message, str(issue)


def test_every_non_finite_number_is_reported() -> None:
    exc = _refused("a: .inf\nb: [1.5, .NaN]\nc: 2.0e+999\n", Limits())
    assert [(i.line, i.field) for i in exc.issues] == [(1, "a"), (2, "b[1]"), (3, "c")]


def test_billion_laughs_is_refused_at_the_first_alias() -> None:
    exc = _refused(billion_laughs(9), Limits())
    assert exc.issue.line == 2 and "alias *a0" in exc.issue.message


def test_exponents_without_a_dot_are_numbers_as_in_json() -> None:
    doc = parse_yaml("a: 1e3\nb: 5e-3\nc: -2E+2\nd: 1e\ne: 0.1.0\n", "x.yaml")
    assert doc.data == {"a": 1000.0, "b": 0.005, "c": -200.0, "d": "1e", "e": "0.1.0"}
    assert yaml.safe_load("a: 1e3") == {"a": "1e3"}  # only the toolkit's reader is changed


def test_what_is_not_refused_reads_as_before() -> None:
    doc = parse_yaml("a: &anchor 1\nb: 2024-01-01\nc: !!str 12\nd: ~\ne: 1.5e+3\n"
                     "f: [-9223372036854775808, 9223372036854775807]\n", "x.yaml")
    assert doc.data == {"a": 1, "b": "2024-01-01", "c": "12", "d": None, "e": 1500.0,
                        "f": [-(2**63), 2**63 - 1]}
    assert doc.line(("e",)) == 5


@pytest.mark.parametrize("inside,outside,message", [
    ("a: [[[1]]]\n", "a: [[[[1]]]]\n", "at most 4 levels of nesting"),
    ("[" + ", ".join(["1"] * 9) + "]\n", "[" + ", ".join(["1"] * 10) + "]\n",
     "at most 10 values"),
    ("{a: 1, b: 2, c: 3, d: 4}\n", "{a: 1, b: 2, c: 3, d: 4, e: 5}\n", "at most 10 values"),
    ("a: 12345678\n", "a: 123456789\n", "at most 8 characters, found 9"),
    ("abc: 1\n", "abcd: 1\n", "expected a key of at most 3 characters, found 4"),
])
def test_bounds_hold_exactly(inside: str, outside: str, message: str) -> None:
    parse_yaml(inside, "x.yaml", SMALL)
    assert message in _refused(outside).issue.message


def test_file_size_is_checked_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    limits = Limits(max_bytes=200)
    path.write_text("a: " + "x" * 190 + "\n")
    read_yaml(path, limits=limits)  # 194 bytes: inside
    path.write_text("a: " + "x" * 300 + "\n")
    with pytest.raises(YAMLSyntax) as info:
        read_yaml(path, limits=limits)
    assert "expected a file of at most 200 bytes, found 304 bytes" in info.value.issue.message
    assert info.value.issue.line == 1


def test_a_device_or_fifo_is_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # opening it for reading would block forever
    with pytest.raises(ReadError, match="not a regular file"):
        read_yaml(fifo)
    with pytest.raises(ReadError, match="not a regular file"):
        read_yaml(Path("/dev/zero"))


# ---------------------------------------------------------------------------- spec files
def test_a_listed_file_outside_the_spec_is_never_opened(tmp_path: Path) -> None:
    root = copy_spec(tmp_path)
    (tmp_path / "x.yaml").write_text("kind: requirements\n:::: not yaml\n")
    apply(root, Edit("standard.yaml", "    - requirements/hmi.yaml\n", "    - ../x.yaml\n"))
    code, out, err = validate(root)
    assert code == 1 and err == ""
    assert "not valid YAML" not in out  # x.yaml was not read
    assert f"standard.yaml:{line_of(root, 'standard.yaml', '    - ../x.yaml')}:" in out


def test_a_symbolic_link_out_of_the_spec_is_refused(tmp_path: Path) -> None:
    root = copy_spec(tmp_path)
    target = root / "requirements" / "hmi.yaml"
    outside = tmp_path / "hmi.yaml"
    target.rename(outside)
    target.symlink_to(outside)
    code, out, _ = validate(root)
    assert code == 1
    assert "found 'requirements/hmi.yaml' leading to" in out and str(outside) in out


def test_a_symbolic_link_inside_the_spec_is_fine(tmp_path: Path) -> None:
    root = copy_spec(tmp_path)
    target = root / "requirements" / "hmi.yaml"
    moved = root / "hmi_moved.yaml"
    target.rename(moved)
    target.symlink_to(moved)
    code, out, err = validate(root)
    assert code == 0, out + err


def test_a_loop_of_symbolic_links_is_refused(tmp_path: Path) -> None:
    root = copy_spec(tmp_path)
    target = root / "requirements" / "hmi.yaml"
    target.unlink()
    target.symlink_to(root / "requirements" / "loop.yaml")
    (root / "requirements" / "loop.yaml").symlink_to(target)
    code, out, _ = validate(root)
    assert code == 1
    assert "found 'requirements/hmi.yaml', a loop of symbolic links" in out
