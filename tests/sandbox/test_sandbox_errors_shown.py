"""Slack's errors for Klaxon's calls appear on the page, in a real browser.

In-process (Playwright's async API), so that the test can archive #incidents under Klaxon's
feet; apart from the sync browser tests, whose Playwright owns the thread's event loop.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from bot.sandbox.compose import Options, running
from tests.sandbox.browser import chromium_path, skip_reason

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")


async def test_slacks_errors_for_klaxons_calls_are_shown(tmp_path: Path) -> None:
    """Klaxon's announcement to an archived #incidents is refused with ``is_archived``, and
    the page says so."""
    from playwright.async_api import async_playwright, expect

    async with running(Options(port=0), asyncio.Event()) as sandbox, async_playwright() as pw:
        sandbox.emulator.default_workspace.get_channel("incidents").is_archived = True
        chromium = await pw.chromium.launch(executable_path=chromium_path())
        try:
            page = await chromium.new_page()
            await page.goto(sandbox.url)
            box = page.get_by_role("textbox", name="Message #general")
            await box.fill("/incident declare sev3 Archived announcements")
            await box.press("Enter")
            toggle = page.get_by_role("button", name=re.compile(r"^Slack errors \([1-9]"))
            await expect(toggle).to_be_visible(timeout=10_000)
            await toggle.click()
            errors = page.get_by_role("region", name="Slack errors for Klaxon's calls")
            await expect(errors).to_contain_text("chat.postMessage answered is_archived")
            await expect(errors).to_contain_text("#incidents")
        finally:
            await chromium.close()
