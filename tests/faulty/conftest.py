"""Starts the catalogue's certifications as soon as the session knows which it needs (the
tests selected), and runs their tests last: the session's other tests run meanwhile."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.hookimpl(trylast=True)  # after -m / -k deselected what they deselect
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    from . import test_certify_catalogue as catalogue

    waiting = [item for item in items if getattr(item, "module", None) is catalogue
               and catalogue.needed(item)]
    if not waiting or catalogue.STARTED or config.option.collectonly:
        return
    items[:] = [item for item in items if item not in waiting] + waiting
    base = Path(tempfile.mkdtemp(prefix="obsa-catalogue-"))
    started = catalogue.start(base, set().union(*(catalogue.needed(i) for i in waiting)))
    catalogue.STARTED.append(started)

    def clean_up() -> None:
        started.stop()
        catalogue.STARTED.clear()
        shutil.rmtree(base, ignore_errors=True)

    config.add_cleanup(clean_up)
