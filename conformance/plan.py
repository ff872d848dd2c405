"""``obsa certify MANIFEST --list``: what a certification of this module would run, and why
each other requirement is left out — read from the spec, the manifest and the suite's test
cases, with nothing started (no module, no bench)."""

from __future__ import annotations

import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from .manifest import load_manifest
from .session import applies, resolve_manifest
from .spec import ReadError, SpecError, load_spec
from .suite.cases import all_cases


@dataclass(frozen=True)
class Planned:
    """One requirement of the spec and what a run of the module would do with it."""

    requirement: str
    title: str
    status: str  # "runs", "not applicable", "no test case", "out of scope"
    why: str
    cases: tuple[str, ...] = ()


def selected(select: str | None, key: str) -> bool:
    """Whether ``-k SELECT`` (pytest's syntax) selects the test case ``key``
    (``test_module::test_name[parameters]``), as a run of the suite would."""
    from .gherkin.environment import selects

    return not select or selects(select, [key])


def plan(manifest: str | Path, spec_dir: str | None = None, select: str | None = None
         ) -> tuple[list[Planned], list[str]]:
    """Every requirement of the spec with its plan for ``manifest``, or the reasons the
    manifest is refused (then no plan). ``select``: ``-k``, as the run would take it — a
    requirement whose test cases it leaves out all is "not selected"."""
    spec = load_spec(spec_dir)
    m, issues = load_manifest(resolve_manifest(manifest), spec)
    if issues or m is None:
        return [], [str(i) for i in issues] or ["the manifest cannot be read"]
    by_requirement: dict[str, list[str]] = defaultdict(list)
    for key, case in all_cases().items():
        for rid in case.requirements:
            by_requirement[rid].append(key)
    chosen = {key for key in all_cases() if selected(select, key)}
    out = []
    for req in spec.requirements.values():
        ok, why = applies(spec, m, req)
        cases = tuple(by_requirement.get(req.id, ()))
        if ok is None:
            status = "out of scope"
        elif not ok:
            status = "not applicable"
        elif not cases:
            status = "no test case"
            why = f"verification: {req.verification} — no test case of the suite judges it"
        elif not set(cases) & chosen:
            status = "not selected"
            why = f"-k {select!r} selects none of its {len(cases)} test cases"
        else:
            status = "runs"
            cases = tuple(c for c in cases if c in chosen)
        out.append(Planned(req.id, req.title, status, why, cases))
    return out, []


def print_plan(manifest: str, spec_dir: str | None = None, select: str | None = None) -> int:
    """Print the plan; 0 when the manifest is accepted, 2 when it is refused or unreadable."""
    try:
        planned, refused = plan(manifest, spec_dir, select)
    except (SpecError, ReadError) as exc:
        print(f"obsa certify: the spec is invalid: {exc}", file=sys.stderr)
        return 2
    if refused:
        print(f"obsa certify: manifest {resolve_manifest(manifest)} refused:", file=sys.stderr)
        for issue in refused:
            print(f"  {issue}", file=sys.stderr)
        return 2
    runs = [p for p in planned if p.status == "runs"]
    cases = sorted({c for p in runs for c in p.cases})
    print(f"{len(runs)} requirements judged by {len(cases)} test cases "
          "(each also a Gherkin scenario):")
    for p in runs:
        print(f"  {p.requirement:<15} {p.title}")
        for case in p.cases:
            print(f"      {case}")
    for status in ("not applicable", "no test case"):
        chosen = [p for p in planned if p.status == status]
        if chosen:
            print(f"{len(chosen)} requirements {status}:")
            for p in chosen:
                print(f"  {p.requirement:<15} {p.title} — {p.why}")
    unselected = [p for p in planned if p.status == "not selected"]
    if unselected:  # a count: the list is the plan without -k
        print(f"{len(unselected)} requirements not selected by -k {select!r} (inconclusive in "
              "the run's report)")
    scope = [p for p in planned if p.status == "out of scope"]
    if scope:
        why: dict[str, int] = defaultdict(int)
        for p in scope:
            why[p.why] += 1
        print(f"{len(scope)} requirements out of scope:")
        for reason, n in sorted(why.items()):
            print(f"  {n:3d} × {reason}")
    return 0
