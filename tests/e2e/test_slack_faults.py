"""Slack misbehaving: rate limits, server errors and dropped connections on every method.

With 20% of calls answered 429 (Retry-After), 5% answered 500 or 503 and 3% dropped, every
declared incident still gets its war room, card, announcement and lifecycle notices, each
exactly once, and nothing unhandled reaches the logs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from slack_emulator import Fault, RateLimit, SlackEmulator
from tests.e2e.scenario import DECLARER, RESPONDER, Scenario, custom_scenario
from tests.e2e.test_lifecycle import declare

TITLES = [f"Faulty dependency {n}" for n in range(8)]


@pytest.fixture
async def faulty(emulator: SlackEmulator, api_url: str, tmp_path: Path) -> AsyncIterator[Scenario]:
    emulator.faults.reseed(20261122)
    emulator.faults.random_fault("*", Fault.ratelimited(retry_after=1), 0.20)
    emulator.faults.random_fault("*", Fault.http_error(500), 0.03)
    emulator.faults.random_fault("*", Fault.http_error(503), 0.02)
    emulator.faults.random_fault("*", Fault.connection_reset(), 0.03)
    async for scenario in custom_scenario(emulator, api_url, tmp_path):
        yield scenario


async def test_every_war_room_and_notice_arrives_once_despite_slack_faults(
    faulty: Scenario, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    incidents = await asyncio.gather(*(declare(faulty, f"sev2 {title}") for title in TITLES))
    await faulty.settle()
    for incident in incidents:
        await incident.command("ack", user=RESPONDER)
        await incident.command("resolve Restarted the dependency")
    await faulty.settle()

    ws = faulty.ws
    rooms = [c for c in ws.channels_by_id.values() if c.name.startswith("inc-")]
    assert len(rooms) == len(TITLES)
    announcements = [m.text for m in ws.bot_messages("incidents") if "declared" in m.text]
    assert len(announcements) == len(TITLES)
    for incident in incidents:
        row = await incident.row()
        assert row.card_ts is not None
        assert row.status == "resolved"
        assert len(ws.pins(incident.channel)) == 1
        posted = Counter(m.text for m in ws.bot_messages(incident.channel))
        assert max(posted.values()) == 1, posted  # nothing posted twice
        assert any("acknowledged the incident" in text for text in posted)
        assert any("Resolved" in text or "All clear" in text for text in posted)
    faulted = [call for call in faulty.emulator.calls() if call.fault]
    kinds = {call.fault for call in faulted}
    # The faults really happened, of every kind.
    assert {"ratelimited", "connection_reset"} <= kinds, kinds
    assert kinds & {"http_500", "http_503"}, kinds
    unhandled = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert unhandled == [], [r.getMessage() for r in unhandled]


async def test_alert_storm_opens_every_war_room_once_and_says_why_some_wait(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    # Slack's Tier 2 (about 20 channels a minute), compressed: 4 every 3 seconds.
    emulator.faults.set_rate_limit("conversations.create", RateLimit(4, window=3.0))
    async for scenario in custom_scenario(emulator, api_url, tmp_path):
        replies = await asyncio.gather(
            *(scenario.command(f"declare sev1 Storm alert {n}") for n in range(12))
        )
        assert all("Declaring" in reply["text"] for reply in replies)
        await scenario.settle()
        ws = scenario.ws
        rooms = [c for c in ws.channels_by_id.values() if c.name.startswith("inc-")]
        assert len(rooms) == 12
        rows = await scenario.incidents()
        assert len({row.channel_id for row in rows}) == 12
        assert all(row.card_ts for row in rows)
        announced = [m for m in ws.bot_messages("incidents") if "Storm alert" in m.text]
        assert len(announced) == 12
        notes = scenario.notes_to(DECLARER)
        assert any("Slack is slow to create its channel" in note for note in notes)
        assert sum("is ready" in note for note in notes) == 12
        assert len(ws.calls("conversations.create")) > 12  # some really were refused


async def test_posts_answered_after_the_client_gave_up_are_not_posted_twice(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    # Slack answers every post two seconds late, after the bot's one-second timeout; it posts
    # the message all the same (the emulator, like Slack, finishes a request whose client left).
    emulator.faults.latency("chat.postMessage", 2.0)
    async for scenario in custom_scenario(emulator, api_url, tmp_path, slack_api_timeout=1):
        await scenario.declare("sev2 Slow Slack")
        [incident] = await scenario.incidents()
        assert incident.channel_id is not None
        assert incident.card_ts is not None  # the card's ts, found in the channel's history
        await asyncio.sleep(2.5)  # any post still in flight lands
        ws = scenario.ws
        cards = [m for m in ws.bot_messages(incident.channel_id) if m.ts == incident.card_ts]
        assert len(cards) == 1
        assert ws.pins(incident.channel_id) == cards
        posts = Counter(m.text for m in ws.bot_messages(incident.channel_id))
        assert max(posts.values()) == 1, posts
        announced = [m for m in ws.bot_messages("incidents") if "Slow Slack" in m.text]
        assert len(announced) == 1


async def test_when_slack_limits_channels_a_sev1_goes_first_and_nobody_asks_again_early(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    window = 3.0
    emulator.faults.set_rate_limit("conversations.create", RateLimit(2, window=window))
    async for scenario in custom_scenario(emulator, api_url, tmp_path):
        started = time.monotonic()
        for title in ("First", "Second"):  # Slack's budget for this window
            await scenario.command(f"declare sev3 {title}")
        await scenario.command("declare sev3 Third")  # refused: the window is spent
        await scenario.command("declare sev3 Fourth")
        await scenario.command("declare sev1 Checkout down")
        assert await scenario.bot.klaxon.tasks.wait_idle(30)
        elapsed = time.monotonic() - started

    creates = scenario.ws.calls("conversations.create")
    opened = [call.args["name"].split("-", 3)[3] for call in creates if call.ok]
    assert opened == ["first", "second", "checkout-down", "third", "fourth"]
    # Each refusal closes creation for Slack's Retry-After: one per window at most.
    refused = [call for call in creates if not call.ok]
    windows = int(elapsed // window) + 1
    assert 1 <= len(refused) <= windows
