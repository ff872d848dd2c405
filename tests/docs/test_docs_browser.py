"""The published standard in a real browser (headless Chromium): the index and a requirement
page render with the requirement's statement, the search page finds a requirement, and a
screenshot of the requirement page is kept as a test artifact (its path is printed).

Skipped, saying why, when Chromium is not installed (``apt-get install chromium``)."""

from __future__ import annotations

import html
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from conformance.docs.pages import GENERATED, REQ_DIR
from conformance.docs.rst import one_line
from conformance.spec import load_spec

#: its tests run on the worker of this group (tests/conftest.py)
WORKER_GROUP = "built_docs"

CHROMIUM = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser",
                                                        "google-chrome")) if p), None)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian: "
                       "apt-get install chromium); the docs are not looked at in a browser"),
]
REQUIREMENT = "OBSA-SAFE-001"
WINDOW = (1400, 2200)


def _chromium(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    # root in a container: no sandbox; no GPU; a fresh profile each time
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--disable-dev-shm-usage", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def _dom(url: str, wait_ms: int = 0) -> str:
    extra = [f"--virtual-time-budget={wait_ms}"] if wait_ms else []
    proc = _chromium(*extra, "--dump-dom", url)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _text(dom: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", dom, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_the_index_renders_with_its_navigation(built_docs: Path) -> None:
    text = _text(_dom((built_docs / "index.html").as_uri()))
    for entry in ("Architecture", "Component interfaces", "Requirements catalogue",
                  "Test cases of the suite", "Module manifest", "vendor's guide"):
        assert entry in text, entry


def test_the_requirement_page_shows_its_statement(
        built_docs: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    req = load_spec().requirements[REQUIREMENT]
    page = built_docs / GENERATED / REQ_DIR / f"{REQUIREMENT}.html"
    text = _text(_dom(page.as_uri()))
    assert one_line(req.statement) in text
    assert "Acceptance criteria" in text and "Rationale and sources" in text
    shots = tmp_path_factory.mktemp("docs-screenshots")
    shot = shots / f"{REQUIREMENT}.png"
    proc = _chromium(f"--window-size={WINDOW[0]},{WINDOW[1]}", f"--screenshot={shot}",
                     page.as_uri())
    assert shot.is_file(), proc.stderr[-2000:]
    head = shot.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", head[16:24]) == WINDOW
    print(f"\nscreenshot of the requirement page: {shot}")


def test_search_finds_a_requirement(built_docs: Path) -> None:
    assert (built_docs / "search.html").is_file()
    assert (built_docs / "searchindex.js").is_file()
    query = (built_docs / "search.html").as_uri() + "?q=overvoltage"
    dom = _dom(query, wait_ms=8000)
    assert f"{REQ_DIR}/{REQUIREMENT}.html" in dom, _text(dom)[-2000:]
