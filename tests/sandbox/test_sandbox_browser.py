"""The sandbox in a real browser: the issue's seven scenarios, driven through the page only.

Each test is a new browser context (its own person switch) on one shared sandbox, and
declares its own incident, so the tests do not depend on each other's order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.sandbox.browser import (
    Client,
    chromium_path,
    full_name,
    need_browser,
    sandbox_process,
    skip_reason,
)

pytestmark = pytest.mark.skipif(skip_reason() is not None, reason=skip_reason() or "")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with sandbox_process() as url:
        yield url


@pytest.fixture(scope="module")
def drill_sandbox() -> Iterator[str]:
    # The drill's cadence, shortened from the sandbox's 60 s so the test takes seconds.
    with sandbox_process("--drill-cadence", "2s") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path())
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()


def test_declare_from_the_composer_opens_a_war_room_with_its_pinned_card(
    sandbox: str, tab: Any
) -> None:
    me = Client(tab, sandbox)
    me.be("declarer")
    room = me.declare("Checkout returns 500s")
    me.open(room)
    card = me.card()
    me.expect(card.get_by_role("heading", name="SEV2: Checkout returns 500s")).to_be_visible()
    me.expect(card.get_by_role("button", name="Acknowledge")).to_be_visible()
    me.expect(card).to_contain_text(full_name("declarer"))
    composer = re.compile(r"^Message #inc-\d{8}-\d{3}-checkout-returns-500s$")
    me.expect(tab.get_by_role("textbox", name=composer)).to_be_focused()


def test_acknowledge_updates_the_card_in_place(sandbox: str, tab: Any) -> None:
    me = Client(tab, sandbox)
    me.be("declarer")
    room = me.declare("Search is slow")
    me.be("on-call responder")
    me.open(room)
    card = me.card()
    key = card.get_attribute("data-key")
    card.get_by_role("button", name="Acknowledge").click()
    me.expect(card).to_contain_text(f"Incident Commander: @{full_name('on-call responder')}")
    me.expect(card.get_by_role("button", name="Acknowledge")).to_have_count(0)
    assert card.get_attribute("data-key") == key  # the same message, edited
    me.expect(card).to_contain_text("(edited)")
    me.expect(me.messages.get_by_role("listitem", name="Klaxon, pinned")).to_have_count(1)


def test_a_war_room_message_shows_in_the_timeline(sandbox: str, tab: Any) -> None:
    me = Client(tab, sandbox)
    me.be("declarer")
    me.open(me.declare("Login emails delayed"))
    me.say("Rolled back deploy 4711 <b>now</b>")
    mine = me.messages.get_by_role("listitem", name=full_name("declarer"))
    me.expect(mine).to_contain_text("Rolled back deploy 4711 <b>now</b>")  # text, not markup
    me.say("/incident timeline")
    answer = me.messages.locator(".message.ephemeral").last
    me.expect(answer).to_contain_text("Only visible to you")
    me.expect(answer).to_contain_text("Rolled back deploy 4711")


def test_resolve_through_the_form_with_an_inline_error_posts_the_all_clear_and_report(
    sandbox: str, tab: Any
) -> None:
    me = Client(tab, sandbox)
    me.be("declarer")
    room = me.declare("Invoices not sent")
    me.open(room)
    me.card().get_by_role("button", name="Resolve").click()
    form = me.dialog("Resolve incident")
    me.expect(form).to_be_visible()
    form.get_by_role("button", name="Resolve").click()
    me.expect(form.get_by_role("alert").first).to_be_visible()  # Klaxon's inline error
    me.expect(form.locator("[aria-invalid=true]").first).to_be_visible()
    summary = form.get_by_role("textbox").first
    summary.fill("Restarted the mail queue worker")
    for box in form.get_by_role("textbox").all()[1:]:
        box.fill("A stuck consumer after the 14:00 deploy")
    form.get_by_role("button", name="Resolve").click()
    me.expect(form).to_have_count(0)
    me.expect(me.messages).to_contain_text("Resolved: Invoices not sent")
    report = me.messages.get_by_role("button", name=re.compile(r"^Open INC-.* report"))
    report.click()
    preview = tab.get_by_role("dialog", name=re.compile(r"post-incident report$"))
    me.expect(preview.get_by_role("heading", level=1)).to_contain_text("INC-")
    me.expect(preview).to_contain_text("Restarted the mail queue worker")
    preview.get_by_role("button", name="Close").click()
    me.open("incidents")
    me.expect(me.messages).to_contain_text("Resolved: Invoices not sent")


def test_home_tab_lists_open_incidents_and_its_button_opens_the_form(
    sandbox: str, tab: Any
) -> None:
    me = Client(tab, sandbox)
    me.be("declarer")
    me.declare("Webhooks dropped")
    me.sidebar.get_by_role("link", name="Klaxon app home").click()
    home = tab.locator("#home")
    me.expect(home).to_contain_text("Webhooks dropped")
    home.get_by_role("button", name="Declare incident").click()
    form = me.dialog("Declare an incident")
    me.expect(form).to_be_visible()
    me.expect(form.get_by_role("button", name="Declare")).to_be_visible()
    form.get_by_role("button", name="Close").click()
    me.expect(form).to_have_count(0)


def test_a_stakeholders_resolve_is_refused_saying_who_may(sandbox: str, tab: Any) -> None:
    me = Client(tab, sandbox)
    me.be("declarer")
    room = me.declare("Reports page blank")
    me.be("stakeholder")
    me.open(room)
    me.card().get_by_role("button", name="Resolve").click()
    refusal = me.messages.locator(".message.ephemeral").last
    me.expect(refusal).to_contain_text("Only the Incident Commander")
    me.expect(refusal).to_contain_text(full_name("declarer"))
    me.expect(tab.get_by_role("dialog")).to_have_count(0)
    me.expect(me.card().get_by_role("button", name="Resolve")).to_be_visible()


def test_a_sev1_drill_shows_its_scheduled_update_and_first_escalation(
    drill_sandbox: str, tab: Any
) -> None:
    me = Client(tab, drill_sandbox)
    me.be("declarer")
    room = me.declare("Drill: primary database down", severity="sev1")
    me.open(room)
    me.expect(me.messages).to_contain_text("Escalation")
    me.expect(me.messages).to_contain_text("@oncall")
    me.expect(me.messages).to_contain_text(re.compile(r"update #1"))


def test_send_a_test_alert_opens_a_war_room_and_again_joins_it(sandbox: str, tab: Any) -> None:
    """The sandbox's Alertmanager button: the first press opens the incident, the second
    (one more alert in the same group) is announced in its war room, not a second room."""
    me = Client(tab, sandbox)
    me.be("on-call responder")
    send = tab.get_by_role("button", name="Send a test alert", exact=True)
    notice = tab.get_by_role("alert")
    room = re.compile(r"^#inc-\d{8}-\d{3}-checkout-error-rate-above-5$")
    send.click()
    me.expect(notice).to_contain_text(re.compile(r"1 alert firing.*HTTP 200 \(stored, INC-"))
    me.expect(me.sidebar.get_by_role("link", name=room)).to_have_count(1)
    send.click()
    me.expect(notice).to_contain_text("(2 alerts firing) sent: Klaxon answered HTTP 200 (stored)")
    me.open(room)
    me.expect(me.messages).to_contain_text("1 more alert firing")
    me.expect(me.sidebar.get_by_role("link", name=room)).to_have_count(1)
