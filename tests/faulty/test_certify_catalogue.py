"""``obsa certify`` end to end: the reference is certified, every faulty module is rejected
for exactly the requirement it breaks — by the pytest suite, and for each requirement the
first faulty module that breaks it by the Gherkin scenarios of what it breaks too
(:func:`.reports.gherkin_sample` says why one per requirement) — and misbehaving software
ends in ``error`` verdicts with the report written.

Each certification runs the real command line (``obsa certify``) in a process of its own,
forked from one worker that imported the bench once (:mod:`.certify_worker`); one run per
two cores at a time. They start when the tests are collected and this module's
tests run last (conftest.py), so the rest of the project's tests run meanwhile. These are
the project's slow tests (``-m "not slow"`` leaves them out).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from conformance.manifest import safety_core_manifest_path

from .contactor_diag_faults import CONTACTOR_DIAG_CATALOGUE
from .correct_modules import VARIANTS, Variant
from .modules import BAD_SOFTWARE, CATALOGUE, Faulty
from .monitor_faults import MONITOR_CATALOGUE
from .option_faults import OPTION_CATALOGUE
from .protection_faults import BASIC_MANIFEST, PROTECTION_CATALOGUE, PROTECTION_VARIANTS
from .reading_faults import READING_CATALOGUE
from .reports import check_gherkin_teeth, gherkin_run, gherkin_select, write_manifest
from .supervisor_faults import SUPERVISOR_CATALOGUE
from .teeth_faults import TEETH_CATALOGUE

#: its tests run on the worker of this group (tests/conftest.py)
WORKER_GROUP = "catalogue"

#: every faulty module: each must fail exactly the requirements it breaks
ALL_FAULTY: tuple[Faulty, ...] = (CATALOGUE + SUPERVISOR_CATALOGUE + CONTACTOR_DIAG_CATALOGUE
                                  + READING_CATALOGUE + MONITOR_CATALOGUE + TEETH_CATALOGUE
                                  + OPTION_CATALOGUE + PROTECTION_CATALOGUE)
#: every correct module unlike the reference: each must pass everything it is judged on
ALL_VARIANTS: tuple[Variant, ...] = VARIANTS + PROTECTION_VARIANTS

ROOT = Path(__file__).resolve().parents[2]
NOT_PASSED = ("fail", "error", "inconclusive")
FAULTY_TIMEOUT_S = 10.0
"""The per-call timeout of the faulty modules' runs (the reference's manifest says 1 s)."""


class Job(NamedTuple):
    """One certification of the catalogue."""

    manifest: Path | str
    out: Path  # its report directory
    in_process: bool
    html: bool  # with report.html
    suite: str = "pytest"
    select: str | None = None  # pytest's -k expression; None: every test case


@dataclass
class Run:
    exit_code: int
    report: dict[str, Any] | None
    output: str
    files: frozenset[str] = frozenset()  # what the run left in its report directory

    def verdicts(self, suite: str | None = None) -> dict[str, set[str]]:
        """Requirement → the verdicts of its results (of ``suite`` only, when given)."""
        out: dict[str, set[str]] = {}
        for r in (self.report or {}).get("results", []):
            if suite is None or r.get("suite", "pytest") == suite:
                out.setdefault(r["requirement"], set()).add(r["verdict"])
        return out

    def not_passed(self) -> set[str]:
        return {rid for rid, v in self.verdicts().items() if v & set(NOT_PASSED)}

    def blamed(self, rid: str) -> set[str]:
        """The requirements that ``rid``'s inconclusive verdicts say they depend on."""
        return {m for r in (self.report or {}).get("results", [])
                if r["requirement"] == rid and r["verdict"] == "inconclusive"
                for m in re.findall(r"depends on (OBSA-[A-Z]+-\d+)", r["evidence"]["message"])}


def _manifest_for(faulty: Faulty | None, directory: Path, **adapter: Any) -> Path:
    data = yaml.safe_load(safety_core_manifest_path().read_text(encoding="utf-8"))
    if faulty is not None:
        data["module"]["name"] = f"faulty: {faulty.name}"
        data["adapter"]["components"][faulty.component] = f"{faulty.cls.__module__}:{faulty.name}"
        if faulty.edit is not None:
            faulty.edit(data)
    data["adapter"].update(adapter)
    return write_manifest(directory, data)


def _variant_manifest(variant: Variant, directory: Path) -> Path:
    data = yaml.safe_load(safety_core_manifest_path().read_text(encoding="utf-8"))
    data["module"]["name"] = f"correct variant: {variant.name}"
    variant.edit(data)
    return write_manifest(directory, data)


def _argv(manifest: Path | str, out: Path, in_process: bool, html: bool,
          suite: str = "pytest", select: str | None = None) -> list[str]:
    """``obsa certify`` as the catalogue runs it: without report.html unless ``html`` (the
    verdicts are in report.json), with the given ``--suite`` and ``-k``."""
    return ["certify", str(manifest), "--out", str(out), "--no-progress", "--suite", suite,
            *(["--in-process"] if in_process else []), *([] if html else ["--no-html"]),
            *(["-k", select] if select is not None else [])]


def _run_of(out: Path, exit_code: int | None, output: str) -> Run:
    report_path = out / "report.json"
    report = json.loads(report_path.read_text(encoding="utf-8")) if report_path.exists() else None
    files = frozenset(p.name for p in out.iterdir()) if out.is_dir() else frozenset()
    if exit_code is None:
        output += "\n[the run did not end within its timeout and was killed]"
    return Run(-9 if exit_code is None else exit_code, report, output, files)


class Certifications:
    """Certifies every job (name → manifest, out, in_process, html, suite) through the real CLI,
    each in its own process forked from one prepared worker (:mod:`.certify_worker`), one
    run per two cores at a time. Starts at once; :meth:`result` waits for the runs."""

    def __init__(self, jobs: dict[str, Job], logs: Path,
                 timeout_s: float = 600, every_core: Path | None = None) -> None:
        self.jobs = jobs
        self.timeout_s = timeout_s
        self.runs = [{"argv": _argv(*job), "log": str(logs / f"{i}.log")}
                     for i, job in enumerate(jobs.values())]
        # a run under both suites is two busy processes (the suites side by side), and
        # the session's other tests certify meanwhile: one run per two cores keeps the
        # machine from starving the short per-call timeouts of the hostile modules' runs
        #: the file whose creation gives the runs left every core: this process creates it
        #: when it waits for them, or (parallel workers) another worker when it is idle
        self.every_core = every_core or logs / "every-core"
        request = {"jobs": max(1, (os.cpu_count() or 2) // 2), "timeout_s": timeout_s,
                   "runs": self.runs, "every_core": str(self.every_core)}
        env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
        requested = logs / "request.json"
        requested.write_text(json.dumps(request), encoding="utf-8")
        with open(requested, encoding="utf-8") as stdin:
            # its own session: stop() ends the worker and every run it forked
            self.proc = subprocess.Popen([sys.executable, "-m", "tests.faulty.certify_worker"],
                                         stdin=stdin, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, cwd=ROOT, env=env, text=True,
                                         start_new_session=True)
        self._result: dict[str, Run] | None = None
        self.every_core_at_result = every_core is None
        self.elapsed_s: dict[str, float] = {}  # run name -> its wall time, once finished

    def result(self) -> dict[str, Run]:
        if self._result is None:
            # the tests that read the runs come last: the session's others are done, the
            # runs left may take every core (not under parallel workers: the others are busy)
            if self.every_core_at_result:
                self.every_core.touch()
            try:
                stdout, stderr = self.proc.communicate(timeout=self.timeout_s * len(self.runs))
            finally:
                self.stop()
            codes: dict[int, int | None] = {}
            names = list(self.jobs)
            for line in stdout.splitlines():
                done = json.loads(line)
                codes[done["index"]] = done["exit_code"]
                self.elapsed_s[names[done["index"]]] = float(done["elapsed_s"])
            assert len(codes) == len(self.runs), (
                f"the certify worker stopped early:\n{stderr[-3000:]}")
            self._result = {}
            for i, (name, job) in enumerate(self.jobs.items()):
                log = Path(self.runs[i]["log"])
                self._result[name] = _run_of(job.out, codes[i],
                                             log.read_text(encoding="utf-8", errors="replace"))
        return self._result

    def stop(self) -> None:
        """End the worker and its runs if they are still going (an interrupted session)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()


def needed(item: pytest.Item) -> set[str]:
    """The certifications a test of this module reads (none for a test without ``runs``)."""
    if "runs" not in getattr(item, "fixturenames", ()):
        return set()
    params = getattr(getattr(item, "callspec", None), "params", {})
    if "variant" in params:
        return {f"variant: {params['variant'].name}"}
    if "faulty" in params:
        faulty = params["faulty"]
        gherkin = gherkin_select(faulty, ALL_FAULTY) is not None
        return {faulty.name, *([gherkin_run(faulty.name)] if gherkin else [])}
    if "bad" in params:
        return {params["bad"].name}
    name = getattr(item, "originalname", item.name)
    if name == "test_reference_basic_protection_is_certified":
        return {"reference basic protection"}
    if name in ("test_reference_safety_core_is_certified",
                "test_each_case_ran_once_in_each_suite_with_the_same_evidence"):
        return {"reference safety core"}
    return {ALL_FAULTY[0].name} if name == "test_no_html_writes_the_record_without_the_page" \
        else {"reference"}


def start(base: Path, only: set[str] | None = None,
          every_core: Path | None = None) -> Certifications:
    """Start the certifications of this module (those named in ``only``; default: all),
    in ``base``; they take every core once the file ``every_core`` exists (default: once
    the caller waits for them).

    The faulty modules and the correct variants are this project's own, trusted code, and
    what they must show is their verdicts: they run in the in-process debugging mode, which
    judges exactly the same for less than half the time (tests/wire/test_cross_transport.py
    shows the same verdicts and values in process, isolated, over stdio and over TCP). The
    reference (the README's run) and the misbehaving modules (which test the isolation) run
    isolated, as every vendor's module does."""
    jobs: dict[str, Job] = {}
    # the longest runs (isolated) first, so that no core idles at the end
    jobs["reference"] = Job("reference", base / "reference", False, True)  # the README's
    jobs["reference safety core"] = Job(safety_core_manifest_path(),
                                        base / "reference-safety-core", False, False, "both")
    jobs["reference basic protection"] = Job(BASIC_MANIFEST, base / "reference-basic", False,
                                             False)
    for bad in BAD_SOFTWARE:
        d = base / bad.name
        d.mkdir()
        jobs[bad.name] = Job(_manifest_for(bad, d, timeout_s=0.5), d / "out", False, False)
    for variant in ALL_VARIANTS:
        d = base / variant.name
        d.mkdir()
        jobs[f"variant: {variant.name}"] = Job(_variant_manifest(variant, d), d / "out", True,
                                               False)
    from .catalogue_runs import catalogue_jobs
    from .estimation_runs import estimation_jobs
    from .full_bms_runs import full_bms_jobs

    jobs.update(catalogue_jobs(base))  # the CAN nodes' long runs among them
    # the estimators' and the whole BMS's (vector replays, a 200-cell pack: 4-36 s each)
    # before the block modules' short ones, which fill the last minutes on both cores
    jobs.update(estimation_jobs(base))
    jobs.update(full_bms_jobs(base))
    for faulty in ALL_FAULTY:
        d = base / faulty.name
        d.mkdir()
        # 10 s per call: two suites side by side on a busy machine must not time a healthy
        # call out (the faulty modules are judged on behaviour, never on their speed)
        manifest = _manifest_for(faulty, d, timeout_s=FAULTY_TIMEOUT_S)
        jobs[faulty.name] = Job(manifest, d / "out", True, False)
        select = gherkin_select(faulty, ALL_FAULTY)
        if select is not None:
            jobs[gherkin_run(faulty.name)] = Job(manifest, d / "gherkin", True, False,
                                                 "gherkin", select)
    if only is not None:
        jobs = {name: job for name, job in jobs.items() if name in only}
    logs = base / "logs"
    logs.mkdir()
    return Certifications(jobs, logs, every_core=every_core)


STARTED: list[Certifications] = []
"""The certifications started when the session's tests were collected (conftest.py), so
that they run while the other tests do."""


@pytest.mark.slow
def test_reference_is_certified_in_every_profile(runs: dict[str, Run]) -> None:
    """``obsa certify reference`` (the README's command): the whole reference BMS, isolated,
    in one run; every profile it claims is certified, each on its own requirements, and
    every requirement verified by test was judged."""
    run = runs["reference"]
    assert run.exit_code == 0, run.output[-3000:]
    assert run.report is not None and run.report["outcome"] == "certified", run.output[-3000:]
    assert run.not_passed() - set(run.report["left_to_certification_body"]) == set()
    outcomes = {p["profile"]: p["outcome"] for p in run.report["profile_outcomes"]}
    assert outcomes == {"bmu_safety_core": "certified", "cell_monitoring_unit": "certified",
                        "state_estimation": "certified", "full_bms": "certified"}
    judged = {r["requirement"] for r in run.report["results"] if r["case"]}
    by_test = {r["requirement"] for r in run.report["results"]
               if r["verdict"] != "not-applicable"} - set(run.report["left_to_certification_body"])
    assert by_test <= judged, sorted(by_test - judged)
    assert {"report.json", "junit.xml", "report.html"} <= run.files


@pytest.mark.slow
def test_reference_safety_core_is_certified(runs: dict[str, Run]) -> None:
    """The reference's BMU safety core alone (reference_impl/manifest.yaml), isolated, by
    both suites in one run: they agree on every requirement."""
    run = runs["reference safety core"]
    assert run.exit_code == 0, run.output[-3000:]
    assert run.report is not None and run.report["outcome"] == "certified"
    assert run.not_passed() - set(run.report["left_to_certification_body"]) == set()
    # one profile: the run's outcome is the profile's (profile_outcomes only when several)
    assert run.report["profiles"] == ["bmu_safety_core"] and not run.report["profile_outcomes"]
    assert run.report["summary"]["pass"] >= 44
    assert run.report["suites"] == ["pytest", "gherkin"]
    assert run.report["disagreements"] == []
    verdicts = run.report["suite_verdicts"]
    assert verdicts and all(set(per) == {"pytest", "gherkin"} for per in verdicts.values())


@pytest.mark.slow
def test_each_case_ran_once_in_each_suite_with_the_same_evidence(runs: dict[str, Run]) -> None:
    """In the reference safety core's run by both suites, every test case that judges a
    requirement of it ran once in each suite, its scenario with the same verdict, criteria,
    events, channels and simulated time as its pytest twin."""
    from conformance.suite.cases import all_cases

    report = runs["reference safety core"].report
    assert report is not None
    judged: dict[str, dict[tuple[str, str], dict[str, Any]]] = {"pytest": {}, "gherkin": {}}
    for r in report["results"]:
        if not r["case"]:
            continue  # filled in by the report (not applicable, no test case)
        key = (r["case"], r["requirement"])
        assert key not in judged[r["suite"]], f"{key} judged twice by the {r['suite']} suite"
        judged[r["suite"]][key] = r
    assert judged["pytest"].keys() == judged["gherkin"].keys()
    ran = {case for case, _ in judged["gherkin"]}
    verdicts = {r["requirement"] for r in report["results"] if r["case"]}
    applicable = {k for k, c in all_cases().items() if set(c.requirements) & verdicts}
    assert ran == applicable, f"test cases without their scenario run: {applicable - ran}"
    for key, p in judged["pytest"].items():
        g = judged["gherkin"][key]
        assert g["verdict"] == p["verdict"], key
        assert g["criteria"] == p["criteria"], key
        assert g["evidence"]["events"] == p["evidence"]["events"], key
        assert g["evidence"]["channels"] == p["evidence"]["channels"], key
        assert g["simulated_s"] == p["simulated_s"], key


@pytest.mark.slow
def test_no_html_writes_the_record_without_the_page(runs: dict[str, Run]) -> None:
    """--no-html: report.json and junit.xml, no report.html (the faulty modules' runs)."""
    run = runs[ALL_FAULTY[0].name]
    assert {"report.json", "junit.xml"} <= run.files and "report.html" not in run.files


@pytest.mark.slow
def test_reference_basic_protection_is_certified(runs: dict[str, Run]) -> None:
    """The reference's basic protection, isolated, on its 16-cell LFP pack."""
    run = runs["reference basic protection"]
    assert run.exit_code == 0, run.output[-3000:]
    assert run.report is not None and run.report["outcome"] == "certified"
    assert run.not_passed() == set()
    assert {r["requirement"] for r in run.report["results"]} >= {
        f"OBSA-PROT-{n:03d}" for n in range(1, 11)}


@pytest.mark.slow
@pytest.mark.parametrize("variant", ALL_VARIANTS, ids=lambda v: v.name)
def test_correct_variant_is_certified(runs: dict[str, Run], variant: Variant) -> None:
    """A correct module unlike the reference, or the reference on a pack unlike its own,
    passes every requirement it is judged on: the suite encodes the spec, not the
    reference's choices. (It runs in process, which is never certified, and judges as an
    isolated run does: tests/wire/test_cross_transport.py.)"""
    run = runs[f"variant: {variant.name}"]
    assert run.report is not None, run.output[-3000:]
    failed = {rid: sorted(v) for rid, v in run.verdicts().items() if v & set(NOT_PASSED)}
    assert not failed, (variant.why, failed)
    assert run.report["summary"]["pass"] > 0 and "Traceback" not in run.output


@pytest.mark.slow
@pytest.mark.parametrize("faulty", ALL_FAULTY, ids=lambda f: f.name)
def test_faulty_module_fails_exactly_what_it_breaks(runs: dict[str, Run], faulty: Faulty) -> None:
    run = runs[faulty.name]
    assert run.report is not None, run.output[-3000:]
    assert run.exit_code == 1, run.output[-3000:]
    assert run.report["outcome"] == "not-certified"
    verdicts = run.verdicts()
    allowed = faulty.breaks | faulty.may_break
    assert run.report["suites"] == ["pytest"]
    for rid in faulty.breaks:  # caught by a real failure, whichever test case or monitor
        assert "fail" in verdicts[rid] and "error" not in verdicts[rid], f"{rid}: {verdicts[rid]}"
    unexpected = {rid for rid, v in verdicts.items() if v & {"fail", "error"}} - allowed
    assert not unexpected, (f"{faulty.name} should fail {sorted(faulty.breaks)} (and may fail "
                            f"{sorted(faulty.may_break)}), also failed {sorted(unexpected)}")
    # a precondition another requirement's behaviour spoils is inconclusive, naming it
    for rid in {rid for rid, v in verdicts.items() if "inconclusive" in v} - allowed:
        assert run.blamed(rid) & faulty.breaks, (
            f"{rid} is inconclusive without naming a broken requirement: {verdicts[rid]}")
    if gherkin_select(faulty, ALL_FAULTY) is not None:  # the Gherkin sample's
        gherkin = runs[gherkin_run(faulty.name)]
        assert gherkin.report is not None, gherkin.output[-3000:]
        check_gherkin_teeth(gherkin.report, faulty)


@pytest.mark.slow
@pytest.mark.parametrize("bad", BAD_SOFTWARE, ids=lambda f: f.name)
def test_misbehaving_module_gets_error_verdicts(runs: dict[str, Run], bad: Faulty) -> None:
    run = runs[bad.name]
    assert run.report is not None, f"no report written:\n{run.output[-3000:]}"
    assert run.exit_code == 1, run.output[-3000:]
    assert "Traceback" not in run.output, run.output[-3000:]
    verdicts = run.verdicts()
    # the raw-side plausibility case needs a module's own hardware abstraction: on a safety
    # core it calls nothing and is not applicable, saying why
    called = [r for r in run.report["results"] if r["test_case"]
              and r["requirement"] != "OBSA-SAFE-027"
              and not r["case"].endswith("test_pack_voltage_implausible_at_the_front_ends")]
    supervisor = [r for r in called if r["requirement"].startswith("OBSA-SAFE-")]
    assert supervisor and all(r["verdict"] == "error" for r in supervisor), verdicts
    # every error says what went wrong, naming the component
    assert all("safety_supervisor" in r["evidence"]["message"] for r in supervisor)
    if bad.name == "BadHangs":
        # after a call that hung, the module's state is unknown: every later call is refused
        assert all(r["verdict"] == "error" for r in called), verdicts
    else:  # test cases without the supervisor in the loop still pass
        diagnostics_alone = [r for r in run.report["results"] if r["requirement"] ==
                             "OBSA-DIAG-004" and "test_diagnostics.py" in r["test_case"]]
        assert diagnostics_alone and all(r["verdict"] == "pass" for r in diagnostics_alone)


@pytest.mark.parametrize("profile", ["bmu_safety_core", "bmu_basic_protection"])
def test_every_testable_requirement_has_a_faulty_module(profile: str) -> None:
    """A check is real only if a module that breaks it fails it (OBSA-SAFE-027, verified by
    inspection of the manifest, is covered by the refusal test in test_certify_inputs.py)."""
    from conformance.spec import load_spec

    spec = load_spec()
    testable = {r.id for r in spec.requirements_of_profile(profile)
                if r.verification == "test"}
    covered = set().union(*(f.breaks for f in ALL_FAULTY))
    assert testable - covered == set(), f"no faulty module breaks {sorted(testable - covered)}"
    assert len({f.name for f in ALL_FAULTY}) == len(ALL_FAULTY), "faulty module names repeat"


def test_the_gherkin_sample_has_a_module_for_every_requirement_broken() -> None:
    """Each catalogue judged under pytest alone keeps, under both suites, a faulty module
    for each requirement one of its modules breaks: every such requirement's scenarios are
    shown to have teeth."""
    from .cmu_faults import CMU_CATALOGUE
    from .estimation_runs import SELECTIONS
    from .full_bms_runs import AREAS
    from .hmi_http_faults import HMI_HTTP_CATALOGUE
    from .reports import gherkin_sample
    from .telemetry_faults import TELEMETRY_CATALOGUE

    catalogues = {"safety core": ALL_FAULTY, "cell monitor": CMU_CATALOGUE,
                  "telemetry": TELEMETRY_CATALOGUE, "hmi http": HMI_HTTP_CATALOGUE,
                  **{f"estimation {n}": c for n, (_, c) in SELECTIONS.items()},
                  **{f"full bms {n}": a.faulty for n, a in AREAS.items()}}
    for name, catalogue in catalogues.items():
        sample = gherkin_sample(catalogue)
        broken = set().union(*(f.breaks for f in catalogue))
        shown = set().union(*(f.breaks for f in catalogue if f.name in sample))
        assert shown == broken, (name, sorted(broken - shown))
        assert sample <= {f.name for f in catalogue}


def test_the_gherkin_sample_is_the_first_module_to_break_each_requirement() -> None:
    from .reports import gherkin_sample

    a, b, c, d = ({"OBSA-X-001"}, {"OBSA-X-001", "OBSA-X-002"}, {"OBSA-X-002"},
                  {"OBSA-X-003"})
    catalogue = [Faulty(n, "safety_supervisor", object, frozenset(r))
                 for n, r in zip("abcd", (a, b, c, d), strict=True)]
    assert gherkin_sample(catalogue) == {"a", "b", "d"}
    assert gherkin_sample(catalogue[2:]) == {"c", "d"}
    assert gherkin_sample([]) == frozenset()


def test_the_gherkin_run_of_the_sample_selects_the_scenarios_of_what_it_breaks() -> None:
    """The ``-k`` of a sample module's Gherkin run selects a scenario by a requirement tag
    it breaks and no other; outside the sample there is no Gherkin run."""
    from conformance.gherkin.environment import selects

    from .reports import gherkin_select

    first, second = (Faulty(n, "safety_supervisor", object, frozenset(r)) for n, r in
                     (("a", {"OBSA-X-002", "OBSA-X-010"}), ("b", {"OBSA-X-002"})))
    select = gherkin_select(first, [first, second])
    assert select is not None and gherkin_select(second, [first, second]) is None
    assert selects(select, ["A scenario", "safety_core", "OBSA-X-010"])
    assert selects(select, ["Another", "OBSA-X-002"])
    assert not selects(select, ["A third", "safety_core", "OBSA-X-001", "OBSA-X-011"])


def test_the_gherkin_teeth_check_refuses_what_does_not_show_them() -> None:
    """A sample module's Gherkin run shows teeth only where the scenarios of each
    requirement it breaks failed it, and nothing else failed."""
    from .reports import check_gherkin_teeth

    faulty = Faulty("a", "safety_supervisor", object, frozenset({"OBSA-X-001"}),
                    frozenset({"OBSA-X-003"}))

    def report(**verdicts: str) -> dict[str, Any]:
        return {"suites": ["gherkin"], "results": [
            {"requirement": rid.replace("_", "-"), "verdict": v, "case": "c"}
            for rid, v in verdicts.items()]}

    check_gherkin_teeth(report(OBSA_X_001="fail", OBSA_X_002="pass"), faulty)
    check_gherkin_teeth(report(OBSA_X_001="fail", OBSA_X_003="fail"), faulty)  # may break
    for bad in (report(OBSA_X_001="pass"), report(OBSA_X_002="pass"),
                report(OBSA_X_001="error"), report(OBSA_X_001="fail", OBSA_X_002="fail"),
                {**report(OBSA_X_001="fail"), "suites": ["pytest"]}):
        with pytest.raises(AssertionError):
            check_gherkin_teeth(bad, faulty)
