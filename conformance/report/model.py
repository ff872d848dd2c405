"""Results as data: what every test case produces and every report format renders.

A test case yields one :class:`TestResult` per requirement it verifies; each carries
the measured value, the limit and the comparison of every acceptance criterion, so the
report is built from data, never from log text.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

VerdictName = Literal["pass", "fail", "inconclusive", "not-applicable", "error"]
Suite = Literal["pytest", "gherkin"]
SUITES: tuple[Suite, ...] = ("pytest", "gherkin")

#: Simulated times are sums of step periods: a measured 2.0000000000000004 s is 2 s. Order
#: comparisons allow this much relative slack; "==" (counts, flags) is exact.
FLOAT_SLACK = 1e-9

_OPS = {
    "<=": lambda a, b, e: a <= b + e,
    "<": lambda a, b, e: a < b - e,
    ">=": lambda a, b, e: a >= b - e,
    ">": lambda a, b, e: a > b + e,
    "==": lambda a, b, e: a == b,
}


def compare(measured: float | None, comparison: str, limit: float) -> bool:
    """``measured <comparison> limit``; NaN and None never pass."""
    if measured is None or (isinstance(measured, float) and math.isnan(measured)):
        return False
    slack = FLOAT_SLACK * max(1.0, abs(limit))
    return bool(_OPS[comparison](measured, limit, slack))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CriterionResult(_Model):
    """One acceptance criterion of the spec, judged on one run."""

    name: str
    comparison: str
    limit: float
    limit_source: str = Field(description="'spec' or 'manifest:<component>.<parameter>'")
    unit: str
    measured: float | None = Field(description="None when the run could not measure it")
    passed: bool
    note: str = ""


def _unit(unit: str) -> str:
    return "" if unit == "1" else f" {unit}"


def criterion_line(c: CriterionResult) -> str:
    """'reaction_time_s: measured 0.21 s <= limit 0.2 s → fail (limit from manifest:...)'"""
    measured = ("not measured" if c.measured is None
                else f"measured {c.measured:.10g}{_unit(c.unit)}")
    verdict = "pass" if c.passed else "fail"
    note = f"; {c.note}" if c.note else ""
    return (f"{c.name}: {measured} {c.comparison} limit {c.limit:.10g}{_unit(c.unit)} → "
            f"{verdict} (limit from {c.limit_source}{note})")


class Channel(_Model):
    """One recorded signal of the evidence trace."""

    name: str
    unit: str
    values: list[float | None] = Field(
        description="one per t_s, to 6 significant digits (whole numbers without decimals); "
                    "null where no finite sample")


class Evidence(_Model):
    """What a reader needs to check a verdict: a message, the trace around the event."""

    message: str = ""
    t_s: list[float] = Field(default=[], description="sample times (s), to the microsecond")
    channels: list[Channel] = []
    events: dict[str, float] = Field(default_factory=dict, description="name → time (s)")


class TestResult(_Model):
    """The verdict of one test case on one requirement."""

    __test__ = False  # a data model, not a pytest test class

    test_case: str = Field(description="the test case as its suite names it: the pytest node "
                                       "id, or the Gherkin scenario's name")
    suite: Suite = Field(default="pytest", description="the suite that ran it")
    case: str = Field(default="", description="the suite's test case that judged it, "
                                              "'<module>::<function>[<id>]' (the same for "
                                              "a scenario and its pytest twin)")
    requirement: str
    title: str = ""
    level: str = ""
    verdict: VerdictName
    criteria: list[CriterionResult] = []
    evidence: Evidence = Field(default_factory=Evidence)
    duration_s: float = 0.0
    simulated_s: float = 0.0


class ModuleInfo(_Model):
    vendor: str
    name: str
    version: str
    software_hash: str | None = None


Outcome = Literal["certified", "not-certified", "refused", "interrupted"]
"""certified: every applicable mandatory test case passed, the module ran isolated;
not-certified: judged and failed (or run in process); refused: the manifest or spec is
invalid; interrupted: the run was stopped by a signal before it ended."""


class Report(_Model):
    """Everything ``obsa certify`` found; serialised as report.json (schemas/report.schema.json)."""

    obsa_report: Literal["1.0"] = "1.0"
    run_id: str = Field(default="", description="unique id of the run that wrote this report")
    spec_version: str
    module: ModuleInfo
    manifest: str
    manifest_sha256: str | None = Field(default=None, description="SHA-256 of the manifest file")
    module_files: dict[str, str] = Field(
        default_factory=dict,
        description="file → SHA-256 of every module file named by the manifest that was judged")
    profiles: list[str]
    features: list[str]
    started: str
    duration_s: float
    outcome: Outcome
    in_process: bool = Field(
        default=False, description="the module ran inside the certifying process (debugging "
                                   "mode): such a run is never certified")
    interrupted_by: str | None = Field(default=None,
                                       description="the signal that stopped the run, e.g. SIGINT")
    summary: dict[str, int]
    suites: list[Suite] = Field(default=["pytest"], description="the suites that ran")
    suite_verdicts: dict[str, dict[str, VerdictName]] = Field(
        default_factory=dict,
        description="with more than one suite: requirement → suite → its verdict (the worst "
                    "of that suite's results)")
    disagreements: list[str] = Field(
        default=[], description="requirements the suites judged differently: a defect of the "
                                "suites, never of the module; the run is not certified")
    manifest_issues: list[str] = []
    vectors: dict[str, str] = Field(
        default_factory=dict, description="the test vectors judged (state estimation): id → "
                                          "SHA-256 of its arrays")
    results: list[TestResult] = []
    environment: dict[str, Any] = Field(default_factory=dict)
