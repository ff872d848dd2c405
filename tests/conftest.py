"""How the session's tests are shared among parallel workers, when they run with
pytest-xdist's ``-n`` (``pyproject.toml`` says why that is not the default).

The tests of one module run on one worker, in order (their module- and session-scoped
fixtures — a certification, a built example, a started server — are then built once), and
the modules that name the same ``WORKER_GROUP`` at their top (``WORKER_GROUP = "name"``) run
on one worker together: the faulty modules' catalogue, whose certifications one worker
starts, and the tests that read the built docs. The largest group goes first. Without
workers nothing changes. (xdist's own ``--dist loadgroup`` marks do not take on this pytest:
it changes a test's id in a way pytest 9.2 no longer reads.)
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

# the certifications the tests start run their test cases in one process each (obsa certify
# --jobs 1): the workers already use every core; the tests of --jobs say so themselves
os.environ.setdefault("OBSA_JOBS", "1")


@pytest.hookimpl(optionalhook=True)  # pytest-xdist's hooks: none without it
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker per core, and one more — the worker that takes the faulty
    modules' catalogue waits for its certifications, which take a core of their own
    (tests/faulty/conftest.py)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        (os.cpu_count() or 1)
    return cores + 1


GROUP_LINE = re.compile(r'^WORKER_GROUP = "([\w-]+)"$', re.M)


def worker_groups(root: Path) -> dict[str, str]:
    """Test module (its path as a test id starts, from ``root``'s parent) → the group it
    names, for every module under ``root`` that names one."""
    out: dict[str, str] = {}
    for path in sorted(root.rglob("test_*.py")):
        found = GROUP_LINE.search(path.read_text(encoding="utf-8"))
        if found:
            out[path.relative_to(root.parent).as_posix()] = found.group(1)
    return out


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Each test module a unit of work, and the modules of one ``WORKER_GROUP`` one unit
    (the module docstring)."""
    from xdist.scheduler import LoadScopeScheduling

    groups = worker_groups(Path(__file__).resolve().parent)

    class ModulesAndGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return groups.get(module, module)

    return ModulesAndGroups(config, log)


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
