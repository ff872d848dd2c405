"""How the session's tests are shared among parallel workers (pytest-xdist, ``-n``, with
``--dist loadgroup`` as ``pyproject.toml`` sets it).

A test is scheduled on its own, on whichever worker is free — except where tests share
work a worker would otherwise do twice: the tests of a module that take a fixture of module
or session scope defined in this tree (a certification, a built example, a started server)
run on one worker, as one group (``xdist_group``), and a package's conftest may group tests
that share a session fixture across modules (the published docs, the faulty-module
catalogue). Without workers nothing changes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

# the certifications the tests start run their test cases in one process each (obsa certify
# --jobs 1): the workers already use every core; the tests of --jobs say so themselves
os.environ.setdefault("OBSA_JOBS", "1")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker per core, and one more — the worker that takes the faulty
    modules' catalogue waits for its certifications, which take a core of their own
    (tests/faulty/conftest.py)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)
    return cores + 1


def _shares_work(item: pytest.Item) -> bool:
    """True when ``item`` takes a module- or session-scoped fixture of this tree."""
    info = getattr(item, "_fixtureinfo", None)
    for defs in getattr(info, "name2fixturedefs", {}).values():
        for fixturedef in defs:
            module = getattr(getattr(fixturedef, "func", None), "__module__", "") or ""
            if fixturedef.scope in ("module", "package", "session") and \
                    module.startswith("tests."):
                return True
    return False


@pytest.hookimpl(trylast=True)  # after a package's conftest grouped its own
def pytest_itemcollected(item: pytest.Item) -> None:
    if not hasattr(item.config, "workerinput"):
        return
    if item.get_closest_marker("xdist_group") is None and _shares_work(item):
        item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


def others_done_flag(config: pytest.Config) -> Path | None:
    """Under parallel workers, a file in the run's shared temporary directory that a worker
    creates when it has no test left: the worker that waits for the catalogue's
    certifications then gives them every core (tests/faulty/conftest.py). None without
    workers."""
    if not hasattr(config, "workerinput"):
        return None
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is None:
        return None
    return Path(factory.getbasetemp()).parent / "a-worker-is-idle"


def pytest_sessionfinish(session: pytest.Session) -> None:
    flag = others_done_flag(session.config)
    if flag is not None:
        flag.touch()


CATALOGUE_TIMES = "catalogue-times.json"
"""The file, in the run's shared temporary directory, where the worker that ran the faulty
modules' certifications leaves their wall times (name → s) for the session's summary."""


def show_catalogue_times(terminalreporter: pytest.TerminalReporter, config: pytest.Config,
                         elapsed: dict[str, float]) -> None:
    """With ``--durations``: the slowest of the catalogue's certifications (they run in a
    background process, outside any test's own duration)."""
    count = config.option.durations
    if count is None or not elapsed:
        return
    shown = sorted(elapsed.items(), key=lambda item: -item[1])[:count or None]
    terminalreporter.write_sep("=", f"slowest {len(shown)} of the catalogue's "
                               f"{len(elapsed)} certifications ({sum(elapsed.values()):.0f} s "
                               "in all)")
    for name, seconds in shown:
        terminalreporter.write_line(f"{seconds:8.2f}s {name}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    # the session that ran parallel workers: the catalogue's times, left by its worker
    if hasattr(config, "workerinput") or not config.pluginmanager.has_plugin("dsession"):
        return
    factory = getattr(config, "_tmp_path_factory", None)
    times = Path(factory.getbasetemp()) / CATALOGUE_TIMES if factory is not None else None
    if times is not None and times.is_file():
        show_catalogue_times(terminalreporter, config,
                             json.loads(times.read_text(encoding="utf-8")))
