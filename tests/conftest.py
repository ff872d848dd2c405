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

import pytest


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
