"""report.html as a page: well-formed, every test case's evidence data carried once, nothing
from a module able to end a script element, and a script that draws every plot."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from conformance.report import Channel, Evidence, TestResult, render_html
from conformance.report.html import DATA_ID, TEMPLATES
from conformance.report.samples import round_significant

from .test_report_writers import _trace, sample_report

BREAKOUT = "</script><script>alert(1)</script>"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "conformance" / "report" / TEMPLATES


class Page(HTMLParser):
    """The elements of a page: every start tag closed in order, ids unique, scripts' text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.ids: set[str] = set()
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.feed(text)
        self.close()
        self.problems += [f"<{tag}> never closed" for tag in self.stack]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        ident = attributes.get("id")
        if ident is not None:
            if ident in self.ids:
                self.problems.append(f"id {ident!r} twice")
            self.ids.add(ident)
        if tag == "script":
            self.scripts.append((attributes, ""))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            self.problems.append(f"</{tag}> of a void element")
        elif not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else ''}>")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] == "script":
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def data(self) -> list[dict]:
        blocks = [text for attrs, text in self.scripts if attrs.get("id") == DATA_ID]
        assert len(blocks) == 1, f"{len(blocks)} data blocks"
        return json.loads(blocks[0])


def _hostile_report():
    """Every text a module, its manifest or its run can put into the page, made hostile."""
    report = sample_report("refused")
    ev = _trace()
    ev = ev.model_copy(update={
        "message": "message " + BREAKOUT,
        "channels": [*ev.channels, Channel(name="x" + BREAKOUT, unit=BREAKOUT, values=[1.0] * 300)],
        "events": {**ev.events, "event " + BREAKOUT: 2.0},
    })
    traced = TestResult(test_case="test_x.py::test_y[" + BREAKOUT + "]", requirement=BREAKOUT,
                        title=BREAKOUT, level=BREAKOUT, verdict="fail", evidence=ev)
    criteria = [c.model_copy(update={"note": BREAKOUT, "limit_source": BREAKOUT})
                for c in report.results[0].criteria]
    first = report.results[0].model_copy(update={"criteria": criteria})
    return report.model_copy(update={
        "module": report.module.model_copy(update={"name": BREAKOUT, "vendor": BREAKOUT}),
        "manifest": BREAKOUT, "manifest_issues": [BREAKOUT], "profiles": [BREAKOUT],
        "results": [first, *report.results[1:], traced],
        "environment": {BREAKOUT: BREAKOUT}, "run_id": BREAKOUT})


def test_the_page_is_well_formed():
    page = Page(render_html(sample_report()))
    assert page.problems == []
    assert [attrs.get("type") for attrs, _ in page.scripts] == ["application/json", None]


def test_a_hostile_text_cannot_end_a_script_element():
    html = render_html(_hostile_report())
    page = Page(html)
    assert page.problems == []
    assert [attrs.get("type") for attrs, _ in page.scripts] == ["application/json", None]
    assert "alert(1)" not in page.scripts[1][1]
    assert "<script>alert" not in html
    (case,) = [c for c in page.data() if c["test_case"].startswith("test_x.py")]
    assert case["test_case"] == "test_x.py::test_y[" + BREAKOUT + "]"  # intact as data
    assert case["requirements"] == [BREAKOUT]
    assert ["x" + BREAKOUT, BREAKOUT] in [[ch["name"], ch["unit"]] for ch in case["channels"]]
    assert ["event " + BREAKOUT, 2.0] in case["events"]


def test_our_script_and_style_cannot_end_their_elements():
    for name in ("plot.js", "report.css"):
        text = (TEMPLATE_DIR / name).read_text(encoding="utf-8").lower()
        assert "</script" not in text and "</style" not in text and "<!--" not in text, name


def _report_of_many_cases():
    """Passes and failures with traces, two results of one test case, one without trace."""
    base = _trace()
    other = base.model_copy(update={"events": {"reset": 2.5}})
    short = Evidence(t_s=[0.0, 0.5, 1.0], channels=[
        Channel(name="pack_current_A", unit="A", values=[1.0, None, 3.123456789])],
        events={"x": 0.5})
    results = [
        TestResult(test_case="a.py::test_pass", requirement="OBSA-SAFE-001", verdict="pass",
                   evidence=base),
        TestResult(test_case="a.py::test_pass", requirement="OBSA-SAFE-002", verdict="pass",
                   evidence=other),
        TestResult(test_case="b.py::test_fail", requirement="OBSA-CONT-001", verdict="fail",
                   evidence=short),
        TestResult(test_case="c.py::test_untraced", requirement="OBSA-DIAG-001",
                   verdict="pass", evidence=Evidence(message="no trace")),
    ]
    return sample_report().model_copy(update={"results": results})


def test_every_test_case_with_a_trace_carries_its_data_once():
    report = _report_of_many_cases()
    page = Page(render_html(report))
    data = page.data()
    assert [c["test_case"] for c in data] == ["a.py::test_pass", "b.py::test_fail"]
    assert [c["id"] for c in data] == ["evidence-0", "evidence-1"]
    assert {"evidence-0", "evidence-1"} <= page.ids
    assert data[0]["requirements"] == ["OBSA-SAFE-001", "OBSA-SAFE-002"]
    assert data[0]["events"] == [["violation", 1.5], ["fault", 1.7], ["reset", 2.5]]
    for case, ev in ((data[0], report.results[0].evidence), (data[1], report.results[2].evidence)):
        assert case["t_s"] == pytest.approx(ev.t_s, abs=1e-6)
        assert [c["name"] for c in case["channels"]] == [c.name for c in ev.channels]
        for got, want in zip(case["channels"], ev.channels, strict=True):
            expected = round_significant(np.array(want.values, dtype=float))
            assert [None if v is None else float(v) for v in got["values"]] == [
                None if np.isnan(v) else v for v in expected.tolist()]
        drawn = [k for panel in case["panels"] for k in panel["channels"]]
        assert drawn and all(0 <= k < len(ev.channels) for k in drawn)
    assert data[1]["channels"][0]["values"] == [1, None, 3.12346]


def test_a_preview_carries_no_plot_and_no_script():
    page = Page(render_html(sample_report(), plots=False))
    assert page.problems == [] and page.scripts == []


DOM_SHIM = Path(__file__).with_name("dom_shim.js")


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's script")
def test_the_script_draws_every_plot(tmp_path):
    report = _report_of_many_cases()
    page = tmp_path / "report.html"
    page.write_text(render_html(report), encoding="utf-8")
    proc = subprocess.run(["node", str(DOM_SHIM), str(page)], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    plots = json.loads(proc.stdout)
    assert [p["svg"] for p in plots] == [True, True]
    data = Page(page.read_text(encoding="utf-8")).data()
    for plot, case in zip(plots, data, strict=True):
        drawn = [k for panel in case["panels"] for k in panel["channels"]]
        assert len(plot["paths"]) == len(drawn) and all(plot["paths"])
        assert {case["channels"][k]["name"] for k in drawn} <= set(plot["texts"])
        assert {name for name, _ in case["events"]} <= set(plot["texts"])
    # the missing sample of b.py's current breaks its line: two pieces
    assert plots[1]["paths"][0].count("M") == 2
