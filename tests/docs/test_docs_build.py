"""The published standard (``docs/``, built by ``obsa docs build``): it builds with warnings as
errors, every requirement has its page and need with the test cases and scenarios that verify
it, test cases and scenarios link back, and the build fails on a broken reference or a
requirement to be verified by test that no test case verifies.

The fast tests check the rules and the generated pages without Sphinx's HTML; the full builds
are ``slow``.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conformance import cli
from conformance.docs import check, trace
from conformance.docs import runner as docs_build
from conformance.docs.pages import GENERATED, REQ_DIR, Pages
from conformance.docs.rst import esc, esc_doc, one_line
from conformance.paths import docs_dir, schemas_dir
from conformance.spec import load_spec

from .conftest import ROOT, install_wheel, run_docs_build

#: its tests run on the worker of this group (tests/conftest.py)
WORKER_GROUP = "built_docs"

SPEC = load_spec()
PAGES = Pages(SPEC, schemas_dir()).render()


def _text(page: str) -> str:
    """The visible text of an HTML page, blanks folded."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


# ----------------------------------------------------------------------------- rules
def test_the_catalogue_rules_hold() -> None:
    assert check.problems(SPEC) == []


def test_the_suite_covers_the_profiles_its_feature_files_name() -> None:
    assert check.covered_profiles(SPEC) == ["cell_monitoring_unit", "bmu_safety_core",
                                            "bmu_basic_protection", "telemetry_gateway",
                                            "cmu_can", "bms_can"]


def test_an_untested_requirement_is_a_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drop every test case of OBSA-SAFE-001: the rule names it."""
    kept = tuple(c for c in trace.test_cases() if "OBSA-SAFE-001" not in c.requirements)
    monkeypatch.setattr(trace, "test_cases", lambda: kept)
    found = check.problems(SPEC)
    assert any(p.startswith("OBSA-SAFE-001: verification 'test'") for p in found), found


def test_a_requirement_outside_the_covered_profiles_is_no_problem(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A requirement verified by test in a profile the suite does not cover yet has no test
    case (made so: OBSA-CONN-001 without its test case, telemetry_gateway not complete): its
    page says so, and the build does not fail for it."""
    import conformance.suite as suite

    kept = tuple(c for c in trace.test_cases() if "OBSA-CONN-001" not in c.requirements)
    monkeypatch.setattr(trace, "test_cases", lambda: kept)
    monkeypatch.setattr(suite, "COMPLETE_PROFILES", tuple(
        p for p in suite.COMPLETE_PROFILES if p != "telemetry_gateway"))
    page = Pages(SPEC, schemas_dir()).render()[f"{REQ_DIR}/OBSA-CONN-001.rst"]
    assert not trace.cases_of("OBSA-CONN-001")
    assert "are not covered by this version of the suite" in page
    assert check.problems(SPEC) == []


def test_a_scenario_naming_an_unknown_requirement_is_a_problem(
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = trace.scenarios()[0]
    wrong = trace.Scenario(need_id="OBSA-SC-X-1", name="x", file="x.feature", line=1,
                           feature="x", tags=first.tags | {"OBSA-SAFE-999"},
                           requirements=("OBSA-SAFE-999",))
    every = (*trace.scenarios(), wrong)
    monkeypatch.setattr(trace, "scenarios", lambda: every)
    assert "scenario x.feature:1: tagged with requirements not in the spec: OBSA-SAFE-999" in (
        check.problems(SPEC))


def test_a_breach_is_a_sphinx_warning(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The extension reports every problem as a warning: ``-W`` fails the build."""
    import sphinx.util.logging

    import conformance.docs as ext

    warned: list[str] = []

    class Logger:
        def warning(self, msg: str, *args: object, **_: object) -> None:
            warned.append(msg % args)

    monkeypatch.setattr(ext, "generate", lambda srcdir: ["OBSA-SAFE-001: no test case"])
    monkeypatch.setattr(sphinx.util.logging, "getLogger", lambda name: Logger())
    ext._builder_inited(type("App", (), {"srcdir": str(tmp_path)})())
    assert warned == ["OBSA catalogue: OBSA-SAFE-001: no test case"]


# ----------------------------------------------------------------------------- pages
def test_every_requirement_has_its_page_and_need() -> None:
    for rid, req in SPEC.requirements.items():
        page = PAGES[f"{REQ_DIR}/{rid}.rst"]
        assert f".. req:: {one_line(req.title)}\n   :id: {rid}\n" in page
        assert esc(req.statement) in page
        assert esc(req.rationale) in page
        for c in req.acceptance:
            assert f"``{c.name}``" in page, (rid, c.name)


def test_a_requirement_page_lists_what_verifies_it() -> None:
    page = PAGES[f"{REQ_DIR}/OBSA-SAFE-001.rst"]
    for case in trace.cases_of("OBSA-SAFE-001"):
        assert f"<{case.need_id}>`" in page
    for sc in trace.scenarios_of("OBSA-SAFE-001"):
        assert f":need:`[[spec_source]] <{sc.need_id}>`" in page


def test_a_requirement_not_verified_by_test_says_why() -> None:
    others = [r for r in SPEC.requirements.values() if r.verification != "test"]
    assert others
    for req in others:
        page = PAGES[f"{REQ_DIR}/{req.id}.rst"]
        assert f"Method: **{req.verification}** — {esc(check.METHODS[req.verification])}" in page


def test_test_cases_and_scenarios_link_back_to_their_requirements() -> None:
    cases = PAGES["verification/test-cases.rst"]
    for case in trace.test_cases():
        assert f"   :id: {case.need_id}\n   :links: {', '.join(case.requirements)}\n" in cases
    scenarios = PAGES["verification/scenarios.rst"]
    for sc in trace.scenarios():
        runs = [trace.case_need_id(sc.case)] if sc.case else []
        assert sc.case, f"{sc.file}:{sc.line} runs no test case"
        assert (f"   :id: {sc.need_id}\n   :links: {', '.join([*sc.requirements, *runs])}\n"
                in scenarios)
    assert len(trace.scenarios()) == len(trace.test_cases())


def test_one_page_per_component_interface() -> None:
    for comp, itf in SPEC.interfaces.items():
        page = PAGES[f"interfaces/{comp}.rst"]
        for p in itf.parameters:
            assert f"``{p.name}``" in page
        for f in itf.fault_codes:
            assert f"``0x{f.dtc:04X}``" in page
        assert "Nominal step period" in page


def test_text_of_the_spec_is_escaped() -> None:
    assert esc("|x − y| and foo_ *bar*") == r"\|x − y\| and foo\_ \*bar\*"
    assert esc_doc("the ``boundary`` of *x*") == r"the ``boundary`` of \*x\*"


def test_the_docs_sources_are_found() -> None:
    assert (docs_dir() / "conf.py").is_file()
    assert (docs_dir() / "vendor-guide.md").is_file()


def test_without_sphinx_the_command_says_so_in_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        tmp_path: Path) -> None:
    monkeypatch.setattr(docs_build, "missing_packages", lambda: ["sphinx"])
    assert cli.main(["docs", "build", "--out", str(tmp_path / "html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sphinx not installed" in err, err
    assert not (tmp_path / "html").exists()


# ----------------------------------------------------------------------------- builds
@pytest.mark.slow
def test_the_docs_build_without_a_warning(built_docs: Path) -> None:
    assert (built_docs / "index.html").is_file()
    for page in ("vendor-guide", "guides/reference-implementation", "guides/spec-maintainer",
                 "reference/manifest", "reference/report", "reference/wire",
                 f"{GENERATED}/architecture", f"{GENERATED}/profiles"):
        assert (built_docs / f"{page}.html").is_file(), page


@pytest.mark.slow
def test_every_requirement_is_published(built_docs: Path) -> None:
    """Its page holds its need (the anchor of its id), its statement and what verifies it."""
    for rid, req in SPEC.requirements.items():
        page = built_docs / GENERATED / REQ_DIR / f"{rid}.html"
        assert page.is_file(), f"{rid}: no page"
        source = page.read_text(encoding="utf-8")
        assert f'id="{rid}"' in source, f"{rid}: no need on its page"
        text = _text(source)
        assert one_line(req.statement) in text, rid
        for case in trace.cases_of(rid):
            assert case.key in text, (rid, case.key)


@pytest.mark.slow
def test_the_needs_link_both_ways(built_docs: Path) -> None:
    doc = json.loads((built_docs / "needs.json").read_text(encoding="utf-8"))
    found = doc["versions"][doc["current_version"]]["needs"]
    assert set(SPEC.requirements) <= set(found)
    for case in trace.test_cases():
        assert sorted(found[case.need_id]["links"]) == sorted(case.requirements)
        for rid in case.requirements:
            assert case.need_id in found[rid]["links_back"], (rid, case.key)
    for sc in trace.scenarios():
        for rid in sc.requirements:
            assert sc.need_id in found[rid]["links_back"], (rid, sc.need_id)
    listing = (built_docs / GENERATED / "verification" / "test-cases.html").read_text(
        encoding="utf-8")
    assert 'href="../requirements/OBSA-SAFE-001.html#OBSA-SAFE-001"' in listing


@pytest.mark.slow
def test_a_broken_reference_fails_the_build(tmp_path: Path) -> None:
    """A page naming a need and a document that do not exist: the build exits non-zero
    and names both (the dummy builder resolves every reference and writes nothing)."""
    src = tmp_path / "docs"
    shutil.copytree(docs_dir(), src, ignore=shutil.ignore_patterns(*docs_build.IGNORE))
    (src / "broken.rst").write_text(
        "Broken\n======\n\n:need:`OBSA-SAFE-999` and :doc:`no-such-page`.\n", encoding="utf-8")
    with (src / "index.rst").open("a", encoding="utf-8") as f:
        f.write("\n.. toctree::\n   :hidden:\n\n   broken\n")
    code = docs_build.build(tmp_path / "out", source=src, builder="dummy")
    assert code != 0


@pytest.mark.slow
def test_the_docs_build_from_an_installed_wheel(tmp_path: Path) -> None:
    """Built from the wheel's own docs sources (``conformance/_data/docs``), elsewhere."""
    python = install_wheel(tmp_path)
    located = subprocess.run([str(python), "-c", "from conformance.paths import docs_dir; "
                              "print(docs_dir())"], capture_output=True, text=True, cwd=tmp_path)
    assert "site-packages" in located.stdout, located.stdout + located.stderr
    where = tmp_path / "elsewhere"
    where.mkdir()
    proc, seconds = run_docs_build(where / "html", python=str(python), cwd=where)
    print(f"\nobsa docs build from the wheel: {seconds:.1f} s")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (where / "html" / GENERATED / REQ_DIR / "OBSA-SAFE-001.html").is_file()
    assert not (ROOT / "docs" / GENERATED).exists()

