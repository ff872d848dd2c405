"""Results as data: what every test case produces and every report format renders.

A test case yields one :class:`TestResult` per requirement it verifies; each carries
the measured value, the limit and the comparison of every acceptance criterion, so the
report is built from data, never from log text.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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


class SensorErrors(_Model):
    """The sensor errors a vector replay drew for the module's readings, within the
    accuracies its manifest declares (:mod:`conformance.harness.replay`)."""

    current_gain_error: float = Field(description="the current's fixed gain error drawn "
                                                  "(0.002: it reads 0.2 % high)")
    current_offset_A: float = Field(description="the current's fixed offset drawn, A")
    current_noise_A: float = Field(ge=0, description="bound of the current's per-sample "
                                                     "error: uniform within ±this, A")
    cell_voltage_noise_V: float = Field(ge=0, description="bound of every cell voltage's "
                                                          "per-sample error, V")
    cell_temperature_noise_K: float = Field(ge=0, description="bound of every temperature "
                                                              "sensor's per-sample error, K")
    pack_voltage_noise_V: float = Field(ge=0, description="bound of the pack voltage's "
                                                          "per-sample error, V")


class Evidence(_Model):
    """What a reader needs to check a verdict: a message, the trace around the event."""

    message: str = ""
    t_s: list[float] = Field(default=[], description="sample times (s), to the microsecond")
    channels: list[Channel] = []
    events: dict[str, float] = Field(default_factory=dict, description="name → time (s)")
    vector: str = Field(default="", description="the test vector replayed to judge it "
                                                "(state estimation), else empty")
    sensor_errors: SensorErrors | None = Field(
        default=None, description="the sensor errors that replay drew, when recorded")


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


class VectorJudgement(_Model):
    """One requirement judged on one vector: a row of the report's per-vector table."""

    requirement: str
    suite: Suite
    case: str = Field(description="the test case key (as TestResult.case)")
    test_case: str = Field(description="the test case as its suite names it (the anchor of "
                                       "its evidence plot in report.html)")
    verdict: VerdictName
    criteria: list[CriterionResult] = []
    sensor_errors: SensorErrors | None = None

    @classmethod
    def of(cls, r: TestResult) -> VectorJudgement:
        return cls(requirement=r.requirement, suite=r.suite, case=r.case,
                   test_case=r.test_case, verdict=r.verdict, criteria=list(r.criteria),
                   sensor_errors=r.evidence.sensor_errors)


VectorSource = Literal["shipped", "vendor", "unknown"]


class VectorRecord(_Model):
    """A test vector judged: which one exactly, where it came from, what it stands for."""

    sha256: str = Field(description="SHA-256 of its arrays (<id>.npz)")
    source: VectorSource = Field(
        description="shipped: OBSA's vectors/; vendor: a directory given with obsa certify "
                    "--vectors; unknown: not found where this report was read")
    path: str = Field(default="", description="its description (<id>.json) as found")
    profile: str = Field(default="", description="the current profile it stands for")
    drive_cycle: bool = Field(default=False, description="judged as a drive cycle (by its "
                                                         "profile)")
    characterization: str = Field(default="", description="the nominal cell's file it names")
    characterization_sha256: str | None = Field(default=None,
                                                description="SHA-256 of that file")
    judged: list[VectorJudgement] = Field(
        default=[], description="every requirement judged on it, per test case and suite: "
                                "the measured values against their limits")


class ModuleInfo(_Model):
    vendor: str
    name: str
    version: str
    software_hash: str | None = None


Outcome = Literal["certified", "not-certified", "refused", "interrupted"]
"""certified: every applicable mandatory test case passed, the module ran isolated;
not-certified: judged and failed (or run in process); refused: the manifest or spec is
invalid; interrupted: the run was stopped by a signal before it ended."""


class ProfileOutcome(_Model):
    """The outcome of one claimed profile: the run's rule applied to the requirements of that
    profile alone."""

    profile: str
    outcome: Outcome
    requirements: int = Field(description="requirements of the profile in the run's scope")
    blocking: list[str] = Field(
        default=[], description="its requirements that keep it from being certified (a "
                                "verdict other than pass on a test, or the suites disagreeing)")

    def line(self, shown: int = 6) -> str:
        """'profile P: OUTCOME (N requirements; not passed: A, B and 3 more)'."""
        blocking = ", ".join(self.blocking[:shown]) + (
            f" and {len(self.blocking) - shown} more" if len(self.blocking) > shown else "")
        return (f"profile {self.profile}: {self.outcome.upper()} ({self.requirements} "
                "requirements" + (f"; not passed: {blocking})" if self.blocking else ")"))


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
    profile_outcomes: list[ProfileOutcome] = Field(
        default=[], description="with more than one claimed profile: the outcome of each, "
                                "judged on its own requirements (the run's outcome is "
                                "certified only when every claimed profile is)")
    manifest_issues: list[str] = []
    left_to_certification_body: list[str] = Field(
        default=[], description="requirements in scope verified by inspection, analysis or "
                                "demonstration that no test case judges: the certification "
                                "body's part (their verdict is inconclusive, saying so); they "
                                "do not block the outcome")
    vectors: dict[str, VectorRecord | str] = Field(
        default_factory=dict, description="the test vectors judged (state estimation), "
                                          "shipped or the vendor's: id → what it is, where it "
                                          "came from and its numbers per requirement (a run "
                                          "records the SHA-256 of its arrays, which becomes "
                                          "the record when the report is made)")
    results: list[TestResult] = []
    environment: dict[str, Any] = Field(default_factory=dict)

    @field_validator("vectors", mode="before")
    @classmethod
    def _described(cls, value: Any) -> Any:
        """A bare SHA-256 (what a replay records in the run's session, and what reports
        before the vector records held) is completed from the vectors this process
        discovered (:func:`conformance.report.replays.vector_record`)."""
        if not isinstance(value, dict):
            return value
        from .replays import vector_record

        return {vid: vector_record(vid, rec) if isinstance(rec, str) else rec
                for vid, rec in value.items()}

    @model_validator(mode="after")
    def _judged_per_vector(self) -> Report:
        """Each vector's numbers, from the results judged on it, unless given."""
        for vid, rec in self.vector_records.items():
            if not rec.judged:
                rec.judged = [VectorJudgement.of(r) for r in self.results
                              if r.evidence.vector == vid]
        return self

    @property
    def vector_records(self) -> dict[str, VectorRecord]:
        """:attr:`vectors`, every one a record (as validation leaves them)."""
        return {vid: rec for vid, rec in self.vectors.items() if isinstance(rec, VectorRecord)}
