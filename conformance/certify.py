"""``obsa certify``: run the applicable conformance suite against a module, write the report.

Exit status, always from the report this run wrote (its ``run_id`` is checked):
0 certified (every applicable mandatory test case passed, the module ran isolated),
1 not certified, 2 refused (invalid manifest or spec, unusable ``--out``) or the run
ended without its own report, 128 + N when stopped by signal N (SIGINT 130, SIGTERM 143,
SIGHUP 129; the report's outcome is then ``interrupted``).

The run owns its output directory while it runs (:class:`OutputDir`): a lock refuses a
second live run in the same directory, the report files of an earlier run are removed
before the suite starts, and every file is written under a temporary name and renamed
when complete. A report left by another run can therefore never decide the exit status.

With ``jobs`` above 1 (``--jobs N``; default 1, ``auto`` for every core) the test
cases are shared among that many processes, each with its own start of the module
(:func:`shards`): every n-th test case from the k-th, each judged exactly as in one process
(its stimuli come from its own seed), and one report. A transport whose module the bench
finds running (TCP, a CAN node) or an HMI service at a fixed address runs in one process.

The report's ``duration_s`` is the wall time the user waited, from the start of the
command to the report written (:mod:`.report.wall`). ``png=True`` also exports the
evidence plots as PNG files (:mod:`.report.plots`, matplotlib: loaded only then).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from .report import PNG_DIR, REPORT_FILES, wall
from .session import STOPS, Certification, Interrupted, resolve_manifest
from .suite import SUITE_DIR
from .vectors.discovery import extra_dirs, extra_vectors

LOCK_NAME = ".obsa-run.lock"
STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, name))


class OutputError(Exception):
    """``--out`` cannot hold this run's report; the message is one line for people."""


class OutputDir:
    """The report directory, owned by this run from :meth:`claim` to :meth:`release`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock: Any = None

    def claim(self, run_id: str) -> None:
        """Check, create and lock the directory; remove the files this run will write."""
        out = self.path
        for parent in [out, *out.parents]:
            if parent.exists() and not parent.is_dir():
                where = "is a file" if parent == out else f"is under a file ({parent})"
                raise OutputError(f"--out {out}: {where}; expected a directory")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"--out {out}: cannot create the directory: "
                              f"{exc.strerror or exc}") from None
        lock_path = out / LOCK_NAME
        try:
            lock = open(lock_path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the run
        except OSError as exc:
            raise OutputError(f"--out {out}: cannot write in the directory: "
                              f"{exc.strerror or exc}") from None
        try:
            import fcntl

            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except ImportError:  # pragma: no cover - no advisory locks on this platform
            pass
        except OSError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            lock.close()
            raise OutputError(f"--out {out}: another run is writing there ({holder}); "
                              "wait for it or choose another directory") from None
        try:
            lock.seek(0)
            lock.truncate()
            lock.write(f"pid {os.getpid()}, run {run_id}\n")
            lock.flush()
            for name in REPORT_FILES:
                (out / name).unlink(missing_ok=True)
            pngs = out / PNG_DIR
            if pngs.is_dir():  # an earlier run's export (numbered NN-<test case>.png)
                for png in pngs.glob("[0-9][0-9]*-*.png"):
                    png.unlink()
        except OSError as exc:
            lock.close()
            raise OutputError(f"--out {out}: cannot write in the directory: "
                              f"{exc.strerror or exc}") from None
        self._lock = lock

    def release(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing releases the lock; the file stays (see claim)
            self._lock = None

    def own_report(self, run_id: str) -> dict[str, Any] | None:
        """This run's report.json, or None when there is none or it is another run's."""
        try:
            data = json.loads((self.path / "report.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) and data.get("run_id") == run_id else None


@contextmanager
def stop_signals() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP stop the run (once) through :data:`STOPS` — unless the
    module under test sent them.

    Where the platform tells who sent a signal (``sigwaitinfo``), the stop signals are
    blocked and a watcher thread receives them: a signal from a process of the module's
    session is the module's misbehaviour (its adapter fails with that reason, the run goes
    on); any other stops the run, through the same handler, in the main thread.
    """
    def handler(signum: int, frame: Any) -> None:
        STOPS.request(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    watcher = _SenderWatch() if _SenderWatch.available() else None
    try:
        if watcher is not None:
            watcher.start()
        yield
    finally:
        if watcher is not None:
            watcher.stop()
        for sig, old in previous.items():
            signal.signal(sig, old)


class _SenderWatch:
    """Receives the blocked stop signals in a thread and routes them by sender."""

    WAKE = signal.SIGUSR1  # interrupts a wait of the main thread so the stop is prompt

    def __init__(self) -> None:
        self._running = False
        self._thread: Any = None
        self._old_wake: Any = None

    @staticmethod
    def available() -> bool:
        import threading

        return (hasattr(signal, "sigtimedwait") and hasattr(signal, "pthread_kill")
                and threading.current_thread() is threading.main_thread())

    def start(self) -> None:
        import threading

        self._old_wake = signal.signal(self.WAKE, lambda signum, frame: None)
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        self._running = True
        self._main = threading.main_thread().ident
        self._thread = threading.Thread(target=self._watch, name="obsa-signals", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join(timeout=1)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        signal.signal(self.WAKE, self._old_wake)

    def _watch(self) -> None:
        import _thread

        from .adapters.process import blame_sender

        while self._running:
            info = signal.sigtimedwait(STOP_SIGNALS, 0.2)
            # None on timeout; a siginfo of no stop signal (si_signo 0 was seen during the
            # run of a module exhausting its memory) is no stop request either
            if info is None or info.si_signo not in {int(s) for s in STOP_SIGNALS}:
                continue
            name = signal.Signals(info.si_signo).name
            if blame_sender(info.si_pid, name):
                continue  # the module's doing: its adapter fails, the run goes on
            _thread.interrupt_main(signal.Signals(info.si_signo))
            if self._main is not None:
                signal.pthread_kill(self._main, self.WAKE)


def _plugin_args() -> list[str]:
    """Load the plugin explicitly when the distribution's entry point is not installed."""
    if any(ep.value == "conformance.pytest_plugin" for ep in entry_points(group="pytest11")):
        return []
    return ["-p", "conformance.pytest_plugin"]


def _pytest_args(manifest: Path, out: Path, run_id: str, options: RunOptions,
                 silent: bool = False) -> list[str]:
    args = [
        str(SUITE_DIR), f"--obsa-module={manifest}", f"--obsa-report={out}",
        f"--obsa-run-id={run_id}", "-p", "no:cacheprovider", "--rootdir", str(SUITE_DIR),
        "-c", str(SUITE_DIR / "pytest.ini"),
        # a process that runs a share of the test cases beside this one prints nothing: its
        # results join this one's, which prints them
        *(["-p", "no:terminal"] if silent else
          ["--no-header", "-q" if options.progress else "-qq"]),
        "-p", "no:randomly", "-W", "ignore::pytest.PytestAssertRewriteWarning",
        # the suite judges with data, not with assert statements: no rewriting (which
        # compiles every suite module anew where bytecode is not written), and none of the
        # development plugins a project environment may have (hypothesis's loads at exit)
        "--assert=plain", "-p", "no:hypothesispytest",
        # nor pytest's collector of exceptions raised in finalisers, which ends the session
        # with two full garbage collections of the suite's heap: 0.25–0.3 s of the 1.5–1.8 s
        # a certification takes to start and stop (measured with a selection that runs
        # nothing); such an exception is still printed, and it is no verdict
        "-p", "no:unraisableexception",
        *_plugin_args(),
    ]
    if options.in_process:
        args.append("--obsa-in-process")
    if not options.html:
        args.append("--obsa-no-html")
    if options.select:
        args += ["-k", options.select]
    if options.fail_fast:
        args.append("-x")
    return args


@dataclass(frozen=True)
class RunOptions:
    """How ``obsa certify`` runs the suites (its command-line options)."""

    progress: bool = True
    select: str | None = None  # pytest -k expression; for scenarios a name regex
    in_process: bool = False
    html: bool = True
    png: bool = False
    suite: str = "pytest"  # pytest | gherkin | both
    fail_fast: bool = False
    vectors: tuple[Path, ...] = ()  # the vendor's vector directories, judged too
    jobs: int = 1  # processes that share the pytest suite's test cases (see shards())


def run_certify(manifest: str, out: Path, progress: bool = True, select: str | None = None,
                in_process: bool = False, html: bool = True, png: bool = False,
                started: float | None = None, guard: bool = False,
                suite: str = "pytest", fail_fast: bool = False,
                vectors: list[Path] | None = None, jobs: int = 1) -> int:
    """Certify, write the report in ``out``, return the exit status. ``started``: when the
    command started (``time.monotonic()``; default: now), the start of ``duration_s``.
    ``guard`` (the command line's way): the run happens in a child process that this one
    watches, so that a bench killed by a signal still ends in a report (:func:`_guard`).
    ``suite``: ``pytest`` (default), ``gherkin`` or ``both`` (one report in which each
    requirement shows each suite's verdict; a disagreement is a failure of the run).
    ``fail_fast``: stop at the first verdict that is not a pass (the requirements not run
    are inconclusive, saying so). ``vectors``: directories of the vendor's own test vectors
    (obsa-vector/1, each with the characterization it names beside it), judged by every test
    case that replays vectors of their kind, in addition to the shipped ones
    (:func:`check_vectors` refuses a bad one before anything runs). ``jobs``: processes
    that share the test cases (:func:`shards`)."""
    if suite not in SUITE_CHOICES:
        print(f"obsa certify: --suite: expected one of {', '.join(SUITE_CHOICES)}, found "
              f"'{suite}'", file=sys.stderr)
        return 2
    if jobs < 1:
        print(f"obsa certify: --jobs: expected a whole number of processes of at least 1, "
              f"found {jobs}", file=sys.stderr)
        return 2
    options = RunOptions(progress, select, in_process, html, png, suite, fail_fast,
                         tuple(Path(v) for v in vectors or ()), jobs)
    # the directories of OBSA_VECTORS, if set, and those given here
    judged = extra_vectors([*extra_dirs(), *options.vectors]) if options.vectors \
        else contextlib.nullcontext()
    with wall.timing(started), judged:
        return _certify(manifest, out, options, guard)


def check_vectors(directories: list[Path]) -> str | None:
    """Why the vendor's vector ``directories`` cannot be judged, naming the file and what
    was expected; None when every vector there can. Each directory holds obsa-vector/1
    vectors (read and checked whole: the hash and every array), no id that another
    directory or the shipped set already has, each with the obsa-ecm/1 characterization it
    names beside it carrying every field the spec's estimator interfaces take from it; a
    drive-cycle vector lasts longer than the drive-cycle test cases' start and is sampled at
    the step of the component they replay it to, or a whole fraction of it."""
    from .harness.replay import characterization
    from .spec import ReadError, SpecError, load_spec
    from .vectors import VectorError, load_vector
    from .vectors.discovery import (
        DRIVE_CYCLE_COMPONENT,
        DRIVE_CYCLE_START_S,
        discover_vectors,
        is_drive_cycle,
    )

    if not directories:
        return None
    try:
        spec = load_spec()
    except (SpecError, ReadError) as exc:
        return f"the spec is invalid: {exc}"
    fields = sorted({dotted for interface in spec.interfaces.values()
                     if interface.characterization is not None
                     for dotted in interface.characterization.overrides.values()})
    with extra_vectors(directories):
        try:
            for found in discover_vectors():
                if found.source != "vendor":
                    continue
                vector = load_vector(found.path)
                doc = characterization(vector)
                where = found.path.parent / found.info.characterization
                for dotted in fields:
                    value: Any = doc
                    for part in dotted.split("."):
                        value = value.get(part) if isinstance(value, dict) else None
                    if not isinstance(value, (int, float)) or isinstance(value, bool):
                        return (f"{where}: expected the number '{dotted}' (the "
                                f"characterization of vector {found.id}), found {value!r}")
                if not is_drive_cycle(found.info):
                    continue
                drive = f"{found.path}: profile '{found.info.profile}' makes it a drive cycle"
                if found.info.duration_s <= DRIVE_CYCLE_START_S:
                    return (f"{drive}, replayed from {DRIVE_CYCLE_START_S:g} s on: expected "
                            f"duration_s above {DRIVE_CYCLE_START_S:g} s, found "
                            f"{found.info.duration_s:g} s")
                step = spec.interfaces[DRIVE_CYCLE_COMPONENT].step_period_s
                per_step = step / found.info.dt_s
                if per_step < 1 - 1e-9 or abs(per_step - round(per_step)) > 1e-6:
                    return (f"{drive}, replayed to the {DRIVE_CYCLE_COMPONENT} at its step of "
                            f"{step:g} s: expected dt_s {step:g} s or a whole fraction of it, "
                            f"found {found.info.dt_s:g} s")
        except VectorError as exc:
            return str(exc)
    return None


def _certify(manifest: str, out: Path, options: RunOptions, guard: bool = False) -> int:
    path = resolve_manifest(manifest)
    if not path.is_file():
        print(f"obsa certify: {path}: cannot read: no such file", file=sys.stderr)
        return 2
    run_id = uuid.uuid4().hex
    output = OutputDir(out)
    STOPS.received = None
    try:
        output.claim(run_id)
    except OutputError as exc:
        print(f"obsa certify: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return _signal_status("SIGINT")
    try:
        problem = _selection_problem(options.select)
        if problem:  # refused before anything runs, in a report of this run
            print(f"obsa certify: the suite could not run as asked: {problem}",
                  file=sys.stderr)
            _write_interrupted(path, out, run_id, f"the suite could not run as asked: {problem}")
            return 2
        problem = check_vectors(extra_dirs())
        if problem:
            print(f"obsa certify: --vectors: {problem}", file=sys.stderr)
            _write_interrupted(path, out, run_id, f"--vectors: {problem}")
            return 2
        if not guard or not hasattr(os, "fork"):  # no guardian where there is no fork
            return _bench(path, output, run_id, options)
        pid = os.fork()
        if pid == 0:  # the bench: the whole run; the guardian only waits
            code = 2
            try:
                os.environ[RUN_MARK] = run_id  # every process of the module inherits it
                code = _bench(path, output, run_id, options)
            except BaseException:  # noqa: BLE001 - the exit status must come from here
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        return _guard(pid, path, output, run_id)
    finally:
        output.release()


def _selection_problem(select: str | None) -> str | None:
    """Why ``-k`` cannot select test cases and scenarios (pytest's expression syntax)."""
    if not select:
        return None
    from .gherkin.environment import expression_problem

    return expression_problem(select)


RUN_MARK = "OBSA_RUN_ID"
"""Marks the bench process of a run and every process of its module (their environment)."""


def _fresh_suite() -> None:
    """Forget the suite's modules imported earlier in this process (an earlier run's, or a
    test's): the test cases parametrized over vectors are then collected over this run's
    (:mod:`conformance.vectors.discovery`). A run of its own process imported none."""
    from .gherkin.catalogue import scenarios
    from .suite.cases import PACKAGE, all_cases

    for name in [n for n in sys.modules if n.startswith(f"{PACKAGE}.test_")]:
        del sys.modules[name]
    all_cases.cache_clear()
    scenarios.cache_clear()


def _bench(path: Path, output: OutputDir, run_id: str, options: RunOptions) -> int:
    """The run itself, with the stop signals handled (the bench process)."""
    _fresh_suite()
    with stop_signals():
        try:
            status = _run(path, output, run_id, options)
        except Interrupted:
            return _signal_status(STOPS.received)
        if options.png and status in (0, 1):
            status = _export_pngs(output.path, status)
        return status


def _guard(pid: int, path: Path, output: OutputDir, run_id: str) -> int:
    """Wait for the bench process ``pid``; the exit status is the bench's. A stop signal
    for this process is passed on to the bench (which writes the interrupted report).

    The module under test runs as the same user as the bench and can signal it; should the
    bench die of a signal before its report is written (a module that kills its parent, an
    out-of-memory kill), this process — which the module does not know — writes the report
    of an interrupted run naming the signal, kills what is left of the module, and exits
    128 + the signal's number: never a lost run, never a certificate."""
    def forward(signum: int, frame: Any) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    previous = {sig: signal.signal(sig, forward) for sig in STOP_SIGNALS}
    try:
        _, wait_status = os.waitpid(pid, 0)
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    from .adapters.process import kill_session

    kill_session(None, run_id, RUN_MARK)  # whatever of the module outlived the bench
    if os.WIFEXITED(wait_status):
        return os.WEXITSTATUS(wait_status)
    number = os.WTERMSIG(wait_status)
    name = signal.Signals(number).name if number in signal.Signals._value2member_map_ \
        else f"signal {number}"
    report = output.own_report(run_id)
    if report is not None:  # written whole before the bench died
        return {"certified": 0, "not-certified": 1}.get(str(report.get("outcome")), 2)
    print(f"obsa certify: the bench process was killed by {name} before it wrote its "
          "report (a process of the module under test can send it signals); the report "
          "says the run was interrupted", file=sys.stderr)
    STOPS.received = name
    _write_interrupted(path, output.path, run_id, f"the bench process was killed by {name} "
                       "before it could write its report")
    return 128 + number


SUITE_CHOICES = ("pytest", "gherkin", "both")


def _run(path: Path, output: OutputDir, run_id: str, options: RunOptions) -> int:
    import pytest

    status: int | pytest.ExitCode = pytest.ExitCode.OK
    jobs = shards(path, options)
    if options.suite == "pytest" and jobs == 1:  # the plugin prepares, finishes, writes
        try:
            status = pytest.main(_pytest_args(path, output.path, run_id, options))
        except Interrupted:  # stopped outside a pytest session (e.g. loading the plugin)
            pass
    else:
        status = _run_suites(path, output.path, run_id, options, jobs)
    report = output.own_report(run_id)
    if STOPS.received is not None:
        if report is None:  # stopped before the suite could write: say so in a report
            _write_interrupted(path, output.path, run_id)
        print(f"obsa certify: interrupted by {STOPS.received}", file=sys.stderr)
        return _signal_status(STOPS.received)
    if report is None:
        print(f"obsa certify: the run ended without writing its report in {output.path} "
              "(see the messages above)", file=sys.stderr)
        return 2
    if status in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        print(f"obsa certify: the suite could not run as asked (pytest exit status "
              f"{int(status)}, see the messages above); the report covers no test case",
              file=sys.stderr)
        return 2
    return {"certified": 0, "not-certified": 1}.get(str(report.get("outcome")), 2)


def shards(path: Path, options: RunOptions) -> int:
    """How many processes share the pytest suite's test cases: ``options.jobs``, or 1 where
    the run cannot be shared — no fork, ``--fail-fast`` (one run stops at the first
    verdict), a manifest that does not load (its refusal is reported once), a transport
    whose module is not started by the run (:attr:`Adapter.independent_instances
    <conformance.adapters.base.Adapter.independent_instances>`: TCP, a CAN node), an HMI
    service at a fixed address (no ``{port}`` in its URL), or the pytest suite not run."""
    if options.jobs <= 1 or options.fail_fast or options.suite == "gherkin" \
            or not hasattr(os, "fork"):
        return 1
    from .adapters import AdapterError, transport_class
    from .manifest import load_manifest
    from .spec import load_spec

    try:
        manifest, issues = load_manifest(path, load_spec())
        if manifest is None or issues:
            return 1
        adapter = transport_class(manifest.adapter.type, options.in_process)
    except (AdapterError, Exception):  # noqa: BLE001 - the run itself reports what is wrong
        return 1
    if not adapter.independent_instances:
        return 1
    if manifest.hmi_http is not None and "{port}" not in manifest.hmi_http.url:
        return 1
    return options.jobs


def _run_suites(path: Path, out: Path, run_id: str, options: RunOptions,
                jobs: int = 1) -> int:
    """One certification, finished and written here as one report, when more than one
    process judges: ``--suite gherkin`` or ``both``, or ``jobs`` processes sharing the pytest
    suite. The Gherkin suite of ``both`` and every share of the pytest test cases but the
    first run at the same time as this process, each in a process of its own with its own
    start of the module (:class:`_SuiteChild`), and their results join the run's when they
    end; where there is no fork, the Gherkin suite runs after the pytest suite."""
    import pytest

    from .gherkin.runner import run_gherkin
    from .pytest_plugin import run_on

    # forked before this process starts its module: no child holds the module's pipes
    children = [_SuiteChild.start(path, out, run_id, options, "pytest", (k, jobs))
                for k in range(1, jobs)]
    if options.suite == "both" and hasattr(os, "fork"):
        children.append(_SuiteChild.start(path, out, run_id, options, "gherkin"))
    cert = Certification.prepare(path, None, out, in_process=options.in_process,
                                 run_id=run_id)
    cert.html = options.html
    cert.fail_fast = options.fail_fast
    cert.suites = ["pytest"] if options.suite == "pytest" else \
        ["gherkin"] if options.suite == "gherkin" else ["pytest", "gherkin"]
    cert.shard = (0, jobs) if jobs > 1 else None
    status = 0
    try:
        for line in cert.header_lines():
            print(line)
        if jobs > 1 and options.progress and not cert.refused:
            print(f"OBSA: the test cases shared among {jobs} processes (--jobs), each with "
                  "its own start of the module")
        if not cert.refused:
            if "pytest" in cert.suites:
                status = run_on(cert, _pytest_args(path, out, run_id, options))
                if status in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
                    return status
            if cert.interrupted_by is None and STOPS.received is None:
                gherkin_alongside = any(c.suite == "gherkin" for c in children)
                while children:
                    children.pop(0).join(cert, options.progress)
                if "gherkin" in cert.suites and not gherkin_alongside:
                    if options.progress:
                        print("OBSA: the Gherkin suite")
                    run_gherkin(cert, progress=options.progress, name=options.select,
                                stop=options.fail_fast)
    except Interrupted:
        pass
    finally:
        for child in children:
            child.kill()
        if STOPS.received is not None and cert.interrupted_by is None:
            cert.interrupted_by = STOPS.received
        report, paths = cert.conclude()
        for line in cert.summary_lines(report, paths):
            print(line)
    return status


class _SuiteChild:
    """A suite, or a share of the pytest suite's test cases, run in a forked process beside
    this one: it prepares its own certification (the same manifest, so the same seeds; its
    own start of the module), runs quietly and leaves its results in a file of the report
    directory, which :meth:`join` adds to the run's. Stop signals are the parent's to
    handle: it kills this process (and the guard, what is left of its module)."""

    def __init__(self, pid: int, results: Path, suite: str,
                 shard: tuple[int, int] | None) -> None:
        self.pid = pid
        self.results = results
        self.suite = suite
        self.shard = shard

    @property
    def name(self) -> str:
        if self.shard is None:
            return "the Gherkin suite"
        k, n = self.shard
        return f"share {k + 1} of {n} of the test cases"

    @classmethod
    def start(cls, path: Path, out: Path, run_id: str, options: RunOptions, suite: str,
              shard: tuple[int, int] | None = None) -> _SuiteChild:
        tag = suite if shard is None else f"{suite}-{shard[0]}"
        results = out / f".{tag}-{run_id}.json"
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            return cls(pid, results, suite, shard)
        code = 2
        try:  # the child: never returns
            cert = Certification.prepare(path, None, out, in_process=options.in_process,
                                         run_id=run_id)
            cert.suites = ["gherkin"] if suite == "gherkin" else ["pytest"]
            cert.fail_fast = options.fail_fast
            cert.shard = shard
            if not cert.refused:
                if suite == "gherkin":
                    from .gherkin.runner import run_gherkin

                    run_gherkin(cert, progress=False, name=options.select,
                                stop=options.fail_fast)
                else:
                    import pytest

                    from .pytest_plugin import run_on

                    status = run_on(cert, _pytest_args(path, out, run_id, options, silent=True))
                    if status in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
                        raise RuntimeError(f"pytest could not run the share (exit status "
                                           f"{int(status)})")
            cert.close()
            data = {"results": [r.model_dump(mode="json") for r in cert.results],
                    "deselected": sorted(cert.deselected),
                    "vectors": dict(cert.session.vectors) if cert.session else {}}
            tmp = results.with_suffix(".tmp")
            tmp.write_text(json.dumps(data), encoding="utf-8")
            tmp.replace(results)
            code = 0
        except BaseException:  # noqa: BLE001 - the parent reports a child without results
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)

    def join(self, cert: Certification, progress: bool) -> None:
        """Wait for the child and add its results to ``cert``; a child that ended without
        them leaves every requirement its share would have judged in error, saying why."""
        from .report.model import TestResult
        from .session import progress_line

        if progress:
            print(f"OBSA: {self.name} (it ran alongside)")
        _, status = os.waitpid(self.pid, 0)
        self.pid = 0
        try:
            data = json.loads(self.results.read_text(encoding="utf-8"))
            results = [TestResult.model_validate(r) for r in data["results"]]
        except (OSError, ValueError, KeyError):
            how = (f"was killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                   else f"exited with status {os.waitstatus_to_exitcode(status)}")
            whose = "the Gherkin suite's process" if self.shard is None \
                else f"the process of {self.name}"
            why = f"{whose} {how} without its results (see the messages above)"
            results = self._lost(cert, why)
            data = {"deselected": []}
        finally:
            self.results.unlink(missing_ok=True)
        cert.results.extend(results)
        cert.deselected.update(data["deselected"])
        if cert.session is not None:
            cert.session.vectors.update(data.get("vectors", {}))
        if progress:
            for i, r in enumerate(results):
                print(progress_line(i + 1, len(results), r))

    def _lost(self, cert: Certification, why: str) -> list[Any]:
        """Error results for what this child would have judged: every applicable requirement
        of the Gherkin suite; for a share of the pytest suite, the requirements no other
        process judges become errors saying why when the run ends (``cert.lost``)."""
        if self.shard is None:
            return [cert.unjudged("", r.id, "error", why).model_copy(
                update={"suite": "gherkin"}) for r in cert.scope() if cert.applicable([r.id])]
        cert.lost.append(why)
        return []

    def kill(self) -> None:
        """Stop the child (the run was interrupted or failed) and remove its file."""
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
            self.pid = 0
        self.results.unlink(missing_ok=True)
        self.results.with_suffix(".tmp").unlink(missing_ok=True)


def _export_pngs(out: Path, status: int) -> int:
    """The evidence plots of this run's report as PNG files in ``out``/evidence-png."""
    from .report import read_json
    from .report.plots import write_pngs

    try:
        paths = write_pngs(read_json(out / "report.json"), out / PNG_DIR)
    except OSError as exc:
        print(f"obsa certify: cannot write the PNG files in {out / PNG_DIR}: {exc}",
              file=sys.stderr)
        return 2
    print(f"OBSA: {len(paths)} evidence plots in {out / PNG_DIR}")
    return status


def _write_interrupted(path: Path, out: Path, run_id: str,
                       why: str = "the run was interrupted before the suite started") -> None:
    STOPS.holding = True
    try:
        cert = Certification(manifest_path=path, out_dir=out, run_id=run_id,
                             interrupted_by=STOPS.received, issues=[why])
        cert.write(cert.finish(time.time()))
    except OSError as exc:
        print(f"obsa certify: cannot write the report in {out}: {exc}", file=sys.stderr)
    finally:
        STOPS.holding = False


def _signal_status(name: str | None) -> int:
    return 128 + int(getattr(signal, name or "SIGINT", signal.SIGINT))
