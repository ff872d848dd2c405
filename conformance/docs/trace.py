"""What verifies each requirement: the suite's test cases (:func:`all_cases`) and the Gherkin
scenarios of ``features/`` (as behave parses them), each given a need id of its own so that
the published catalogue links requirement → test case → requirement both ways."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from ..suite.cases import Case, all_cases

REQUIREMENT_TAG = re.compile(r"^OBSA-[A-Z]{2,6}-\d{3}$")


def _part(text: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")


def case_need_id(key: str) -> str:
    """``test_safety_supervisor::test_msl_fault[cell_overvoltage]`` →
    ``OBSA-TC-SAFETY_SUPERVISOR-MSL_FAULT-CELL_OVERVOLTAGE``."""
    module, _, rest = key.partition("::")
    name, _, param = rest.partition("[")
    parts = [module.removeprefix("test_"), name.removeprefix("test_"), param.rstrip("]")]
    return "OBSA-TC-" + "-".join(_part(p) for p in parts if p)


@dataclass(frozen=True)
class TestCase:
    key: str
    need_id: str
    module: str
    requirements: tuple[str, ...]
    doc: str
    source: str


@dataclass(frozen=True)
class Scenario:
    need_id: str
    name: str
    file: str
    line: int
    feature: str
    tags: frozenset[str]
    requirements: tuple[str, ...]
    steps: tuple[str, ...] = field(default=())
    case: str | None = None  # the key of the test case it runs


def _first_paragraph(text: str | None) -> str:
    if not text:
        return ""
    return " ".join(inspect.cleandoc(text).split("\n\n")[0].split())


def _unique(ids: Iterable[str], what: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise ValueError(f"two {what} give the need id {i}")
        seen.add(i)


@cache
def test_cases() -> tuple[TestCase, ...]:
    """Every test case of the suite, in the suite's order."""
    out = []
    for key, case in all_cases().items():
        out.append(TestCase(key=key, need_id=case_need_id(key), module=key.partition("::")[0],
                            requirements=case.requirements,
                            doc=_first_paragraph(_doc(case)) or _said(key),
                            source=_source(case)))
    _unique((c.need_id for c in out), "test cases")
    return tuple(out)


def _said(key: str) -> str:
    """What the scenario of test case ``key`` says it does (its When sentence)."""
    from ..gherkin.catalogue import scenarios_of_case

    found = scenarios_of_case().get(key, [])
    return found[0].when[0][:1].upper() + found[0].when[0][1:] + "." if found and \
        found[0].when else ""


def _doc(case: Case) -> str | None:
    return inspect.getdoc(case.function)


def _source(case: Case) -> str:
    fn = case.function
    try:
        line = inspect.getsourcelines(fn)[1]
    except (OSError, TypeError):
        line = 0
    module = fn.__module__.replace(".", "/") + ".py"
    return f"{module}:{line}" if line else module


@cache
def scenarios(directory: Path | None = None) -> tuple[Scenario, ...]:
    """Every scenario of the feature files (outlines expanded), in file order, with the test
    case it runs (:mod:`conformance.gherkin.catalogue`)."""
    from ..gherkin.catalogue import scenarios as catalogue

    out = [Scenario(need_id=f"OBSA-SC-{_part(Path(sc.file).stem)}-{sc.line}", name=sc.name,
                    file=sc.file, line=sc.line, feature=sc.feature, tags=sc.tags,
                    requirements=sc.requirements, steps=sc.steps, case=sc.case)
           for sc in catalogue(directory)]
    _unique((s.need_id for s in out), "scenarios")
    return tuple(out)


def cases_of(requirement: str) -> list[TestCase]:
    return [c for c in test_cases() if requirement in c.requirements]


def scenarios_of(requirement: str) -> list[Scenario]:
    return [s for s in scenarios() if requirement in s.requirements]


def tested_profiles(profile_ids: Iterable[str]) -> list[str]:
    """The profiles the suite covers completely (:data:`~conformance.suite.
    COMPLETE_PROFILES`) that the feature files are tagged with."""
    from ..suite import COMPLETE_PROFILES

    tags = set().union(*(s.tags for s in scenarios())) if scenarios() else set()
    return [p for p in profile_ids if p in tags and p in COMPLETE_PROFILES]
