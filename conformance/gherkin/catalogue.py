"""The Gherkin suite as data: every scenario with its requirements, its sentences and the
test case it runs — read without running anything.

The feature files are parsed as behave parses them; the test case of a scenario is found by
matching its steps against the step library as behave does and calling each matched step
with a recorder in place of the test case (:func:`~.steps.recording`): a step only names
its case (after checking its sentence against the case), so nothing is stimulated and no
module is started. The declared values a step checks its sentence against come from the
reference implementation's manifest of the scenario's profile.

Used by the published documentation (which test case each scenario is), by ``obsa show``
and by the suite's own tests (every test case has exactly one scenario).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ..paths import features_dir
from ..spec.models import REQ_ID


@dataclass(frozen=True)
class Scenario:
    """One scenario (an outline's example row is one scenario)."""

    file: str  # the feature file's name
    line: int
    name: str  # without behave's " -- @1.1 …" suffix of an outline's row
    feature: str
    tags: frozenset[str]
    requirements: tuple[str, ...]
    steps: tuple[str, ...]  # "Given …", "When …", "Then …", the background's first
    case: str | None = None  # the key of the test case it runs (None: no step names one)
    problem: str | None = None  # why its case could not be found
    when: tuple[str, ...] = field(default=())  # the sentences of its When steps

    @property
    def location(self) -> str:
        return f"features/{self.file}:{self.line}"


def _requirements(tags: frozenset[str]) -> tuple[str, ...]:
    pattern = re.compile(REQ_ID)
    return tuple(sorted(t for t in tags if pattern.match(t)))


@functools.cache
def scenarios(directory: Path | None = None) -> tuple[Scenario, ...]:
    """Every scenario of the feature files in ``directory`` (default: the bundled suite),
    in file order, each with the test case it runs."""
    from behave.parser import parse_file

    from .environment import add_vector_rows

    root = directory or features_dir()
    parsed = []
    for path in sorted(root.glob("*.feature")):
        feature = parse_file(str(path))
        if feature is None:
            continue
        add_vector_rows([feature])  # a vendor's vectors too (obsa certify --vectors)
        background = list(getattr(getattr(feature, "background", None), "steps", None) or [])
        for sc in feature.walk_scenarios():
            parsed.append((path, feature, background, sc))
    resolve = _Resolver(root)
    out = []
    for path, feature, background, sc in parsed:
        tags = frozenset(str(t) for t in sc.effective_tags)
        rids = _requirements(tags)
        case, problem = resolve(sc, rids)
        out.append(Scenario(
            file=path.name, line=int(sc.line), name=str(sc.name).split(" -- @")[0],
            feature=str(feature.name), tags=tags, requirements=rids,
            steps=tuple(f"{s.keyword} {s.name}" for s in (*background, *sc.steps)),
            case=case, problem=problem,
            when=tuple(s.name for s in sc.steps if s.step_type == "when")))
    return tuple(out)


def scenarios_of_case() -> dict[str, list[Scenario]]:
    """Test case key → the scenarios that run it."""
    out: dict[str, list[Scenario]] = {}
    for s in scenarios():
        if s.case:
            out.setdefault(s.case, []).append(s)
    return out


class _Resolver:
    """Finds the test case a scenario runs: its steps matched as behave matches them and
    called with :func:`~.steps.recording` on, on a harness of the reference's declarations
    (nothing is started)."""

    def __init__(self, root: Path) -> None:
        from behave.runner_util import exec_file
        from behave.step_registry import registry

        registry.clear()
        for module in sorted((root / "steps").glob("*.py")):
            exec_file(str(module), {})
        self.registry = registry
        self._harnesses: dict[str, Any] = {}

    def harness(self, tags: frozenset[str]) -> Any:
        """A harness with the declarations of the reference manifest of the scenario's
        profile (the first that claims one of its tags)."""
        from ..harness.context import Harness, Session
        from ..manifest import load_manifest, reference_manifest_path
        from ..spec import load_spec

        for path in sorted(reference_manifest_path().parent.glob("manifest*.yaml")):
            if path.name in self._harnesses:
                h = self._harnesses[path.name]
            else:
                spec = load_spec()
                m, issues = load_manifest(path, spec)
                if m is None or issues:
                    self._harnesses[path.name] = None
                    continue
                session = Session(spec=spec, manifest=m, adapter=None,
                                  components=m.claimed_components(spec),
                                  dimensions=m.dimensions(spec), bench_factory=None)
                h = self._harnesses[path.name] = Harness(session, "catalogue", [])
            if h is not None and set(h.manifest.profiles) & tags:
                return h
        return None

    def __call__(self, scenario: Any, requirements: tuple[str, ...]
                 ) -> tuple[str | None, str | None]:
        from .steps import recording

        tags = frozenset(str(t) for t in scenario.effective_tags)
        harness = self.harness(tags)
        keys: list[str] = []
        for step in scenario.steps:
            match = self.registry.find_match(step)
            if match is None:
                return None, f"step '{step.keyword} {step.name}' has no definition"
            if step.step_type != "when":  # Given and Then steps run no test case
                continue
            context = SimpleNamespace(obsa=harness, scenario_requirements=list(requirements),
                                      table=step.table, text=step.text, case_key=None,
                                      shown=set(), scenario=scenario)
            try:
                with recording() as named:
                    match.func(context, *[a.value for a in match.arguments if a.name is None],
                               **{a.name: a.value for a in match.arguments if a.name})
            except AssertionError as exc:  # the step's own check, e.g. a SuiteError
                if not named:
                    return None, f"step '{step.keyword} {step.name}': {exc}"
            keys += named
        if len(keys) != 1:
            return None, (f"the scenario names {len(keys)} test cases"
                          + (f" ({', '.join(keys)})" if keys else "") + "; expected one")
        return keys[0], None
