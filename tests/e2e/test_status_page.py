"""The public status page end to end: what responders press in Slack, what the public reads.

Nothing is public until a person publishes it, and then exactly the text they wrote appears,
inert, on /status, /status.json and the Atom feed; the internal incident never does.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.incident import TimelineKind
from bot.ids import ActionId
from slack_emulator import SlackEmulator
from slack_emulator.state import View
from tests.e2e.scenario import DECLARER, RESPONDER, Scenario, custom_scenario
from tests.e2e.status_page_scenario import (
    COMPONENTS,
    HOSTILE,
    component_block,
    components,
    feed_entries,
    page,
    publish_from_card,
    submit,
    the_form,
)
from tests.e2e.test_lifecycle import BYSTANDER, buttons, declare

INTERNAL_TITLE = "Payments DB primary OOM-killed by runaway report job"


@pytest.fixture
async def status(emulator: SlackEmulator, api_url: str, tmp_path: Path) -> AsyncIterator[Scenario]:
    async for scenario in custom_scenario(emulator, api_url, tmp_path, COMPONENTS):
        yield scenario


def assert_nothing_internal(*documents: str) -> None:
    for document in documents:
        assert INTERNAL_TITLE not in document
        assert "INC-" not in document
        assert "SEV1" not in document
        assert "sev1" not in document
        assert DECLARER not in document
        assert RESPONDER not in document


async def test_nothing_published_shows_every_component_operational(status: Scenario) -> None:
    await declare(status, f"sev1 {INTERNAL_TITLE}")
    html, summary, feed = await page(status)

    assert components(summary) == {"Booking API": "operational", "Patient web": "operational"}
    assert summary["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert summary["incidents"] == []
    assert summary["page"]["name"] == "Acme status"
    assert "All Systems Operational" in html
    assert "Patient web" in html
    assert feed_entries(feed) == []
    assert_nothing_internal(html, json.dumps(summary), feed)


async def test_publish_shows_exactly_the_public_text_inert_everywhere(status: Scenario) -> None:
    incident = await declare(status, f"sev1 {INTERNAL_TITLE}")
    assert ActionId.PUBLISH_STATUS_PAGE in buttons(incident.card)
    await status.slack.press_button(
        incident.card, user_id=RESPONDER, action_id=ActionId.PUBLISH_STATUS_PAGE.value
    )
    form = await the_form(status, RESPONDER)
    # The runbook's template, in its order: title, status, message, then the components.
    labels = [b["label"]["text"] for b in form.blocks if b["type"] == "input"]
    assert labels == ["Public title", "Status", "Message for users", "Booking API", "Patient web"]
    assert form.title == "Publish to status page"
    message = f"Bookings fail for some users. {HOSTILE} & more"
    await submit(
        status,
        form,
        title=HOSTILE,
        body=message,
        **{component_block("booking-api"): "major_outage"},
    )

    html, summary, feed = await page(status)
    assert "<script>" not in html
    assert "<!channel>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt;" in html
    [public] = summary["incidents"]
    assert public["name"] == HOSTILE
    assert public["status"] == "investigating"
    assert public["impact"] == "critical"
    [update] = public["incident_updates"]
    assert update["body"] == message
    assert update["affected_components"] == [
        {
            "code": "booking-api",
            "name": "Booking API",
            "old_status": "operational",
            "new_status": "major_outage",
        }
    ]
    raw_json = (await status.bot.get("/status.json")).body
    assert "<" not in raw_json
    assert ">" not in raw_json
    assert components(summary) == {"Booking API": "major_outage", "Patient web": "operational"}
    assert summary["status"]["indicator"] == "critical"
    [entry] = feed_entries(feed)
    assert entry == {"title": f"{HOSTILE} (Investigating)", "content": message}
    assert "<script>" not in feed
    assert_nothing_internal(html, raw_json, feed)

    # The war room says what the public sees, escaped for Slack; the timeline keeps it.
    [posted] = [t for t in incident.bot_texts() if "Posted to the status page" in t]
    assert "&lt;!channel&gt;" in posted
    assert "<!channel>" not in posted
    [entry_row] = await incident.entries(TimelineKind.STATUS_PAGE)
    assert entry_row.is_key
    assert entry_row.actor == RESPONDER
    assert "&lt;script&gt;" in entry_row.text


async def test_unpublished_incident_appears_nowhere_beside_a_published_one(
    status: Scenario,
) -> None:
    published = await declare(status, "sev2 Search slow")
    await declare(status, f"sev1 {INTERNAL_TITLE}")
    await publish_from_card(status, published.card, RESPONDER, title="Slow search")

    html, summary, feed = await page(status)
    assert [i["name"] for i in summary["incidents"]] == ["Slow search"]
    assert [e["title"] for e in feed_entries(feed)] == ["Slow search (Investigating)"]
    assert_nothing_internal(html, json.dumps(summary), feed)


async def press_public_resolution(scenario: Scenario, war_room: str) -> View:
    [offer] = [
        m
        for m in scenario.ws.bot_messages(war_room)
        if ActionId.POST_PUBLIC_RESOLUTION in buttons(m)
    ]
    answer = await scenario.slack.press_button(
        offer, user_id=BYSTANDER, action_id=ActionId.POST_PUBLIC_RESOLUTION.value
    )
    assert answer.status == 200
    return await the_form(scenario, BYSTANDER)


async def test_update_resolve_and_public_resolution_bring_components_back(
    status: Scenario,
) -> None:
    first = await declare(status, "sev1 Booking outage")
    second = await declare(status, "sev2 Web portal errors")
    await publish_from_card(
        status,
        first.card,
        RESPONDER,
        title="Bookings unavailable",
        **{component_block("booking-api"): "major_outage"},
    )
    await publish_from_card(
        status,
        second.card,
        RESPONDER,
        title="Portal errors",
        **{component_block("booking-api"): "degraded_performance"},
    )

    # Later posts open "Update status page", prefilled with what the page says now.
    await first.command("public", user=RESPONDER)
    form = await the_form(status, RESPONDER)
    assert form.title == "Update status page"
    await submit(status, form, status="identified", body="We found the cause.")
    _, summary, _ = await page(status)
    bookings = next(i for i in summary["incidents"] if i["name"] == "Bookings unavailable")
    assert bookings["incident_updates"][0]["body"] == "We found the cause."
    assert bookings["status"] == "identified"
    assert components(summary)["Booking API"] == "major_outage"

    # Resolving the incident offers the public resolution to everyone in the war room.
    await first.command("resolve Restarted the booking service", user=DECLARER)
    form = await press_public_resolution(status, first.channel)
    assert form.title == "Post public resolution"
    await submit(status, form)

    _, summary, feed = await page(status)
    bookings = next(i for i in summary["incidents"] if i["name"] == "Bookings unavailable")
    assert bookings["status"] == "resolved"
    assert bookings["resolved_at"] is not None
    assert bookings["incident_updates"][0]["body"].startswith("This incident has been resolved")
    # Still degraded by the other public incident, which touches it too.
    assert components(summary)["Booking API"] == "degraded_performance"
    assert feed_entries(feed)[0]["title"] == "Bookings unavailable (Resolved)"

    await second.command("resolve Fixed", user=DECLARER)
    # Even a resolution that leaves a component marked down frees it: nothing open touches it.
    await submit(
        status,
        await press_public_resolution(status, second.channel),
        body="Fixed.",
        **{component_block("booking-api"): "degraded_performance"},
    )
    _, summary, _ = await page(status)
    assert components(summary) == {"Booking API": "operational", "Patient web": "operational"}
    assert summary["status"]["indicator"] == "none"

    # The report lists every public post among the key events.
    await first.command("postmortem", user=DECLARER)
    report = next(
        f
        for f in reversed(status.ws.files)
        if f.filename.endswith("post-incident-report.md") and first.public_id in f.filename
    )
    text = (report.content or b"").decode()
    key_events = text.split("### Key events", 1)[1].split("\n#", 1)[0]
    assert key_events.count("Posted to the status page") == 3
