"""``obsa requirements`` (a table of the spec's requirements) and ``obsa show ID`` (one
requirement: what it says, how it is judged, with which limits, by which test cases and
scenarios)."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

from ..gherkin.catalogue import Scenario
from ..spec.conditions import evaluate
from ..spec.loader import Spec
from ..spec.models import REQ_ID, Criterion, Requirement
from . import ToolError

_REQUIREMENT_TAG = re.compile(REQ_ID)
WIDTH = 96


# --------------------------------------------------------------------------- the suite
def cases_by_requirement() -> dict[str, list[Any]]:
    """requirement → the suite's test cases (:class:`~conformance.suite.cases.Case`) that
    verify it, in suite order."""
    from ..suite.cases import all_cases

    out: dict[str, list[Any]] = {}
    for case in all_cases().values():
        for rid in dict.fromkeys(case.requirements):
            out.setdefault(rid, []).append(case)
    return out


def scenarios(features: Path | None = None) -> tuple[list[Scenario], list[str]]:
    """Every scenario of the Gherkin suite with the test case it runs
    (:mod:`conformance.gherkin.catalogue`), and a note when the feature files cannot be read
    (they are read, never run)."""
    from behave.parser import ParserError

    from ..gherkin.catalogue import scenarios as catalogue

    try:
        return list(catalogue(features)), []
    except (ParserError, OSError, UnicodeDecodeError) as exc:
        return [], [f"the feature files were not read ({str(exc).splitlines()[0][:120]})"]


# --------------------------------------------------------------------------- table
def _area(req: Requirement) -> str:
    return req.id.split("-")[1]


def select(spec: Spec, profile: str | None = None, area: str | None = None,
           component: str | None = None) -> list[Requirement]:
    """The requirements matching every filter given (ToolError for an unknown one)."""
    if profile is not None and profile not in spec.profiles:
        raise ToolError(f"unknown profile '{profile}' (the spec's profiles: "
                        f"{', '.join(spec.profiles)})")
    areas = [f.area for f in spec.requirement_files]
    if area is not None and area.upper() not in areas:
        raise ToolError(f"unknown area '{area}' (the spec's areas: {', '.join(areas)})")
    if component is not None and component not in spec.interfaces:
        raise ToolError(f"unknown component '{component}' (the spec's components: "
                        f"{', '.join(sorted(spec.interfaces))})")
    return [r for r in spec.requirements.values()
            if (profile is None or profile in r.profiles)
            and (area is None or _area(r) == area.upper())
            and (component is None or r.component == component)]


def table(spec: Spec, reqs: list[Requirement]) -> list[str]:
    """ID, title, level, verification and the number of test cases of each requirement."""
    counts = {rid: len(cases) for rid, cases in cases_by_requirement().items()}
    title_w = 54
    head = f"{'ID':<14}  {'title':<{title_w}}  {'level':<11}  {'verification':<13}  cases"
    lines = [head, "-" * len(head)]
    for r in reqs:
        title = textwrap.shorten(r.title, width=title_w, placeholder="…")
        lines.append(f"{r.id:<14}  {title:<{title_w}}  {r.level:<11}  {r.verification:<13}  "
                     f"{counts.get(r.id, 0):>5}")
    untested = sum(1 for r in reqs if not counts.get(r.id))
    lines.append(f"{len(reqs)} requirements, {len(reqs) - untested} with test cases, "
                 f"{untested} without")
    return lines


# --------------------------------------------------------------------------- show
def _unit(unit: str) -> str:
    return "" if unit == "1" else f" {unit}"


def _wrap(text: str, indent: str = "  ") -> list[str]:
    return textwrap.wrap(" ".join(text.split()), width=WIDTH, initial_indent=indent,
                         subsequent_indent=indent) or [indent.rstrip()]


def _criterion(spec: Spec, req: Requirement, c: Criterion,
               declared: dict[str, Any] | None, manifest_name: str | None) -> list[str]:
    if c.parameter is None:
        limit = f"{c.value:.10g}{_unit(c.unit)} (fixed by the spec)"
    else:
        param = next((p for p in spec.interfaces[req.component].parameters
                      if p.name == c.parameter), None)
        default = (f"; spec default {param.default:.10g}{_unit(c.unit)}"
                   if param is not None and isinstance(param.default, (int, float))
                   and not isinstance(param.default, bool) else "")
        limit = f"{req.component}.{c.parameter} (declared in the manifest{default})"
        if declared is not None:
            value = declared.get(c.parameter)
            limit += (f"\n      = {value:.10g}{_unit(c.unit)} in {manifest_name}"
                      if isinstance(value, (int, float)) else
                      f"\n      = not declared in {manifest_name}")
    lines = [f"  {c.name} {c.comparison} {limit.splitlines()[0]}"]
    lines += limit.splitlines()[1:]
    lines += _wrap(c.description, "      ")
    if c.resolution == "step":
        lines.append(f"      (compared in whole step periods of {req.component}, "
                     f"{spec.interfaces[req.component].step_period_s:g} s)")
    return lines


def _manifest_context(spec: Spec, req: Requirement, manifest: str
                      ) -> tuple[dict[str, Any], list[str]]:
    from ..manifest import load_manifest
    from .manifest_check import resolve

    path = resolve(manifest)
    m, issues = load_manifest(path, spec)
    if m is None:
        first = issues[0] if issues else "cannot be read"
        raise ToolError(f"the manifest cannot be used: {first}")
    notes: list[str] = []
    if issues:
        notes.append(f"note: {path} is refused by the manifest check ({len(issues)} problems; "
                     f"obsa manifest check {path}); its values are shown as they are")
    claimed = [p for p in m.profiles if p in req.profiles]
    if not claimed:
        notes.append(f"note: {path} claims none of this requirement's profiles: "
                     "not applicable to it")
    elif req.condition and not evaluate(req.condition, set(m.features)):
        notes.append(f"note: condition '{req.condition}' is false for the features of {path}: "
                     "not applicable to it")
    return m.effective_parameters(spec, req.component), notes


def show(spec: Spec, rid: str, manifest: str | None = None) -> list[str]:
    """What ``obsa show`` prints for requirement ``rid``."""
    req = spec.requirements.get(rid) or spec.requirements.get(rid.upper())
    if req is None:
        near = [r for r in spec.requirements if r.startswith(rid.upper()[:9])][:6]
        hint = f"; did you mean {', '.join(near)}?" if near else ""
        raise ToolError(f"unknown requirement '{rid}'{hint}")
    declared: dict[str, Any] | None = None
    notes: list[str] = []
    if manifest is not None:
        declared, notes = _manifest_context(spec, req, manifest)
    file, line, _ = spec.where(req)
    out = [f"{req.id}  {req.title}",
           f"component {req.component}; level {req.level}"
           + (f" (when {req.condition})" if req.condition else "")
           + f"; verification {req.verification}; since {req.since}",
           # an active requirement is in a profile (the loader checks); a draft in none
           f"profiles: {', '.join(req.profiles)}" if req.profiles else
           f"profiles: none yet (status {req.status}: no profile holds it, so no run judges "
           "it)",
           f"defined in spec/{file}:{line}"]
    out += notes
    out += ["", "Statement:", *_wrap(req.statement)]
    if req.acceptance:
        out += ["", "Acceptance criteria (measured <comparison> limit):"]
        for c in req.acceptance:
            out += _criterion(spec, req, c, declared, manifest)
    out += ["", "Rationale (and its sources):", *_wrap(req.rationale)]
    cases = cases_by_requirement().get(req.id, [])
    out += ["", f"Test cases ({len(cases)}):"]
    for case in cases:
        out.append(f"  {case.key}")
        doc = (case.function.__doc__ or "").strip().split("\n\n")[0] or next(
            (sc.when[0] for sc in scenarios()[0] if sc.case == case.key and sc.when), "")
        if doc:
            out += _wrap(doc, "      ")
    if not cases:
        out.append(f"  none: verified by {req.verification}" if req.verification != "test"
                   else "  none yet: the run reports it inconclusive")
    found, parse_notes = scenarios()
    mine = [s for s in found if req.id in s.requirements]
    out += ["", f"Scenarios ({len(mine)}):"]
    for s in mine:
        out.append(f"  {s.location}  {s.name}" + (f"  (runs {s.case})" if s.case else ""))
        for step in s.steps:
            out += _wrap(step, "      ")
    if not mine:
        out.append("  none")
    out += [f"  {n}" for n in parse_notes]
    return out
