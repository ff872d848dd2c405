"""The spec loader: every model object knows its file and line; bad files become issues."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel

from conformance.spec import ReadError, SpecError, load_spec, read_spec
from conformance.spec import loader as loader_module
from conformance.spec.source import YAMLSyntax, parse_yaml

from .helpers import SPEC_DIR, Edit, apply, copy_spec, line_of, validate


def _walk(model: object):  # type: ignore[no-untyped-def]
    if isinstance(model, BaseModel):
        yield model
        for name in type(model).model_fields:
            yield from _walk(getattr(model, name))
    elif isinstance(model, (list, tuple)):
        for item in model:
            yield from _walk(item)


def test_the_real_spec_reads_without_structural_issues() -> None:
    spec, issues = read_spec(SPEC_DIR)
    assert issues == [] and spec is not None
    assert spec.version == spec.standard.version
    assert set(spec.interfaces) <= set(spec.components)
    assert len(spec.sources) == 3 + 1 + len(spec.standard.files.interfaces) + len(
        spec.standard.files.requirements
    ) + len(spec.standard.files.can)


def test_every_model_object_has_an_origin() -> None:
    spec, _ = read_spec(SPEC_DIR)
    assert spec is not None
    roots = [spec.standard, spec.architecture, spec.dictionary, spec.profiles_file,
             *spec.interfaces.values(), *spec.requirement_files, *spec.can_catalogs]
    for obj in (o for root in roots for o in _walk(root)):
        file, line, _ = spec.where(obj)
        assert file in spec.sources and line is not None and line >= 1


def test_where_points_at_the_item_and_at_its_fields() -> None:
    spec, _ = read_spec(SPEC_DIR)
    assert spec is not None
    sig = spec.signals["pack_current_A"]
    file, line, fld = spec.where(sig)
    assert file == "dictionary.yaml"
    assert line == line_of(SPEC_DIR, file, "  - name: pack_current_A")
    assert fld.startswith("signals[")
    _, unit_line, unit_field = spec.where(sig, "unit")
    assert unit_line == line_of(SPEC_DIR, file, "unit: A", after="name: pack_current_A")
    assert unit_field == fld + ".unit"
    req = next(iter(spec.requirements.values()))
    rfile, rline, _ = spec.where(req, "id")
    assert rline == line_of(SPEC_DIR, rfile, f"id: {req.id}")


def test_issue_builds_a_located_message() -> None:
    spec, _ = read_spec(SPEC_DIR)
    assert spec is not None
    comp = spec.components["safety_supervisor"]
    issue = spec.issue(comp, ("layer",), "expected x, found y")
    assert issue.file == "architecture.yaml" and issue.field.endswith(".layer")
    assert str(issue) == f"architecture.yaml:{issue.line}: {issue.field}: expected x, found y"


def test_a_file_listed_twice_is_located_in_standard_yaml(tmp_path: Path) -> None:
    root = copy_spec(tmp_path)
    spec, _ = read_spec(root)
    assert spec is not None
    first = spec.standard.files.requirements[0]
    apply(root, Edit("standard.yaml", "  requirements:\n", f"  requirements:\n    - {first}\n"))
    spec, issues = read_spec(root)
    assert spec is None
    (issue,) = issues
    assert issue.file == "standard.yaml" and issue.field == "files.requirements[1]"
    assert issue.line == line_of(root, "standard.yaml", f"    - {first}", after=f"    - {first}")
    assert "listed once" in issue.message


def test_wrong_kind(tmp_path: Path) -> None:
    root = copy_spec(tmp_path)
    apply(root, Edit("profiles.yaml", "kind: profiles", "kind: profile"))
    _, issues = read_spec(root)
    (issue,) = issues
    assert (issue.file, issue.line, issue.field) == ("profiles.yaml", 1, "kind")
    assert "expected 'profiles', found 'profile'" in issue.message


def test_a_document_that_is_not_a_mapping(tmp_path: Path) -> None:
    root = copy_spec(tmp_path)
    (root / "profiles.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    _, issues = read_spec(root)
    (issue,) = issues
    assert issue.file == "profiles.yaml" and "expected a mapping" in issue.message


def test_two_interfaces_for_one_component(tmp_path: Path) -> None:
    root = copy_spec(tmp_path)
    apply(root, Edit("interfaces/isolation_monitor.yaml", "component: isolation_monitor",
                     "component: cell_monitor"))
    spec, issues = read_spec(root)
    assert spec is not None
    assert any(i.file == "interfaces/isolation_monitor.yaml" and i.field == "component"
               and i.line == 2 and "already has an interface" in i.message for i in issues)


def test_yaml_errors_carry_the_line() -> None:
    with pytest.raises(YAMLSyntax) as info:
        parse_yaml("a: 1\nb: [2\nc: 3\n", "x.yaml")
    assert info.value.issue.file == "x.yaml" and info.value.issue.line is not None
    with pytest.raises(YAMLSyntax) as info:
        parse_yaml("a: 1\nb: 2\na: 3\n", "x.yaml")
    assert info.value.issue.line == 3 and "duplicate key 'a'" in info.value.issue.message


def test_parse_yaml_records_lines_of_keys_and_items() -> None:
    doc = parse_yaml("top:\n  items:\n    - x: 1\n    - x: 2\n", "x.yaml")
    assert doc.line(("top",)) == 1
    assert doc.line(("top", "items", 1)) == 4
    assert doc.line(("top", "items", 1, "x")) == 4
    assert doc.line(("top", "items", 1, "missing")) == 4  # nearest ancestor


def test_missing_standard_is_a_read_error(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="standard.yaml"):
        read_spec(tmp_path)


def test_undecodable_file_is_located(tmp_path: Path) -> None:
    root = copy_spec(tmp_path)
    (root / "profiles.yaml").write_bytes(b"kind: profiles\nab\xff\xfe\n")
    code, out, err = validate(root)
    assert code == 1 and err == ""
    assert "profiles.yaml:2: <document>: expected UTF-8 text, found the byte 0xFF at column 3" \
        in out


def test_a_crash_while_building_a_model_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Crashing:
        @classmethod
        def model_validate(cls, data: object) -> None:
            raise RuntimeError("boom")

    monkeypatch.setitem(loader_module.KINDS, "profiles", Crashing)
    _, issues = read_spec(SPEC_DIR)
    (issue,) = issues
    assert issue.file == "profiles.yaml"
    assert "internal error" in issue.message and "boom" in issue.message


def test_load_spec_raises_spec_error_with_every_issue(tmp_path: Path) -> None:
    root = copy_spec(tmp_path)
    apply(root, Edit("architecture.yaml", "target: cmu", "target: cmx"))
    with pytest.raises(SpecError) as info:
        load_spec(root)
    assert any("found 'cmx'" in i.message for i in info.value.issues)


def test_load_spec_is_cached_per_directory() -> None:
    assert load_spec(SPEC_DIR) is load_spec(str(SPEC_DIR))
