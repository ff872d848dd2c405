"""Starts the catalogue's certifications as soon as the session knows which it needs (the
tests selected), and runs their tests last: the session's other tests run meanwhile.

A test module of this package that reads certifications takes the ``runs`` fixture and
defines ``needed(item)``: the names of the runs (:func:`.test_certify_catalogue.start`) a
test of it reads.

With parallel workers (pytest-xdist) the modules that read the runs name one group at their
top, ``WORKER_GROUP = "catalogue"`` (tests/conftest.py): one worker takes them all, first
(the largest group), and starts the certifications when its first such test asks; the other
workers run the session's other tests meanwhile, and no worker certifies twice."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest

from ..conftest import CATALOGUE_TIMES, others_done_flag, show_catalogue_times


def _needed(item: pytest.Item) -> set[str]:
    needed = getattr(getattr(item, "module", None), "needed", None)
    if not callable(needed) or "runs" not in getattr(item, "fixturenames", ()):
        return set()
    return set(needed(item))


#: the runs the selected tests read, for the worker that starts them (xdist)
NEEDED: set[str] = set()


def _parallel(config: pytest.Config) -> bool:
    """True in a pytest-xdist worker."""
    return hasattr(config, "workerinput")


@pytest.hookimpl(trylast=True)  # after -m / -k deselected what they deselect
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    from . import test_certify_catalogue as catalogue

    waiting = [item for item in items if _needed(item)]
    if not waiting or catalogue.STARTED or config.option.collectonly:
        return
    if _parallel(config):
        # every worker collects every test, and only one runs these: it starts the runs
        # when the first of them asks for them (the runs fixture)
        NEEDED.update(*(_needed(i) for i in waiting))
        return
    items[:] = [item for item in items if item not in waiting] + waiting
    base = Path(tempfile.mkdtemp(prefix="obsa-catalogue-"))
    started = catalogue.start(base, set().union(*(_needed(i) for i in waiting)))
    catalogue.STARTED.append(started)

    def clean_up() -> None:
        started.stop()
        catalogue.STARTED.clear()
        shutil.rmtree(base, ignore_errors=True)

    config.add_cleanup(clean_up)


@pytest.fixture(scope="session")
def runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every certification the session's tests read, run in parallel once per session
    (started at collection when such tests are selected, else now: all of them)."""
    from . import test_certify_catalogue as catalogue

    if not catalogue.STARTED:
        # under parallel workers the others keep the other cores busy: one run per two
        # cores, as before, until one of them has no test left
        started = catalogue.start(tmp_path_factory.mktemp("certify"), NEEDED or None,
                                  others_done_flag(request.config))
        catalogue.STARTED.append(started)
    result = catalogue.STARTED[0].result()
    shared = others_done_flag(request.config)
    if shared is not None:  # for the summary of the session, which another process writes
        (shared.parent / CATALOGUE_TIMES).write_text(
            json.dumps(catalogue.STARTED[0].elapsed_s), encoding="utf-8")
    return result


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    """With ``--durations``: the catalogue's slowest certifications too (they run in the
    background worker, outside any test's own duration); under parallel workers the
    session's summary (tests/conftest.py) shows them."""
    from . import test_certify_catalogue as catalogue

    if catalogue.STARTED and catalogue.STARTED[0].elapsed_s:
        show_catalogue_times(terminalreporter, config, catalogue.STARTED[0].elapsed_s)
