"""junit.xml: the verdicts in the format every CI system displays.

One ``<testcase>`` per :class:`TestResult`; ``classname`` is the requirement area
(``OBSA.SAFE`` for OBSA-SAFE-001), ``name`` the test case and the requirement. The
``<properties>`` of a test case carry the requirement id, the verdict and, per
criterion, the measured value, the limit, the comparison and the unit, so CI dashboards
can chart them. fail → ``<failure>``, error → ``<error>``, not-applicable and
inconclusive → ``<skipped>``. A refused module gets one failing test case listing the
manifest issues, so CI shows it red.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from .files import write_atomic
from .model import Report, TestResult, criterion_line

_AREA = re.compile(r"^OBSA-([A-Z]+)-\d+$")
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 cannot carry, even escaped; a module's message may contain them."""


def classname(result: TestResult) -> str:
    match = _AREA.match(result.requirement)
    return f"OBSA.{match.group(1)}" if match else "OBSA"


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.10g}"  # inf and nan as 'inf' and 'nan'


def _testcase(parent: ET.Element, r: TestResult) -> None:
    case = ET.SubElement(parent, "testcase", classname=classname(r),
                         name=f"{r.test_case} [{r.requirement}]", time=f"{r.duration_s:.6f}")
    props = ET.SubElement(case, "properties")

    def prop(name: str, value: str) -> None:
        ET.SubElement(props, "property", name=name, value=value)

    prop("requirement", r.requirement)
    prop("verdict", r.verdict)
    prop("suite", r.suite)
    if r.case:
        prop("case", r.case)
    if r.level:
        prop("level", r.level)
    prop("simulated_s", _num(r.simulated_s))
    for c in r.criteria:
        base = f"criterion.{c.name}"
        prop(f"{base}.measured", _num(c.measured))
        prop(f"{base}.comparison", c.comparison)
        prop(f"{base}.limit", _num(c.limit))
        prop(f"{base}.unit", c.unit)
        prop(f"{base}.limit_source", c.limit_source)
        prop(f"{base}.passed", "true" if c.passed else "false")
    details = "\n".join([criterion_line(c) for c in r.criteria]
                        + ([r.evidence.message] if r.evidence.message else []))
    headline = r.evidence.message or (criterion_line(r.criteria[0]) if r.criteria else r.verdict)
    if r.verdict == "fail":
        failed = [c for c in r.criteria if not c.passed]
        message = criterion_line(failed[0]) if failed else headline
        ET.SubElement(case, "failure", message=message, type="fail").text = details
    elif r.verdict == "error":
        ET.SubElement(case, "error", message=headline, type="error").text = details
    elif r.verdict in ("not-applicable", "inconclusive"):
        ET.SubElement(case, "skipped", message=f"{r.verdict}: {headline}")
    if details and r.verdict == "pass":
        ET.SubElement(case, "system-out").text = details


def render_junit(report: Report) -> str:
    """Text of junit.xml."""
    counts = {"fail": 0, "error": 0, "skipped": 0}
    for r in report.results:
        key = "skipped" if r.verdict in ("not-applicable", "inconclusive") else r.verdict
        if key in counts:
            counts[key] += 1
    refused = report.outcome == "refused"
    tests = len(report.results) + (1 if refused else 0)
    failures = counts["fail"] + (1 if refused else 0)
    m = report.module
    attrs = {"tests": str(tests), "failures": str(failures), "errors": str(counts["error"]),
             "skipped": str(counts["skipped"]), "time": f"{report.duration_s:.3f}"}
    root = ET.Element("testsuites", {"name": "OBSA conformance", **attrs})
    suite = ET.SubElement(root, "testsuite", {
        "name": f"{m.vendor} {m.name} {m.version} — {', '.join(report.profiles)}",
        "timestamp": report.started, **attrs})
    props = ET.SubElement(suite, "properties")
    for name, value in (("run_id", report.run_id), ("in_process", str(report.in_process).lower()),
                        ("spec_version", report.spec_version), ("outcome", report.outcome),
                        ("profiles", ",".join(report.profiles)),
                        ("features", ",".join(report.features)), ("manifest", report.manifest),
                        ("module.vendor", m.vendor), ("module.name", m.name),
                        ("module.version", m.version),
                        ("module.software_hash", m.software_hash or "")):
        ET.SubElement(props, "property", name=name, value=value)
    if refused:
        case = ET.SubElement(suite, "testcase", classname="OBSA.MANIFEST",
                             name="manifest check", time="0")
        text = "\n".join(report.manifest_issues)
        ET.SubElement(case, "failure", type="refused",
                      message=f"module refused: {len(report.manifest_issues)} manifest issue(s)"
                      ).text = text
    for r in report.results:
        _testcase(suite, r)
    for element in root.iter():
        element.attrib = {k: _NOT_XML.sub("?", v) for k, v in element.attrib.items()}
        if element.text:
            element.text = _NOT_XML.sub("?", element.text)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(report: Report, path: Path | str) -> Path:
    """Write junit.xml; returns its path."""
    return write_atomic(path, render_junit(report))
