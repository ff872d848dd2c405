"""The conformance suite as a pytest plugin (entry point ``pytest11: obsa``).

``pytest --obsa-module MANIFEST`` runs the suite against a module exactly as
``obsa certify MANIFEST`` does: the manifest is checked before any test (a refused manifest
runs nothing), test cases are selected by the claimed profiles, levels and features, every
test case records its verdicts as data, and the report is written at the end.
"""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path
from typing import Any

import pytest

from .harness.context import Harness
from .session import STOPS, Certification, Interrupted, eta, progress_line
from .suite.cases import case_key

STATE = pytest.StashKey["Certification"]()
OWNED = pytest.StashKey[bool]()
HARNESS = pytest.StashKey[Harness]()
_RUNNING: list[Certification] = []
"""Runs of this process not yet finished (the Ctrl-C hook gets no config to find them)."""
PROVIDED: list[Certification] = []
"""A certification that ``obsa certify`` holds and this pytest session runs its suite on
(set by :func:`run_on`): the plugin then neither prepares nor finishes it."""


def run_on(cert: Certification, args: list[str]) -> int:
    """Run pytest with ``args`` on the certification ``cert`` (which the caller finishes and
    writes); returns pytest's exit status."""
    PROVIDED.append(cert)
    try:
        return int(pytest.main(args))
    finally:
        PROVIDED.clear()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("obsa", "OBSA conformance suite")
    group.addoption("--obsa-module", metavar="MANIFEST", default=None,
                    help="certify the module this manifest describes ('reference' for the "
                         "reference implementation); runs the conformance suite")
    group.addoption("--obsa-report", metavar="DIR", default="obsa-report",
                    help="where report.json, junit.xml and report.html go (default: obsa-report)")
    group.addoption("--obsa-spec", metavar="DIR", default=None,
                    help="spec directory (default: the bundled spec)")
    group.addoption("--obsa-in-process", action="store_true", default=False,
                    help="run a python module inside this process (debugging and profiling "
                         "only: the report is never 'certified')")
    group.addoption("--obsa-no-html", action="store_true", default=False,
                    help="write report.json and junit.xml only (no report.html: its evidence "
                         "plots take about as long as the test cases)")
    group.addoption("--obsa-run-id", metavar="ID", default=None,
                    help="id of this run, written into the report (default: a new one)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "requirement(*ids): the OBSA requirement(s) a conformance test case verifies")
    manifest = config.getoption("--obsa-module", default=None)
    if not manifest:
        return
    if config.getoption("dist", default="no") != "no" and not hasattr(config, "workerinput"):
        # xdist's workers would each judge in a process of their own, and no report here
        pytest.exit("--obsa-module runs its test cases in this process, not in pytest-xdist's "
                    "workers (-n, --dist): run without them (-n 0), or share the test cases "
                    "among processes with obsa certify --jobs N", returncode=2)
    if PROVIDED:
        cert = PROVIDED[-1]
        config.stash[OWNED] = False
    else:
        from .certify import check_vectors
        from .vectors.discovery import extra_dirs

        problem = check_vectors(extra_dirs())  # OBSA_VECTORS names the vendor's directories
        if problem is not None:
            pytest.exit(problem, returncode=2)
        cert = Certification.prepare(manifest, spec_dir=config.getoption("--obsa-spec"),
                                     out_dir=Path(config.getoption("--obsa-report")),
                                     in_process=config.getoption("--obsa-in-process"),
                                     run_id=config.getoption("--obsa-run-id"))
        cert.html = not config.getoption("--obsa-no-html")
        cert.fail_fast = config.getoption("maxfail") == 1  # -x: stop at the first failure
        config.stash[OWNED] = True
        _RUNNING.append(cert)
    config.stash[STATE] = cert
    config.stash[PROGRESS] = [0, time.perf_counter()]
    if config.args_source != pytest.Config.ArgsSource.ARGS:
        from .suite import SUITE_DIR

        config.args[:] = [str(SUITE_DIR)]


def _cert(config: pytest.Config) -> Certification | None:
    return config.stash.get(STATE, None)


PROGRESS = pytest.StashKey[list[float]]()
"""[results shown, when the run started] for the progress lines."""


def _key(item: pytest.Item) -> str:
    """The suite-independent key of a test case (:mod:`conformance.suite.cases`)."""
    module = getattr(item, "module", None)
    return case_key(module.__name__ if module is not None else item.path.stem, item.name)


def _requirements(item: pytest.Item) -> list[str]:
    ids: list[str] = []
    for mark in item.iter_markers("requirement"):
        ids.extend(str(a) for a in mark.args)
    return ids


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    cert = _cert(config)
    return cert.header_lines() if cert else None


@pytest.hookimpl(trylast=True)  # after -k's deselection: the plan is what runs
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    cert = _cert(config)
    if cert is None:
        return
    keep, drop = [], []
    for item in items:
        ids = _requirements(item)
        applicable = cert.applicable(ids) if ids and not cert.refused else []
        if applicable:
            keep.append(item)
        else:
            drop.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    if cert.shard is not None:  # the other shares run in processes beside this one
        k, n = cert.shard
        keep = keep[k::n]
    items[:] = keep
    cert.planned = [(item.nodeid, _requirements(item)) for item in keep]


def pytest_collection_finish(session: pytest.Session) -> None:
    """In the bench process of an ``obsa certify`` run (which ends with the run), what was
    built before the first test case — imports, spec, manifest, the collected suite — lives
    to the end: out of the garbage collector's sight (``gc.freeze``), each full collection
    while the test cases run scans only what they made."""
    if _cert(session.config) is None:
        return  # not a certification: nothing imported for it
    from .certify import RUN_MARK

    if os.environ.get(RUN_MARK):
        gc.freeze()


def pytest_deselected(items: list[pytest.Item]) -> None:
    for item in items:
        cert = _cert(item.config)
        if cert is not None:
            cert.deselected.update(cert.applicable(_requirements(item)))


@pytest.fixture
def obsa(request: pytest.FixtureRequest) -> Harness:
    """The harness of one conformance test case (see :class:`conformance.harness.Harness`)."""
    cert = _cert(request.config)
    if cert is None:
        pytest.skip("conformance test case: run with --obsa-module MANIFEST (or obsa certify)")
    harness = cert.harness(request.node.nodeid, _requirements(request.node), _key(request.node))
    request.node.stash[HARNESS] = harness
    return harness


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    outcome = yield
    cert = _cert(item.config)
    if cert is None or call.when not in ("setup", "call"):
        return
    report = outcome.get_result()
    harness = item.stash.get(HARNESS, None)
    if call.when == "setup" and call.excinfo is None:
        return
    exc = call.excinfo.value if call.excinfo else None
    results = cert.collect(item.nodeid, _requirements(item), harness, exc,
                           getattr(report, "duration", 0.0), suite="pytest", case=_key(item))
    bad = [r for r in results if r.verdict in ("fail", "error", "inconclusive")]
    if bad:
        report.outcome = "failed"
        report.longrepr = "\n".join(cert.describe(r) for r in bad)
    _progress(item.config, cert, results)


def _progress(config: pytest.Config, cert: Certification, results: list[Any]) -> None:
    """One line per verdict; on a terminal with the time left, the verdict in colour
    (pytest's own rules: ``--color``, ``NO_COLOR``)."""
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is None or config.getoption("verbose") < -1:  # -qq: no progress lines
        return
    state = config.stash[PROGRESS]
    total = sum(len(ids) for _, ids in cert.planned) or len(results)
    writer = config.get_terminal_writer()
    on_terminal = writer.hasmarkup
    for r in results:
        state[0] += 1
        done = int(state[0])
        total = max(total, done)
        tr.write_line(progress_line(done, total, r, colour=on_terminal,
                                    eta_s=eta(state[1], done, total) if on_terminal
                                    else None))


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config
                             ) -> tuple[str, str, str] | None:
    """No progress letter (pytest's ``.``/``F``) beside the run's own progress lines: off a
    terminal it would start the next line (``.[  2/ 73] …``)."""
    verbose = config.getoption("verbose")
    if _cert(config) is None or not -1 <= verbose <= 0 or report.when != "call":
        return None
    return report.outcome, "", report.outcome.upper()


def pytest_keyboard_interrupt(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    """Ctrl-C, or a stop signal of ``obsa certify``: the report says the run was stopped."""
    exc = excinfo.value
    name = exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
    for cert in _RUNNING:
        cert.interrupted_by = cert.interrupted_by or name


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    cert = _cert(session.config)
    if cert is None:
        return
    if exitstatus == pytest.ExitCode.INTERRUPTED and cert.interrupted_by is None:
        cert.interrupted_by = STOPS.received or "SIGINT"
    if not session.config.stash.get(OWNED, True):
        return  # obsa certify finishes and writes the run
    try:
        report, paths = cert.conclude()
    finally:
        _RUNNING[:] = [c for c in _RUNNING if c is not cert]
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None:
        tr.write_line("")
        for line in cert.summary_lines(report, paths):
            tr.write_line(line)
    session.exitstatus = {"certified": 0, "not-certified": 1}.get(report.outcome, 2)
    if report.outcome == "interrupted":
        session.exitstatus = pytest.ExitCode.INTERRUPTED

