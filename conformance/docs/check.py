"""The rules the published catalogue holds the spec and the suite to.

A requirement is verified by a test case of the suite when its verification method is
``test`` and it belongs to a profile the suite covers (one its scenarios are tagged with);
every other requirement says through its method why no test case runs it (inspection,
analysis, demonstration — :data:`METHODS`), or belongs only to profiles the suite does not
cover yet (its page says so). The docs build reports every breach as a Sphinx warning, so
``-W`` fails it.
"""

from __future__ import annotations

from ..spec.loader import Spec
from . import trace

METHODS: dict[str, str] = {
    "test": "a test case of the conformance suite stimulates the module on the bench and "
            "judges the measured values against the acceptance criteria",
    "inspection": "the certification body inspects the module's documentation, design or "
                  "data (no stimulus, no measurement): the suite has no test case for it",
    "analysis": "the module's supplier shows by analysis or calculation that it holds "
                "(e.g. a worst-case budget): the suite has no test case for it",
    "demonstration": "the module is operated in front of the certification body (often "
                     "outside the bench: a network, a real charger, a user interface), "
                     "which observes it without measuring against limits: the suite has no "
                     "test case for it",
}
"""What each verification method of the spec means for a module under certification."""


def covered_profiles(spec: Spec) -> list[str]:
    return trace.tested_profiles(spec.profiles)


def problems(spec: Spec) -> list[str]:
    """Every breach of the rules, as a sentence naming the requirement or the test case."""
    out: list[str] = []
    covered = set(covered_profiles(spec))
    if not covered:
        out.append("no feature file is tagged with a profile of the spec: no profile is "
                   "covered by the suite")
    verified = {r for c in trace.test_cases() for r in c.requirements}
    for req in spec.requirements.values():
        if req.verification not in METHODS:
            out.append(f"{req.id}: verification method '{req.verification}' has no "
                       "explanation in the docs")
        in_covered = sorted(covered & set(req.profiles))
        if req.verification == "test" and in_covered and req.id not in verified:
            out.append(f"{req.id}: verification 'test' in profile(s) {', '.join(in_covered)}, "
                       "which the suite covers, but no test case verifies it")
    for case in trace.test_cases():
        unknown = [r for r in case.requirements if r not in spec.requirements]
        if unknown:
            out.append(f"test case {case.key}: names requirements not in the spec: "
                       f"{', '.join(unknown)}")
    for sc in trace.scenarios():
        unknown = [r for r in sc.requirements if r not in spec.requirements]
        if unknown:
            out.append(f"scenario {sc.file}:{sc.line}: tagged with requirements not in the "
                       f"spec: {', '.join(unknown)}")
    return out
