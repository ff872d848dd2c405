"""report.html: one self-contained page a person can read, mail and archive.

Header (module, spec version, profiles, outcome, counts), the manifest issues of a refused
module, one table row per verdict (requirement, level, verdict, every criterion's measured
value against its limit, the evidence message) and, for every result that recorded a
trace, its plot as an embedded PNG. No external files, scripts or fonts; every text that
came from a module, a manifest or the spec is escaped.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path

from .files import write_atomic
from .model import CriterionResult, Evidence, Report, TestResult
from .plots import trace_png

COLOURS = {
    "pass": "#1a7f37",
    "fail": "#cf222e",
    "error": "#8250df",
    "inconclusive": "#bf8700",
    "not-applicable": "#6e7781",
    "certified": "#1a7f37",
    "not-certified": "#cf222e",
    "refused": "#8250df",
}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em;color:#1f2328}
h1{font-size:1.5em;margin-bottom:.2em} h2{font-size:1.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #d0d7de;padding:.3em .6em;vertical-align:top;text-align:left}
th{background:#f6f8fa} td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;color:#fff;border-radius:.8em;padding:.05em .7em;font-weight:600}
.crit{margin:0;padding-left:1.1em} .crit li{white-space:nowrap}
.ok{color:#1a7f37} .nok{color:#cf222e} .muted{color:#6e7781;font-size:.85em}
figure{margin:1em 0;border:1px solid #d0d7de;padding:.5em;display:inline-block}
figcaption{font-size:.85em;color:#57606a}
"""


def _badge(word: str) -> str:
    colour = COLOURS.get(word, "#57606a")
    return f'<span class="badge" style="background:{colour}">{escape(word)}</span>'


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.6g}"  # inf and nan as 'inf' and 'nan'


def _criterion(c: CriterionResult) -> str:
    mark = '<span class="ok">✔</span>' if c.passed else '<span class="nok">✘</span>'
    unit = "" if c.unit == "1" else f" {escape(c.unit)}"
    note = f' <span class="muted">{escape(c.note)}</span>' if c.note else ""
    return (f"<li>{mark} <b>{escape(c.name)}</b>: {_num(c.measured)}{unit} "
            f"{escape(c.comparison)} {_num(c.limit)}{unit} "
            f'<span class="muted">(limit: {escape(c.limit_source)})</span>{note}</li>')


def _anchor(i: int) -> str:
    return f"evidence-{i}"


def _row(i: int, r: TestResult, has_plot: bool) -> str:
    crits = ("<ul class='crit'>" + "".join(_criterion(c) for c in r.criteria) + "</ul>"
             if r.criteria else '<span class="muted">none</span>')
    plot = f' <a href="#{_anchor(i)}">plot</a>' if has_plot else ""
    return (f"<tr><td><b>{escape(r.requirement)}</b><br>"
            f"<span class='muted'>{escape(r.test_case)}</span></td>"
            f"<td>{escape(r.title)}</td><td>{escape(r.level)}</td>"
            f"<td>{_badge(r.verdict)}</td><td>{crits}</td>"
            f"<td>{escape(r.evidence.message)}{plot}</td>"
            f"<td class='num'>{r.simulated_s:.3g} s</td></tr>")


def _header(report: Report) -> str:
    m = report.module
    rows = [
        ("Module", f"{m.vendor} — {m.name} {m.version}"),
        ("Software hash", m.software_hash or "—"),
        ("Spec version", f"OBSA {report.spec_version}"),
        ("Profiles", ", ".join(report.profiles) or "—"),
        ("Features", ", ".join(report.features) or "—"),
        ("Manifest", report.manifest),
        ("Manifest SHA-256", report.manifest_sha256 or "—"),
        *((f"SHA-256 {name}", digest) for name, digest in report.module_files.items()),
        ("Module ran", "in the certifying process (debugging mode, never certified)"
         if report.in_process else "in a child process"),
        ("Run", report.run_id or "—"),
        *((("Interrupted by", report.interrupted_by),) if report.interrupted_by else ()),
        ("Started", report.started),
        ("Duration", f"{report.duration_s:.1f} s"),
    ]
    cells = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in rows)
    counts = " ".join(f"{_badge(k)} {v}" for k, v in report.summary.items())
    return (f"<h1>OBSA conformance report</h1>"
            f"<p>Outcome: {_badge(report.outcome)} &nbsp; {counts}</p>"
            f"<table>{cells}</table>")


def render_html(report: Report, plots: bool = True) -> str:
    """Text of report.html; ``plots=False`` skips the figures (faster, for previews)."""
    parts = [_header(report)]
    if report.manifest_issues:
        items = "".join(f"<li><code>{escape(i)}</code></li>" for i in report.manifest_issues)
        parts.append(f"<h2>Manifest issues</h2><ul>{items}</ul>")
    # one figure per test case: the results of one test case share its trace, so their
    # events are drawn together on one plot (and plotting, the slow part, happens once)
    traces: dict[str, Evidence] = {}
    for r in report.results:
        if plots and r.evidence.channels and r.evidence.t_s:
            ev = traces.get(r.test_case)
            traces[r.test_case] = r.evidence if ev is None else ev.model_copy(
                update={"events": {**ev.events, **r.evidence.events}})
    figures = []
    anchors: dict[str, int] = {}  # test case → number of its figure
    for key, (case, ev) in enumerate(traces.items()):
        png = trace_png(ev, case)
        if png is None:
            continue
        anchors[case] = key
        data = base64.b64encode(png).decode("ascii")
        reqs = ", ".join(x.requirement for x in report.results if x.test_case == case)
        alt = escape(f"trace of {reqs}", quote=True)
        figures.append(
            f'<figure id="{_anchor(key)}"><img alt="{alt}" src="data:image/png;base64,{data}">'
            f"<figcaption>{escape(reqs)} — {escape(case)}: "
            f"{escape(ev.message)}</figcaption></figure>")
    rows = [_row(anchors.get(r.test_case, -1), r,
                 r.test_case in anchors and bool(r.evidence.channels))
            for r in report.results]
    if rows:
        parts.append(
            "<h2>Requirements</h2><table><thead><tr><th>Requirement</th><th>Title</th>"
            "<th>Level</th><th>Verdict</th><th>Criteria (measured vs limit)</th>"
            "<th>Evidence</th><th>Simulated</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")
    if figures:
        parts.append("<h2>Evidence</h2>" + "".join(figures))
    if report.environment:
        env = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>"
                      for k, v in report.environment.items())
        parts.append(f"<h2>Environment</h2><table>{env}</table>")
    title = escape(f"OBSA report — {report.module.name} {report.module.version}")
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{title}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")


def write_html(report: Report, path: Path | str) -> Path:
    """Write report.html; returns its path."""
    return write_atomic(path, render_html(report))
