"""One certification run: spec + manifest + adapter + bench, the applicable requirements,
the collected verdicts, and the report.

Shared by ``obsa certify``, ``pytest --obsa-module`` (through the pytest plugin) and
``behave`` (through the Gherkin suite's environment): each runner asks the
:class:`Certification` for a :class:`~conformance.harness.context.Harness` per test case and
hands every finished test case back to :meth:`Certification.collect`, the one place where
a test case becomes verdicts. Printing progress is the runner's business.
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import json
import os
import platform
import sys
import time
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .adapters import Adapter, AdapterError, adapter_settings, open_adapter, transport_class
from .bench import CHEMISTRIES, Bench, BenchConfig, bench_model, hmi_http
from .bench.chemistry import cell_resistances
from .bench.hv import circuit_for
from .harness.context import Harness, PreconditionFailed, Session
from .manifest import Manifest, load_manifest, resolve_manifest
from .report.model import (
    Evidence,
    ModuleInfo,
    Outcome,
    ProfileOutcome,
    Report,
    Suite,
    TestResult,
    VerdictName,
    criterion_line,
)
from .spec import ReadError, Spec, SpecError, load_spec
from .spec.conditions import evaluate
from .spec.models import Requirement

BLOCKING = ("fail", "error", "inconclusive")
SUITES_ORDER = {"pytest": 0, "gherkin": 1}
#: the verdict a suite gives a requirement is the worst of its results, in this order
SEVERITY: dict[VerdictName, int] = {"not-applicable": 0, "pass": 1, "inconclusive": 2,
                                    "fail": 3, "error": 4}
__all__ = ["BLOCKING", "SEVERITY", "STOPS", "Certification", "Interrupted",
           "PreconditionFailed", "progress_line", "resolve_manifest", "unjudged_verdict"]


class Interrupted(KeyboardInterrupt):
    """A stop signal (SIGINT, SIGTERM, SIGHUP) stopped the run; pytest and behave treat it
    as Ctrl-C, and the report's outcome becomes ``interrupted``."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


@dataclass
class StopRequests:
    """The stop signal this process received, shared by ``obsa certify`` (which installs
    the handlers) and the report writer (which holds signals back while it writes)."""

    received: str | None = None
    holding: bool = False

    def request(self, signal_name: str) -> None:
        """Called by a signal handler: stop the run once; never while the report is written
        (it is then the run's complete record, and the exit status follows it)."""
        if self.received is None and not self.holding:
            self.received = signal_name
            raise Interrupted(signal_name)


STOPS = StopRequests()


def unjudged_verdict(exc: BaseException | None, what: str = "test case"
                     ) -> tuple[VerdictName, str]:
    """The verdict of a requirement that its test case did not judge, from why it stopped:
    the module failed → error; a precondition was not met → inconclusive (naming the
    requirement it depends on); the test case itself broke or judged nothing → error — an
    AssertionError in a test case is a defect of the suite, never a precondition."""
    if isinstance(exc, AdapterError):
        return "error", f"module error: {exc}"
    if isinstance(exc, PreconditionFailed):
        return "inconclusive", f"precondition not met: {exc}"
    if exc is not None:
        return "error", f"{what} error: {type(exc).__name__}: {exc}"
    return "error", f"the {what} recorded no verdict for this requirement"


COLOURS = {"pass": "32", "fail": "31", "error": "35", "inconclusive": "33",
           "not-applicable": "90"}
"""ANSI colour of each verdict in a terminal's progress lines."""


def progress_line(done: int, total: int, r: TestResult, *, eta_s: float | None = None,
                  colour: bool = False) -> str:
    """'[ 12/ 57] OBSA-SAFE-001   pass           Title  worst criterion': one finished
    verdict, as the runners print their progress; on a terminal with the time left
    (``eta_s``) and the verdict in colour."""
    worst = next((c for c in r.criteria if not c.passed), None)
    detail = ""
    if worst is not None:
        detail = f"  {criterion_line(worst)}"
    elif r.verdict != "pass" and r.evidence.message:
        detail = f"  {r.evidence.message}"
    verdict = f"{r.verdict:<14}"
    if colour:
        verdict = f"\x1b[{COLOURS.get(r.verdict, '0')}m{verdict}\x1b[0m"
    eta = f" ~{eta_s:.0f} s left" if eta_s is not None and done < total else ""
    return f"[{done:3d}/{total:3d}{eta}] {r.requirement:<15} {verdict} {r.title}{detail}"


def eta(started: float, done: int, total: int) -> float | None:
    """Seconds left at the pace so far (None before the first result)."""
    if done <= 0 or total <= done:
        return None
    return (time.perf_counter() - started) / done * (total - done)


def colour_wanted(stream: Any) -> bool:
    """Colour only on a terminal, and never when ``NO_COLOR`` is set (no-color.org)."""
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and not os.environ.get("NO_COLOR")


def applies(spec: Spec, manifest: Manifest, req: Requirement) -> tuple[bool | None, str]:
    """Whether ``req`` applies to the module ``manifest`` declares, and why: True (applies),
    False (not applicable: its condition is false for the declared features) or None (not in
    scope: a profile or component the module does not claim)."""
    if not req.profiles:
        return None, f"status {req.status}: in no profile yet"
    if not set(req.profiles) & set(manifest.profiles):
        return None, f"profile {', '.join(req.profiles)} not claimed"
    if req.component not in manifest.claimed_components(spec):
        return None, f"component {req.component} not in the claimed profiles"
    if req.level == "conditional" and req.condition:
        if not evaluate(req.condition, set(manifest.features)):
            return False, f"condition '{req.condition}' is false for the declared features"
        return True, f"condition '{req.condition}' holds"
    return True, req.level


@dataclass
class Certification:
    manifest_path: Path
    out_dir: Path
    spec: Spec | None = None
    manifest: Manifest | None = None
    issues: list[str] = field(default_factory=list)
    adapter: Adapter | None = None
    adapter_error: AdapterError | None = None
    session: Session | None = None
    results: list[TestResult] = field(default_factory=list)
    planned: list[tuple[str, list[str]]] = field(default_factory=list)
    deselected: set[str] = field(default_factory=set)  # applicable, but not selected to run
    started: float = field(default_factory=time.time)
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    in_process: bool = False  # debugging mode: the module runs in this process
    html: bool = True  # write report.html (its evidence plots cost about what the tests do)
    interrupted_by: str | None = None  # the signal that stopped the run
    manifest_sha256: str | None = None
    module_files: dict[str, str] = field(default_factory=dict)
    suites: list[Suite] = field(default_factory=lambda: ["pytest"])  # the suites that run
    fail_fast: bool = False  # the run stops at the first verdict that is not a pass
    #: (k, n): this process runs every n-th test case of the pytest suite from the k-th, the
    #: others run beside it (``obsa certify --jobs``); None: all of them
    shard: tuple[int, int] | None = None
    #: why a process that ran a share of the test cases left no results (its requirements
    #: that no other process judged are errors)
    lost: list[str] = field(default_factory=list)

    # ---- set-up -------------------------------------------------------------------
    @classmethod
    def prepare(cls, manifest: str | Path, spec_dir: str | None, out_dir: Path,
                in_process: bool = False, run_id: str | None = None) -> Certification:
        """Load the spec and the manifest, then start the module (in a child process,
        unless ``in_process``). ``run_id`` names the run in its report (default: new)."""
        cert = cls(manifest_path=resolve_manifest(manifest), out_dir=out_dir,
                   in_process=in_process)
        if run_id:
            cert.run_id = run_id
        cert.manifest_sha256 = _sha256(cert.manifest_path)
        try:
            cert.spec = load_spec(spec_dir)
        except (SpecError, ReadError) as exc:
            cert.issues = [f"the spec is invalid: {exc}"]
            return cert
        m, issues = load_manifest(cert.manifest_path, cert.spec)
        cert.manifest = m
        cert.issues = [str(i) for i in issues]
        if cert.refused:
            return cert
        assert m is not None
        dims = m.dimensions(cert.spec)
        components = m.claimed_components(cert.spec)
        cert.module_files = _judged_files(m, in_process)
        endpoint = hmi_http.prepare(m.hmi_http)  # before the module starts: it reads the port
        try:
            cert.adapter = open_adapter(m, cert.spec, dims, components, in_process=in_process)
        except AdapterError as exc:
            cert.adapter_error = exc
        cert.session = Session(spec=cert.spec, manifest=m, adapter=cert.adapter,
                               components=components, dimensions=dims,
                               bench_factory=cert._bench, hmi_endpoint=endpoint)
        return cert

    @property
    def refused(self) -> bool:
        return bool(self.issues) or self.manifest is None or self.spec is None

    def _bench(self, ideal_sensors: bool = False, **overrides: Any) -> Bench:
        """A bench for the declared pack and the declared sensor accuracies."""
        assert self.manifest is not None and self.spec is not None
        m, spec = self.manifest, self.spec
        cm = m.effective_parameters(spec, "cell_monitor")
        cs = m.effective_parameters(spec, "current_sensor")
        im = m.effective_parameters(spec, "isolation_monitor")
        kw: dict[str, Any] = dict(
            n_cells=m.pack.cell_count, n_temp_sensors=m.pack.temperature_sensor_count,
            chemistry=self.bench_chemistry,
            capacity_Ah=m.pack.capacity_Ah,
            cell_voltage_accuracy_V=cm["cell_voltage_accuracy_V"],
            cell_temperature_accuracy_K=cm["cell_temperature_accuracy_K"],
            cell_monitor_cycle_s=cm["measurement_cycle_s"],
            current_gain_error=cs["current_gain_error"],
            current_offset_error_A=cs["current_offset_error_A"],
            voltage_accuracy_V=cs["voltage_accuracy_V"],
            insulation_accuracy=im["insulation_accuracy"],
            dt_s=min(spec.interfaces[c].step_period_s for c in self.session.components)
            if self.session else 0.01,
        )
        claimed = set(m.claimed_components(spec))
        if "protection" in claimed:  # a MOSFET per direction, single-level current limits
            kw["power_path"] = "fets"
            limits = m.effective_parameters(spec, "protection")
            currents = ("charge_overcurrent_A", "discharge_overcurrent_A")
        else:
            limits = m.effective_parameters(spec, "safety_supervisor")
            currents = ("charge_current_max_msl_A", "discharge_current_max_msl_A")
        highest_A = max((abs(float(limits[name])) for name in currents if name in limits),
                        default=0.0)
        kw["cell_r0_ohm"], kw["cell_r1_ohm"] = cell_resistances(m.pack.capacity_Ah, highest_A)
        contactors = m.effective_parameters(spec, "contactor_manager")
        kw.update(circuit_for(
            pack_max_V=m.pack.cell_count * float(CHEMISTRIES[self.bench_chemistry].ocv_V(1.0)),
            precharge_tolerance_V=float(contactors["precharge_voltage_tolerance_V"]),
            precharge_timeout_s=float(contactors["precharge_timeout_s"]),
            feedback_timeout_s=float(contactors["contactor_feedback_timeout_s"])))
        if ideal_sensors:
            kw.update(cell_voltage_accuracy_V=0.0, cell_temperature_accuracy_K=0.0,
                      current_gain_error=0.0, current_offset_error_A=0.0,
                      voltage_accuracy_V=0.0, insulation_accuracy=0.0)
        kw.update(overrides)
        return Bench(BenchConfig(**kw))

    @property
    def bench_chemistry(self) -> str:
        """The bench's cell model for the declared chemistry: its own curve where the bench
        has one (NMC, LFP, LTO), else the layered-oxide NMC curve (for NCA, LMO, LCO, other);
        the report's environment says which was used."""
        return bench_model(self.manifest.pack.chemistry if self.manifest else "nmc")

    def header_lines(self) -> list[str]:
        if self.refused or self.manifest is None or self.spec is None:
            return [f"OBSA: manifest {self.manifest_path} REFUSED"]
        from .vectors.discovery import extra_dirs

        m = self.manifest
        lines = [f"OBSA {self.spec.version}: {m.module.vendor} {m.module.name} "
                 f"{m.module.version} — profiles {', '.join(m.profiles)}; features "
                 f"{', '.join(m.features) or 'none'}",
                 f"OBSA seed {self.seed:#010x} (from the manifest: stimulated cells, sensors "
                 "and scenarios)"]
        vendor = extra_dirs()
        if vendor:
            lines.append(f"OBSA vectors: the shipped ones and those of "
                         f"{', '.join(str(d) for d in vendor)}")
        lines += self._unobservable_lines()
        return lines

    def _unobservable_lines(self) -> list[str]:
        """Said before anything runs: what the transport keeps the closed loop from seeing
        or setting (the blocks of a profile on a CAN node), so that the vendor knows which
        requirements will be inconclusive and that their profile cannot be certified so."""
        see = getattr(self.adapter, "observability", None)
        if self.manifest is None or self.spec is None or not callable(see):
            return []
        blocks = [c for c in self.manifest.claimed_components(self.spec)
                  if self.spec.interfaces[c].outputs and c != "can_stack"]
        hidden, undeliverable = see(blocks) if blocks else ({}, {})
        if not hidden and not undeliverable:
            return []
        return [f"OBSA: over {self.manifest.adapter.type}, the closed loop of "
                f"{', '.join(blocks)} cannot see {', '.join(sorted(hidden)) or 'nothing'} and "
                f"cannot set {', '.join(sorted(undeliverable)) or 'nothing'}: every requirement "
                "that needs one of them is inconclusive, saying which, and its profile cannot be "
                "certified over this transport (certify the blocks in process or as a child "
                "process, the node on its CAN profile)"]

    # ---- selection ----------------------------------------------------------------
    def _requirement_applies(self, req: Requirement) -> bool | None:
        """True: applies; False: not applicable (condition false); None: not in scope."""
        assert self.manifest is not None and self.spec is not None
        return applies(self.spec, self.manifest, req)[0]

    def applicable(self, ids: list[str]) -> list[str]:
        if self.refused or self.spec is None:
            return []
        out = []
        for rid in ids:
            req = self.spec.requirements.get(rid)
            if req is not None and self._requirement_applies(req):
                out.append(rid)
        return out

    def scope(self) -> list[Requirement]:
        """Every requirement of the claimed profiles for the module's components."""
        assert self.spec is not None
        return [r for r in self.spec.requirements.values()
                if self._requirement_applies(r) is not None]

    # ---- running ------------------------------------------------------------------
    @functools.cached_property
    def seed(self) -> int:
        """The run's seed, drawn from what the module's manifest declares (identity, spec
        version, profiles, features, pack, configuration — not how it is connected, not
        the file's layout or comments): the same module always gets the same stimuli, over
        any transport (a run can be reproduced), yet no module can choose which cells,
        sensors and scenarios will be stimulated without changing what it declares."""
        if self.manifest is not None:
            declared = self.manifest.model_dump(mode="json", exclude={"adapter"})
            data = json.dumps(declared, sort_keys=True, separators=(",", ":")).encode()
        else:
            try:
                data = self.manifest_path.read_bytes()
            except OSError:
                data = str(self.manifest_path).encode()
        return int.from_bytes(hashlib.sha256(data).digest()[:4], "big")

    def harness(self, test_case: str, requirements: list[str], case: str | None = None
                ) -> Harness:
        """The harness of one test case. Its seed (stimulated cells, sensor noise) comes
        from the run's seed and ``case``, the suite-independent key of the test case
        (:mod:`conformance.suite.cases`), so a scenario and its pytest twin get the same
        stimuli; without one, from ``test_case``."""
        if self.adapter_error is not None:
            raise self.adapter_error
        assert self.session is not None
        return Harness(self.session, test_case, requirements, seed=self.case_seed(
            case or test_case))

    def case_seed(self, key: str) -> int:
        """The seed of the test case named ``key``."""
        return (self.seed ^ zlib.crc32(key.encode())) & 0x7FFFFFFF

    def unjudged(self, test_case: str, rid: str, verdict: VerdictName,
                 message: str) -> TestResult:
        assert self.spec is not None
        req = self.spec.requirements[rid]
        return TestResult(test_case=test_case, requirement=rid, title=req.title, level=req.level,
                          verdict=verdict, evidence=Evidence(message=message))

    def add(self, result: TestResult) -> None:
        self.results.append(result)

    def collect(self, test_case: str, requirements: list[str], harness: Harness | None,
                exc: BaseException | None, duration_s: float, *, suite: Suite = "pytest",
                case: str = "") -> list[TestResult]:
        """The one way a finished test case becomes verdicts, whichever suite ran it.

        The always-on monitors are checked over every loop it ran; its verdicts on
        requirements that apply are kept; each applicable requirement it names but did not
        judge gets the verdict of why it stopped (``exc``, see :func:`unjudged_verdict`);
        every result is stamped with the suite, the case key and the duration, and added
        to the run. Returns the results (for the runner's progress and failure report)."""
        if harness is not None:
            harness.apply_monitors()
        results = [r for r in (harness.results if harness else [])
                   if self.applicable([r.requirement])]
        judged = {r.requirement for r in results}
        for rid in self.applicable(requirements):
            if rid not in judged:
                verdict, message = unjudged_verdict(exc)
                results.append(self.unjudged(test_case, rid, verdict, message))
        stamped = [r.model_copy(update={"duration_s": round(duration_s, 3), "suite": suite,
                                        "case": case, "test_case": r.test_case or test_case})
                   for r in results]
        self.results.extend(stamped)
        return stamped

    @staticmethod
    def describe(r: TestResult) -> str:
        parts = [f"{r.requirement} {r.verdict.upper()}: {r.title}"]
        parts += [f"    {criterion_line(c)}" for c in r.criteria]
        if r.evidence.message:
            parts.append(f"    {r.evidence.message}")
        return "\n".join(parts)

    # ---- results ------------------------------------------------------------------
    def finish(self, now: float) -> Report:
        spec, m = self.spec, self.manifest
        results = list(self.results)
        if not self.refused and spec is not None:
            for suite in self.suites:
                seen = {r.requirement for r in results if r.suite == suite}
                results += [self._not_run(req, suite) for req in self.scope()
                            if req.id not in seen]
        results.sort(key=lambda r: (r.requirement, SUITES_ORDER.get(r.suite, 9), r.test_case))
        summary = {v: 0 for v in ("pass", "fail", "inconclusive", "not-applicable", "error")}
        for r in results:
            summary[r.verdict] += 1
        suite_verdicts: dict[str, dict[str, VerdictName]] = {}
        disagreements: list[str] = []
        if len(self.suites) > 1:
            judged: dict[str, dict[str, VerdictName]] = {}  # by the test cases that ran
            for r in results:
                for table in (suite_verdicts, judged) if r.case else (suite_verdicts,):
                    per = table.setdefault(r.requirement, {})
                    if r.suite not in per or SEVERITY[r.verdict] > SEVERITY[per[r.suite]]:
                        per[r.suite] = r.verdict
            # where both suites ran its test cases (a requirement that one suite did not run,
            # deselected or interrupted, is inconclusive there anyway)
            disagreements = sorted(rid for rid, per in judged.items()
                                   if len(per) == len(self.suites) and len(set(per.values())) > 1)
        # verified by inspection, analysis or demonstration, and judged by no test case:
        # the certification body's part, listed in the report, never the suite's verdict
        cased = {r.requirement for r in results if r.test_case}
        left = (sorted(req.id for req in self.scope() if req.verification != "test"
                       and req.id not in cased and self._requirement_applies(req))
                if not self.refused and spec is not None else [])
        blocking = sorted({r.requirement for r in results
                           if r.verdict in BLOCKING and r.level != "optional"
                           and not (r.requirement in left and not r.test_case)}
                          | set(disagreements))

        def outcome_of(judged: list[TestResult], blocked: list[str]) -> Outcome:
            if self.interrupted_by is not None:
                return "interrupted"
            if self.refused:
                return "refused"
            return "not-certified" if blocked or not judged or self.in_process else "certified"

        outcome = outcome_of(results, blocking)
        profile_outcomes = []
        if m is not None and spec is not None and len(m.profiles) > 1:
            for profile in m.profiles:
                mine = {rid for rid, req in spec.requirements.items() if profile in req.profiles}
                theirs = [r for r in results if r.requirement in mine]
                blocked = [rid for rid in blocking if rid in mine]
                profile_outcomes.append(ProfileOutcome(
                    profile=profile, outcome=outcome_of(theirs, blocked),
                    requirements=len({r.requirement for r in theirs}), blocking=blocked))
        module = (ModuleInfo(vendor=m.module.vendor, name=m.module.name,
                             version=m.module.version, software_hash=m.module.software_hash)
                  if m is not None else ModuleInfo(vendor="?", name="?", version="?"))
        return Report(
            run_id=self.run_id, in_process=self.in_process, interrupted_by=self.interrupted_by,
            manifest_sha256=self.manifest_sha256, module_files=dict(self.module_files),
            spec_version=spec.version if spec else "?",
            module=module, manifest=str(self.manifest_path),
            profiles=list(m.profiles) if m else [], features=list(m.features) if m else [],
            started=_dt.datetime.fromtimestamp(self.started, _dt.UTC).isoformat(
                timespec="seconds"),
            duration_s=round(now - self.started, 3), outcome=outcome, summary=summary,
            suites=list(self.suites), suite_verdicts=suite_verdicts,
            disagreements=disagreements, profile_outcomes=profile_outcomes,
            manifest_issues=list(self.issues), results=results,
            left_to_certification_body=left,
            vectors=dict(sorted(self.session.vectors.items())) if self.session else {},
            environment={"python": sys.version.split()[0], "platform": platform.platform(),
                         "obsa": _version(), "bench_chemistry": self.bench_chemistry,
                         "seed": f"{self.seed:#010x}",
                         # processes that shared the test cases (obsa certify --jobs)
                         "jobs": self.shard[1] if self.shard else 1},
        )

    def _not_run(self, req: Requirement, suite: Suite) -> TestResult:
        """The verdict of a requirement in scope that no test case of ``suite`` judged."""
        if not self._requirement_applies(req):
            verdict: VerdictName = "not-applicable"
            why = f"condition '{req.condition}' is false for the declared features"
        elif self.interrupted_by is not None:
            verdict = "inconclusive"
            why = f"not run: the run was interrupted ({self.interrupted_by})"
        elif req.id in self.deselected:
            verdict, why = "inconclusive", "not run: its test case was deselected"
        elif self.lost and suite == "pytest" and req.verification == "test":
            verdict, why = "error", "; ".join(self.lost)
        elif self.fail_fast and any(r.verdict in BLOCKING for r in self.results):
            verdict = "inconclusive"
            why = "not run: --fail-fast stopped the run at the first verdict that was no pass"
        elif req.verification != "test":
            verdict, why = "inconclusive", (f"verified by {req.verification}: left to the "
                                            "certification body (no test case of the suite "
                                            "judges it; it does not block the outcome)")
        else:
            verdict, why = "inconclusive", (f"no test case of this suite verifies it "
                                            f"(verification: {req.verification})")
        return self.unjudged("", req.id, verdict, why).model_copy(update={"suite": suite})

    def conclude(self) -> tuple[Report, list[Path]]:
        """End the run: its report, the module released, the files written — whole: a stop
        signal arriving meanwhile is held back (the report is the run's record)."""
        STOPS.holding = True
        try:
            report = self.finish(time.time())
            self.close()
            paths = self.write(report)
        finally:
            STOPS.holding = False
        return report, paths

    def write(self, report: Report) -> list[Path]:
        """Write the report files; and what the module wrote on stderr (its last 64 kB, for
        the vendor's debugging) as module-stderr.log when it wrote anything."""
        from .report import MODULE_LOG, write_all
        from .report.files import write_atomic

        log = getattr(self.adapter, "stderr_text", None)
        text = log() if callable(log) else ""
        paths = write_all(report, self.out_dir, html=self.html)
        if text:
            paths.append(write_atomic(self.out_dir / MODULE_LOG, text))
        return paths

    def summary_lines(self, report: Report, paths: list[Path]) -> list[str]:
        s = report.summary
        lines = []
        if report.outcome == "refused":
            lines.append(f"OBSA: manifest {self.manifest_path} refused:")
            lines.extend(f"  {i}" for i in report.manifest_issues)
        if report.in_process:
            lines.append("OBSA: the module ran in process (debugging mode): never certified")
        if report.interrupted_by:
            lines.append(f"OBSA: interrupted by {report.interrupted_by}: the report covers "
                         "the test cases that ran")
        if report.disagreements:
            lines.append(f"OBSA: the suites disagree on {', '.join(report.disagreements)} (a "
                         "defect of the suites, not of the module): the run is not certified")
        if report.left_to_certification_body:
            lines.append(f"OBSA: verified by inspection, analysis or demonstration, left to the "
                         f"certification body: {', '.join(report.left_to_certification_body)}")
        lines += [f"OBSA: {p.line()}" for p in report.profile_outcomes]
        lines.append(
            f"OBSA: {report.outcome.upper()} — {s['pass']} pass, {s['fail']} fail, "
            f"{s['error']} error, {s['inconclusive']} inconclusive, "
            f"{s['not-applicable']} not applicable ({report.duration_s:.1f} s)")
        lines.append("OBSA: report " + ", ".join(str(p) for p in paths))
        return lines

    def close(self) -> None:
        if self.adapter is not None:
            try:
                self.adapter.close()
            except AdapterError:
                pass


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _judged_files(manifest: Manifest, in_process: bool) -> dict[str, str]:
    """file → SHA-256 of the module files the manifest names (found without running them)."""
    try:
        cls = transport_class(manifest.adapter.type, in_process)
    except AdapterError:
        return {}
    out: dict[str, str] = {}
    cwd = os.getcwd()
    for path in cls.judged_files(adapter_settings(manifest)):
        digest = _sha256(path)
        if digest is not None:
            rel = os.path.relpath(path, cwd)
            out[str(path) if rel.startswith("..") else rel] = digest
    return out


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("obsa")
    except Exception:  # running from a source tree that is not installed
        return "unknown"
