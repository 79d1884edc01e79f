"""The page's Block Kit and mrkdwn rendering, in Chromium, without a sandbox behind it: the
static scripts are loaded into a blank page and given blocks, as Klaxon would send them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.browser import chromium_path, need_browser, skip_reason

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")

STATIC = Path(__file__).resolve().parents[2] / "bot" / "sandbox" / "static"
NAMES = {
    "users": {"U1": {"name": "omar", "real_name": "Omar Haddad", "is_bot": False}},
    "channels": {"C1": "inc-1"},
    "usergroups": {"S1": "oncall"},
}


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path())
        # A viewer far from UTC, so that dates must be converted to be right.
        context = browser.new_context(locale="en-US", timezone_id="Asia/Tokyo")
        tab = context.new_page()
        tab.set_content("<main id=root></main>")
        for script in ("mrkdwn.js", "blocks.js"):
            tab.add_script_tag(path=str(STATIC / script))
        tab.evaluate(f"window.BlockKit.names = {json.dumps(NAMES)}; window.acted = [];")
        try:
            yield tab
        finally:
            browser.close()


def mrkdwn(page: Any, text: str) -> str:
    return str(page.evaluate(f"Mrkdwn.mrkdwn({json.dumps(text)}, {json.dumps(NAMES)})"))


def show(page: Any, blocks: list[dict[str, Any]]) -> None:
    page.evaluate(
        """blocks => {
            const ctx = { names: window.BlockKit.names,
                          act: (element, blockId, value) => window.acted.push(
                              [element.action_id, blockId, value]) };
            document.getElementById("root").replaceChildren(window.BlockKit.render(blocks, ctx));
        }""",
        blocks,
    )


def test_mrkdwn_formats_and_links_but_never_runs_markup(page: Any) -> None:
    html = mrkdwn(
        page,
        "*bold* _it_ ~gone~ `x<y` &lt;img src=x onerror=alert(1)&gt; <@U1> <#C1> "
        "<!subteam^S1> <!here> <https://example.com|site> <javascript:alert(1)|bad>\n"
        "&gt; quoted\n• one\n• two",
    )
    assert "<strong>bold</strong>" in html
    assert "<em>it</em>" in html
    assert "<del>gone</del>" in html
    assert "<code>x&lt;y</code>" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html
    assert "@Omar Haddad" in html
    assert 'href="#C1">#inc-1</a>' in html
    assert "@oncall" in html
    assert "@here" in html
    assert 'href="https://example.com"' in html
    assert "javascript:" not in html
    assert "<blockquote>quoted</blockquote>" in html
    assert "<ul><li>one</li><li>two</li></ul>" in html


def test_dates_are_shown_in_the_viewers_time_zone(page: Any) -> None:
    # 2023-11-14 22:13:20 UTC is the next morning in Tokyo.
    html = mrkdwn(page, "<!date^1700000000^{date_short} at {time}|14 Nov 2023 22:13 UTC>")
    assert "Nov 15, 2023 at 07:13" in html


def test_blocks_render_as_accessible_controls_that_act(page: Any) -> None:
    from playwright.sync_api import expect

    confirm = {
        "title": {"type": "plain_text", "text": "Resolve it?"},
        "text": {"type": "plain_text", "text": "Stakeholders are told."},
        "confirm": {"type": "plain_text", "text": "Resolve"},
        "deny": {"type": "plain_text", "text": "Not yet"},
    }
    option = {"text": {"type": "plain_text", "text": "SEV1"}, "value": "sev1"}
    show(
        page,
        [
            {"type": "header", "text": {"type": "plain_text", "text": "SEV1: <b>Down</b>"}},
            {
                "type": "section",
                "block_id": "facts",
                "fields": [{"type": "mrkdwn", "text": "*Status*\nInvestigating"}],
                "accessory": {
                    "type": "overflow",
                    "action_id": "more",
                    "options": [{"text": {"type": "plain_text", "text": "Export"}, "value": "x"}],
                },
            },
            {"type": "divider"},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "INC-1 · Klaxon"}]},
            {
                "type": "actions",
                "block_id": "card",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "ack",
                        "style": "primary",
                        "text": {"type": "plain_text", "text": "Acknowledge"},
                    },
                    {
                        "type": "button",
                        "action_id": "resolve",
                        "style": "danger",
                        "confirm": confirm,
                        "text": {"type": "plain_text", "text": "Resolve"},
                    },
                    {
                        "type": "static_select",
                        "action_id": "severity",
                        "placeholder": {"type": "plain_text", "text": "Change severity"},
                        "options": [option],
                    },
                ],
            },
            {"type": "rich_text", "elements": []},
        ],
    )
    root = page.locator("#root")
    expect(root.get_by_role("heading", name="SEV1: <b>Down</b>")).to_be_visible()
    root.get_by_role("button", name="Acknowledge").click()
    root.get_by_role("button", name="Resolve").click()
    dialog = page.get_by_role("alertdialog", name="Resolve it?")
    expect(dialog).to_contain_text("Stakeholders are told.")
    dialog.get_by_role("button", name="Resolve").click()
    root.get_by_role("combobox", name="Change severity").select_option("sev1")
    root.get_by_role("button", name="More options").click()
    root.get_by_role("menuitem", name="Export").click()
    expect(root).to_contain_text("[rich_text block is not rendered by the sandbox]")
    assert page.evaluate("window.acted") == [
        ["ack", "card", None],
        ["resolve", "card", None],
        ["severity", "card", "sev1"],
        ["more", "facts", "x"],
    ]
