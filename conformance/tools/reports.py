"""``obsa report summary`` (the verdict table of a report.json in the terminal) and
``obsa report diff`` (what changed between two runs of a module: verdicts, measured values,
requirements in scope)."""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from ..report.model import (
    CriterionResult,
    Report,
    TestResult,
    VectorJudgement,
    VerdictName,
    criterion_line,
)
from ..report.replays import sensor_line
from . import ToolError

REPORT_FILE = "report.json"
#: measured values that differ by less than this, relative to the larger, are unchanged
RELATIVE_TOLERANCE = 1e-6
#: the verdict a requirement gets is the worst of its results, in this order (as
#: ``obsa certify`` orders them, :data:`conformance.session.SEVERITY`)
SEVERITY: dict[str, int] = {"not-applicable": 0, "pass": 1, "inconclusive": 2, "fail": 3,
                            "error": 4}


def read_report(arg: str | Path) -> tuple[Path, Report]:
    """A report directory (its report.json) or a report.json file, read into the model."""
    path = Path(arg)
    if path.is_dir():
        path = path / REPORT_FILE
        if not path.is_file():
            raise ToolError(f"{arg}: no {REPORT_FILE} in this directory (is it the --out "
                            "directory of obsa certify?)")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ToolError(f"{arg}: no such file or directory") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolError(f"{arg}: cannot be read ({type(exc).__name__}: {exc})") from None
    try:
        return path, Report.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<document>"
        raise ToolError(f"{path}: not an OBSA report ({exc.error_count()} problems; first: "
                        f"{where}: {first['msg']})") from None


def verdicts(report: Report) -> dict[str, VerdictName]:
    """requirement → its verdict in the run: the worst of its results (all suites)."""
    out: dict[str, VerdictName] = {}
    for r in report.results:
        if r.requirement not in out or SEVERITY[r.verdict] > SEVERITY[out[r.requirement]]:
            out[r.requirement] = r.verdict
    return out


def _detail(r: TestResult) -> str:
    worst = next((c for c in r.criteria if not c.passed), None)
    if worst is not None:
        return criterion_line(worst)
    return " ".join(r.evidence.message.split())


# --------------------------------------------------------------------------- summary
def summary(arg: str | Path) -> list[str]:
    """The run's header, its verdict per requirement (with the reason of each verdict that
    is not a pass) and its counts."""
    path, rep = read_report(arg)
    m = rep.module
    out = [f"report   {path}",
           f"module   {m.vendor} {m.name} {m.version}"
           + (f" (software {m.software_hash})" if m.software_hash else ""),
           f"spec     {rep.spec_version}; profiles {', '.join(rep.profiles) or '-'}; "
           f"features {', '.join(rep.features) or '-'}",
           f"run      {rep.run_id or '-'}, started {rep.started}, {rep.duration_s:.1f} s, "
           f"suites {', '.join(rep.suites)}"
           + ("; IN PROCESS (debugging: never certified)" if rep.in_process else "")]
    if rep.manifest_issues:
        out += ["", f"manifest refused ({len(rep.manifest_issues)} problems):"]
        out += [f"  {i}" for i in rep.manifest_issues]
    out += vector_lines(rep)
    by_req: dict[str, list[TestResult]] = {}
    for r in rep.results:
        by_req.setdefault(r.requirement, []).append(r)
    worst = verdicts(rep)
    if by_req:
        out += ["", f"{'requirement':<14}  {'verdict':<14}  {'results':>7}  title"]
        for rid, results in by_req.items():
            title = results[0].title or ""
            shown = worst[rid]
            per_suite = rep.suite_verdicts.get(rid)
            if per_suite and len(set(per_suite.values())) > 1:
                shown_suites = ", ".join(f"{s} {v}" for s, v in per_suite.items())
                title += f"  [suites disagree: {shown_suites}]"
            out.append(f"{rid:<14}  {shown:<14}  {len(results):>7}  {title}")
            if shown not in ("pass", "not-applicable"):
                for r in results:
                    if r.verdict == shown:
                        where = r.case or r.test_case
                        text = f"{where}: {_detail(r)}" if where else _detail(r)
                        out += textwrap.wrap(text, width=110,
                                             initial_indent=" " * 16,
                                             subsequent_indent=" " * 18)
    s = rep.summary
    counts = ", ".join(f"{s.get(v, 0)} {v}" for v in
                       ("pass", "fail", "error", "inconclusive", "not-applicable"))
    out += ["", f"outcome  {rep.outcome.upper()}"
            + (f" (interrupted by {rep.interrupted_by})" if rep.interrupted_by else "")]
    # each claimed profile on its own requirements (those not passed are listed above)
    out += [f"  {p.line()}" for p in rep.profile_outcomes]
    out.append(f"results  {counts}")
    if rep.disagreements:
        out.append(f"the suites disagree on {', '.join(rep.disagreements)}")
    return out


def _measured(c: CriterionResult) -> str:
    """'cell_soc_rmse 0.0107 <= 0.03'"""
    unit = "" if c.unit == "1" else f" {c.unit}"
    value = "not measured" if c.measured is None else f"{c.measured:.4g}{unit}"
    return f"{c.name} {value} {c.comparison} {c.limit:.4g}{unit}"


def vector_lines(rep: Report) -> list[str]:
    """The test vectors judged: each one's origin, path and SHA-256, then per test case the
    sensor errors its replay drew and every requirement judged with its measured values."""
    records = rep.vector_records
    if not records:
        return []
    out = ["", f"vectors  {len(records)} judged (id, origin, SHA-256 of the arrays, file)"]
    for vid, v in records.items():
        profile = f", profile {v.profile}" if v.profile else ""
        out.append(f"  {vid}  {v.source}{profile}  {v.sha256}  {v.path or '-'}")
        cases: dict[tuple[str, str], list[VectorJudgement]] = {}
        for j in v.judged:
            cases.setdefault((j.suite, j.case or j.test_case), []).append(j)
        for (suite, case), rows in cases.items():
            where = f"{suite}: {case}" if len(rep.suites) > 1 else case
            out.append(f"    {where}")
            drawn = rows[0].sensor_errors
            if drawn is not None:
                out += textwrap.wrap(f"sensor errors drawn: {sensor_line(drawn)}", width=110,
                                     initial_indent=" " * 6, subsequent_indent=" " * 8)
            for j in rows:
                text = f"{j.requirement:<13} {j.verdict:<13} " + "; ".join(
                    _measured(c) for c in j.criteria)
                out += textwrap.wrap(text, width=110, initial_indent=" " * 6,
                                     subsequent_indent=" " * 34)
    return out


# --------------------------------------------------------------------------- diff
@dataclass
class Diff:
    """What changed from one report to the next."""

    verdicts: list[tuple[str, str, str]] = field(default_factory=list)  # id, old, new
    added: list[tuple[str, str]] = field(default_factory=list)  # id, verdict
    removed: list[tuple[str, str]] = field(default_factory=list)
    measured: list[str] = field(default_factory=list)  # one line per changed criterion
    outcome: tuple[str, str] | None = None


def _criteria(rep: Report) -> dict[tuple[str, str, str, str], tuple[float | None, str]]:
    out: dict[tuple[str, str, str, str], tuple[float | None, str]] = {}
    for r in rep.results:
        for c in r.criteria:
            out[(r.requirement, r.suite, r.case or r.test_case, c.name)] = (c.measured, c.unit)
    return out


def _changed(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) != math.isnan(b)
    return abs(a - b) > RELATIVE_TOLERANCE * max(abs(a), abs(b))


def _value(v: float | None, unit: str) -> str:
    return "not measured" if v is None else f"{v:.10g}{'' if unit == '1' else ' ' + unit}"


def diff(old: Report, new: Report) -> Diff:
    """Requirements whose verdict changed, added or removed, and the criteria whose measured
    value changed by more than :data:`RELATIVE_TOLERANCE` (relative)."""
    d = Diff()
    a, b = verdicts(old), verdicts(new)
    d.verdicts = [(rid, a[rid], b[rid]) for rid in sorted(a.keys() & b.keys())
                  if a[rid] != b[rid]]
    d.added = [(rid, b[rid]) for rid in sorted(b.keys() - a.keys())]
    d.removed = [(rid, a[rid]) for rid in sorted(a.keys() - b.keys())]
    ca, cb = _criteria(old), _criteria(new)
    for key in sorted(ca.keys() & cb.keys()):
        (va, unit), (vb, _) = ca[key], cb[key]
        if _changed(va, vb):
            rid, suite, case, name = key
            tail = f" ({suite})" if len(new.suites) > 1 or len(old.suites) > 1 else ""
            d.measured.append(f"{rid}  {case}{tail}  {name}: {_value(va, unit)} -> "
                              f"{_value(vb, unit)}")
    if old.outcome != new.outcome:
        d.outcome = (old.outcome, new.outcome)
    return d


def diff_lines(old_arg: str | Path, new_arg: str | Path) -> tuple[list[str], int]:
    """What ``obsa report diff`` prints, and its exit status: 0 when no requirement in both
    runs changed its verdict, 1 otherwise."""
    old_path, old = read_report(old_arg)
    new_path, new = read_report(new_arg)
    d = diff(old, new)
    out = [f"old  {old_path}: {old.module.name} {old.module.version}, {old.outcome}, "
           f"started {old.started}",
           f"new  {new_path}: {new.module.name} {new.module.version}, {new.outcome}, "
           f"started {new.started}"]
    if old.spec_version != new.spec_version:
        out.append(f"spec version {old.spec_version} -> {new.spec_version}")
    if d.outcome:
        out.append(f"outcome {d.outcome[0]} -> {d.outcome[1]}")
    out += ["", f"verdicts changed ({len(d.verdicts)}):"]
    out += [f"  {rid:<14}  {va} -> {vb}" for rid, va, vb in d.verdicts] or ["  none"]
    if d.added:
        out += ["", f"requirements only in new ({len(d.added)}):"]
        out += [f"  {rid:<14}  {v}" for rid, v in d.added]
    if d.removed:
        out += ["", f"requirements only in old ({len(d.removed)}):"]
        out += [f"  {rid:<14}  {v}" for rid, v in d.removed]
    out += ["", f"measured values changed by more than {RELATIVE_TOLERANCE:g} relative "
                f"({len(d.measured)}):"]
    out += [f"  {line}" for line in d.measured] or ["  none"]
    return out, 1 if d.verdicts else 0
