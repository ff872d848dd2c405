"""The dashboard in headless Chromium (the Debian package), driven by Playwright.

Skipped, saying why, where Chromium or Playwright is missing; `.ci/run` installs both.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .conftest import Served
from .test_http import FAULT_DELAY_S, REFRESH_S, wait_first

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (Debian package chromium)", allow_module_level=True)


def test_dashboard_shows_the_live_pack_and_an_injected_fault(served: Served,
                                                             tmp_path: Path) -> None:
    wait_first(served)
    profile = tmp_path / "chromium-profile"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            page = browser.new_page()
            page.goto(served.url + "/")
            page.wait_for_function("Number(document.body.dataset.sequence || 0) > 0",
                                   timeout=10_000)
            assert page.text_content("#hmi_contactor_state") == "closed"
            assert page.text_content("#hmi_safety_state") == "normal"
            assert page.text_content("#hmi_pack_current_A") == "-20.0 A"
            assert page.locator("#cell_voltage_V .bar").count() == 96
            assert page.locator("#cell_temperature_degC .bar").count() == 24
            assert page.locator("#fault_memory tr").count() == 28
            assert page.text_content("#active_faults") == "none"
            # live: the snapshot time on the page advances
            first = page.text_content("#hmi_snapshot_time_s")
            page.wait_for_function(
                f"document.getElementById('hmi_snapshot_time_s').textContent !== '{first}'",
                timeout=2_000)
            with served.loop.lock:
                served.loop.plant.set_cell_temperature(70.0, index=0)
            start = time.monotonic()
            page.wait_for_selector("#active_faults li.fault-discharge_overtemperature",
                                   timeout=5_000)
            shown_s = time.monotonic() - start
            assert shown_s < FAULT_DELAY_S + REFRESH_S + 1.0, shown_s
            assert page.text_content("#hmi_safety_state") == "fault"
            assert page.locator("#cell_temperature_degC .bar.fault").count() == 1
            assert page.locator("#fault_memory tr.active").count() >= 1
            page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "dashboard.png").stat().st_size > 10_000
