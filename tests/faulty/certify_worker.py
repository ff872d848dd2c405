"""Runs many ``obsa certify`` command lines, each in a fresh fork of one prepared process.

    python -m tests.faulty.certify_worker < jobs.json

A certification in its own interpreter spends about a third of its time starting: imports
(compiled from source when bytecode is not written) and loading the suite. This worker
imports what every run needs once, then forks one child per job: each child starts from
the same untouched state a fresh process would have (the worker itself never certifies
anything), runs the real command line (:func:`conformance.cli.main`) with its own
stdout/stderr, and exits. At most ``jobs`` children run at once.

Input (stdin, JSON): ``{"jobs": N, "timeout_s": T, "every_core": path, "runs": [{"argv":
[...], "log": path}, ...]}``; when the file ``every_core`` names appears, one run per core
may go. Output (stdout): one JSON line per finished run, ``{"index": i, "exit_code": c,
"elapsed_s": s}`` (a child killed by signal N reports -N; a child past its timeout is killed
and reports ``null``; ``elapsed_s`` is its wall time from fork to end).
"""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import time
from typing import Any


def prepare() -> None:
    """Import what every certification imports and load the spec: the bench, the
    reference, the catalogue's modules and the pytest plugins that load at the end of a
    session (hypothesis) — not the suite's test files, which pytest imports in each run
    with its assertion rewriting.
    The packages of the ``obsa`` distribution are imported here, before any pytest session:
    a run's pytest would otherwise rewrite (compile again) each one it imports."""
    import importlib
    import pkgutil

    import hypothesis  # noqa: F401
    import numpy  # noqa: F401
    import pytest  # noqa: F401
    import yaml  # noqa: F401

    import conformance
    import reference_impl
    import tests.faulty

    # first: it imports every area's faults module, which imports it back (Area, packs)
    import tests.faulty.full_bms_runs  # noqa: F401

    for package in (conformance, reference_impl, tests.faulty):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            name = info.name
            if ".suite.test_" in name or name.rpartition(".")[2].startswith(("test_", "_")) \
                    or name.endswith(("__main__", "certify_worker")):
                continue
            importlib.import_module(name)
    # the spec every run loads (cached per directory): read and validated once, here
    from conformance.spec import load_spec

    load_spec()


def die_with_parent() -> None:
    """SIGKILL this process when its parent ends (Linux), so that a stopped test session
    leaves no worker and no run behind; elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def child(argv: list[str], log: str, worker: int) -> None:
    """In the fork: the command line with stdout and stderr into ``log``; never returns."""
    code = 3
    try:
        die_with_parent()
        if os.getppid() != worker:  # the worker ended before the line above
            os._exit(code)
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from conformance.cli import main

        sys.argv = ["obsa", *argv]
        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - report it like an interpreter would
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def run(jobs: int, timeout_s: float, runs: list[dict[str, Any]],
        every_core: str | None = None) -> None:
    """The runs, ``jobs`` at a time — one per core once the file ``every_core`` exists (the
    session's other tests are done and wait for these runs: the cores are theirs)."""
    pending = list(enumerate(runs))
    pending.reverse()
    running: dict[int, tuple[int, float]] = {}  # pid -> (index, deadline)
    began: dict[int, float] = {}  # index -> when its child was forked

    def report(index: int, code: int | None) -> None:
        elapsed = round(time.monotonic() - began[index], 3)
        sys.stdout.write(json.dumps({"index": index, "exit_code": code,
                                     "elapsed_s": elapsed}) + "\n")
        sys.stdout.flush()

    while pending or running:
        if every_core is not None and os.path.exists(every_core):
            jobs, every_core = max(jobs, os.cpu_count() or 1), None
        while pending and len(running) < jobs:
            index, job = pending.pop()
            worker = os.getpid()
            began[index] = time.monotonic()
            pid = os.fork()
            if pid == 0:
                child(list(job["argv"]), str(job["log"]), worker)
            running[pid] = (index, time.monotonic() + timeout_s)
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            now = time.monotonic()
            for late, (index, deadline) in list(running.items()):
                if now > deadline:
                    os.kill(late, signal.SIGKILL)
                    os.waitpid(late, 0)
                    del running[late]
                    report(index, None)
            time.sleep(0.02)
            continue
        if pid in running:
            index, _ = running.pop(pid)
            report(index, os.waitstatus_to_exitcode(status))


def main() -> int:
    parent = os.getppid()
    die_with_parent()
    if os.getppid() != parent:  # the session ended before the line above
        return 1
    request = json.load(sys.stdin)
    prepare()
    # what prepare() built lives as long as the worker: out of the collector's sight, so that
    # no child's full collection walks (and copies, page by page) the memory it shares with
    # the worker
    gc.freeze()
    run(int(request.get("jobs") or os.cpu_count() or 1), float(request.get("timeout_s", 600)),
        request["runs"], request.get("every_core"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
