"""report.html: one self-contained page a person can read, mail and archive.

Header (module, spec version, profiles, outcome, counts), the manifest issues of a refused
module, the test vectors judged (state estimation: each vector's origin and SHA-256, and a
table of the numbers measured on it per requirement, with the sensor errors its replay drew
and a link to the evidence plot), one table row per verdict (requirement, level, verdict,
every criterion's measured value against its limit, the evidence message) and one plot per
test case that recorded a trace, passes included. The page carries each test case's trace
once, as JSON data, and a small script of its own (``templates/plot.js``) draws the plots as
SVG in the reader's browser: writing the page costs no drawing, and it needs no network,
external file or font. The page is built from Jinja2 templates with autoescaping on; the
data block is JSON with ``<``, ``>`` and ``&`` escaped, so no text from a module, a manifest
or the spec can end it. PNG files of the same plots are exported on request (:mod:`.plots`).
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import orjson
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from .files import write_atomic
from .json_report import evidence_data
from .model import Report
from .panels import Figure, channel_arrays, choose_panels, figures
from .replays import sensor_line

COLOURS = {
    "pass": "#1a7f37",
    "fail": "#cf222e",
    "error": "#8250df",
    "inconclusive": "#bf8700",
    "not-applicable": "#6e7781",
    "certified": "#1a7f37",
    "not-certified": "#cf222e",
    "refused": "#8250df",
    "interrupted": "#bf8700",
}
TEMPLATES = "templates"
DATA_ID = "obsa-evidence"
"""The id of the page's JSON data block (one entry per plotted test case)."""

_SCRIPT_SAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                              "\u2028": "\\u2028", "\u2029": "\\u2029"})


def script_json(data: Any) -> Markup:
    """JSON that can stand inside a ``<script>`` element: ``<``, ``>`` and ``&`` only occur
    inside JSON strings, where their ``\\u`` escapes mean the same, so ``</script>`` in a
    module's text cannot end the element."""
    return Markup(orjson.dumps(data).decode("utf-8").translate(_SCRIPT_SAFE))


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.6g}"  # inf and nan as 'inf' and 'nan'


def _unit(unit: str) -> str:
    return "" if unit == "1" else f" {unit}"


def _asset(name: str) -> Markup:
    """A file of the templates folder, put into the page as it is (our own CSS and JS)."""
    return Markup(files(__package__).joinpath(TEMPLATES, name).read_text(encoding="utf-8"))


@cache
def environment() -> Environment:
    env = Environment(loader=PackageLoader(__package__ or "conformance.report", TEMPLATES),
                      autoescape=True, undefined=StrictUndefined, trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["num"] = _num
    env.filters["unit"] = _unit
    env.filters["sensors"] = sensor_line
    env.globals["colour"] = lambda word: COLOURS.get(word, "#57606a")
    return env


def plot_data(fig: Figure) -> dict[str, Any]:
    """What the page's script needs to draw one figure: the trace (every channel, rounded
    as in report.json), its events and which channels go on which panel."""
    data = evidence_data(fig.evidence)
    panels = choose_panels(fig.evidence, channel_arrays(fig.evidence))
    return {"id": fig.anchor, "test_case": fig.test_case, "requirements": fig.requirements,
            "t_s": data["t_s"], "channels": data["channels"],
            "events": sorted(([name, at] for name, at in fig.evidence.events.items()),
                             key=lambda e: e[1]),
            "panels": [{"label": p.label, "steps": p.steps, "channels": list(p.channels)}
                       for p in panels]}


def render_html(report: Report, plots: bool = True) -> str:
    """Text of report.html; ``plots=False`` leaves the evidence plots out (a preview)."""
    figs = figures(report) if plots else []
    anchors = {f.test_case: f.anchor for f in figs}
    m = report.module
    header = [
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
        ("Suites", ", ".join(report.suites)),
        ("Started", report.started),
        ("Duration", f"{report.duration_s:.1f} s"),
    ]
    return environment().get_template("report.html.j2").render(
        report=report, header=header, anchors=anchors, figures=figs,
        vectors=report.vector_records,
        data=script_json([plot_data(f) for f in figs]) if figs else None,
        data_id=DATA_ID, css=_asset("report.css"), script=_asset("plot.js"),
        title=f"OBSA report — {m.name} {m.version}")


def write_html(report: Report, path: Path | str) -> Path:
    """Write report.html; returns its path."""
    return write_atomic(path, render_html(report))
