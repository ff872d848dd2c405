"""The parallel workers' groups (tests/conftest.py) stay where the shared work is."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import worker_groups

TESTS = Path(__file__).resolve().parent


def _modules_using(fixture: str) -> set[str]:
    """The test modules whose tests take ``fixture`` as an argument."""
    pattern = re.compile(rf"^def test_\w+\([^)]*\b{fixture}\b", re.M | re.S)
    return {p.relative_to(TESTS.parent).as_posix() for p in sorted(TESTS.rglob("test_*.py"))
            if pattern.search(p.read_text(encoding="utf-8"))}


def _catalogue_readers() -> set[str]:
    """The modules of tests/faulty that read the catalogue's certifications: they say which
    with ``needed(item)`` (tests/faulty/conftest.py)."""
    return {p.relative_to(TESTS.parent).as_posix()
            for p in sorted((TESTS / "faulty").glob("test_*.py"))
            if re.search(r"^def needed\(", p.read_text(encoding="utf-8"), re.M)}


def test_every_module_that_reads_the_catalogue_is_in_its_group() -> None:
    groups = worker_groups(TESTS)
    readers = _catalogue_readers()
    assert len(readers) >= 6
    assert {m: groups.get(m) for m in readers} == dict.fromkeys(readers, "catalogue")


def test_every_module_that_reads_the_built_docs_is_in_its_group() -> None:
    groups = worker_groups(TESTS)
    readers = _modules_using("built_docs")
    assert readers
    assert {m: groups.get(m) for m in readers} == dict.fromkeys(readers, "built_docs")


def test_a_group_names_only_modules_that_share_its_work() -> None:
    groups = worker_groups(TESTS)
    assert set(groups.values()) == {"catalogue", "built_docs"}
    assert {m for m, g in groups.items() if g == "catalogue"} == _catalogue_readers()
    assert {m for m, g in groups.items() if g == "built_docs"} == _modules_using("built_docs")
