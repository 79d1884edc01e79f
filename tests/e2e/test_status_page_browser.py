"""The status page in a real browser (Debian's Chromium driven by Playwright), at a phone's
size: what a reader sees, and that hostile text stays text.

Skipped, saying why, when Playwright or /usr/bin/chromium is missing (``.ci/run`` installs
both). ``STATUS_PAGE_SCREENSHOT=docs/status-page.png`` also saves the screenshot there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from slack_emulator import SlackEmulator
from tests.e2e.scenario import RESPONDER, Scenario, custom_scenario
from tests.e2e.status_page_scenario import COMPONENTS, HOSTILE, component_block, publish_from_card
from tests.e2e.test_lifecycle import declare

CHROMIUM = Path("/usr/bin/chromium")

playwright_api = pytest.importorskip(
    "playwright.async_api", reason="Playwright is not installed (pip install -e '.[test]')"
)
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's Chromium is not installed (apt-get install chromium)"
)


@pytest.fixture
async def status(emulator: SlackEmulator, api_url: str, tmp_path: Path) -> AsyncIterator[Scenario]:
    async for scenario in custom_scenario(emulator, api_url, tmp_path, COMPONENTS):
        yield scenario


async def test_a_reader_on_a_phone_sees_the_published_incident_and_nothing_runs(
    status: Scenario, tmp_path: Path
) -> None:
    incident = await declare(status, "sev1 Payments DB primary OOM-killed")
    await publish_from_card(
        status,
        incident.card,
        RESPONDER,
        title="Online booking unavailable",
        body="Some patients cannot book appointments online. We are working on a fix.",
        **{component_block("booking-api"): "major_outage"},
    )
    dialogs: list[str] = []
    async with playwright_api.async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = await browser.new_page(viewport={"width": 390, "height": 844})
            page.on("dialog", lambda dialog: dialogs.append(dialog.message))
            await page.goto(status.bot.base_url + "/status")
            assert await page.title() == "Acme status"
            assert await page.locator("h1").inner_text() == "Acme status"
            banner = page.locator(".banner")
            assert await banner.inner_text() == "Major Service Outage"
            current = page.locator("article.incident").first
            assert await current.locator("h3").inner_text() == "Online booking unavailable"
            booking = page.locator('li[data-component="booking-api"]')
            assert "Major outage" in await booking.inner_text()
            web = page.locator('li[data-component="patient-web"]')
            assert "Operational" in await web.inner_text()
            # Readable on a phone: nothing wider than the screen.
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390
            screenshot = tmp_path / "status-page.png"
            await page.screenshot(path=str(screenshot), full_page=True)
            wanted = os.environ.get("STATUS_PAGE_SCREENSHOT")
            if wanted:
                shutil.copyfile(screenshot, wanted)

            # A hostile public title is shown as text, and nothing on the page runs.
            await publish_from_card(
                status, incident.card, RESPONDER, title=HOSTILE, body=f"Still {HOSTILE}"
            )
            await page.reload()
            assert await page.locator("article.incident h3").first.inner_text() == HOSTILE
            assert await page.evaluate("document.scripts.length") == 0
            assert dialogs == []
        finally:
            await browser.close()
