"""The war room is the incident's record: what responders do there is captured, exactly once,
in Slack's order, whatever order and however often Slack delivers it."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.domain.incident import TimelineKind
from slack_emulator import SlackClient, SlackEmulator
from tests.e2e.harness import bot_settings, running_bot, writing
from tests.e2e.timeline_scenario import (
    BYSTANDER,
    DECLARER,
    RESPONDER,
    SETTINGS,
    WarRoom,
    open_war_room,
)


@pytest.fixture
async def room(emulator: SlackEmulator, api_url: str, tmp_path: Path) -> AsyncIterator[WarRoom]:
    async for opened in open_war_room(emulator, api_url, tmp_path):
        yield opened


def slack_time(ts: str) -> datetime:
    return datetime.fromtimestamp(float(ts), UTC)


async def test_a_message_is_recorded_with_author_text_and_slack_time(room: WarRoom) -> None:
    message = await room.post("rolling back deploy 4512")
    entry = await room.message_entry(message.ts)
    assert (entry.actor, entry.text, entry.is_bot, entry.is_key) == (
        DECLARER,
        "rolling back deploy 4512",
        False,
        False,
    )
    assert entry.occurred_at.tzinfo is not None
    assert abs((entry.occurred_at - slack_time(message.ts)).total_seconds()) < 1e-5


async def test_entries_are_ordered_by_slack_ts_not_by_arrival(room: WarRoom) -> None:
    first = room.ws.add_message(room.channel, user=DECLARER, text="first")
    second = room.ws.add_message(room.channel, user=RESPONDER, text="second")
    await room.send(room.posted_event(second))
    await room.send(room.posted_event(first))
    assert [e.text for e in await room.captured()] == ["first", "second"]


async def test_redelivered_event_is_stored_once(room: WarRoom) -> None:
    await room.post("is it DNS?")
    [delivery] = [d for d in room.emulator.deliveries if d.event.get("text") == "is it DNS?"]
    for _ in range(3):
        attempt = await room.emulator.redeliver(delivery.event_id)
        assert attempt.status == 200
    # The same fact under a second event_id (Slack does that too) is still one entry.
    await room.send(delivery.event)
    assert [d.event_id for d in room.emulator.deliveries].count(delivery.event_id) == 1
    assert [e.text for e in await room.captured()] == ["is it DNS?"]
    assert [a.retry_num for a in delivery.attempts] == [0, 1, 2, 3]


async def test_edits_update_the_entry_and_keep_its_history(room: WarRoom) -> None:
    message = await room.post("db-1 is down")
    await room.slack.user_edits(message, "db-2 is down")
    await room.slack.user_edits(message, "db-2 is down (primary)")
    entry = await room.message_entry(message.ts)
    assert entry.text == "db-2 is down (primary)"
    assert [edit.text for edit in entry.edits] == ["db-1 is down", "db-2 is down"]
    assert entry.edited_at is not None
    assert entry.edited_at > entry.occurred_at


async def test_an_edit_that_arrives_before_its_message_wins_over_the_late_original(
    room: WarRoom,
) -> None:
    message = room.ws.add_message(room.channel, user=RESPONDER, text="restart the pods")
    original = room.posted_event(message)
    await room.slack.user_edits(message, "do NOT restart the pods")
    entry = await room.message_entry(message.ts)
    assert entry.text == "do NOT restart the pods"
    assert entry.actor == RESPONDER
    await room.send(original)
    entry = await room.message_entry(message.ts)
    assert entry.text == "do NOT restart the pods"
    assert [edit.text for edit in entry.edits] == ["restart the pods"]


async def test_a_deleted_message_leaves_a_tombstone(room: WarRoom) -> None:
    message = await room.post("password is hunter2")
    original = room.posted_event(message)
    await room.slack.user_edits(message, "password is hunter3")
    await room.slack.user_deletes(message)
    entry = await room.message_entry(message.ts)
    assert entry.deleted_at is not None
    assert (entry.text, entry.edits) == ("", ())
    assert entry.actor == DECLARER
    # A late redelivery of the original does not bring the text back.
    await room.send(original)
    entry = await room.message_entry(message.ts)
    assert (entry.text, entry.edits, entry.deleted_at is not None) == ("", (), True)


async def test_a_delete_before_its_message_is_not_resurrected(room: WarRoom) -> None:
    message = room.ws.add_message(room.channel, user=RESPONDER, text="oops wrong channel")
    original = room.posted_event(message)
    await room.slack.user_deletes(message)
    await room.send(original)
    entry = await room.message_entry(message.ts)
    assert entry.text == ""
    assert entry.deleted_at is not None


async def test_pin_marks_the_entry_key_and_unpin_unmarks_it(room: WarRoom) -> None:
    message = await room.post("root cause: expired TLS certificate")
    await room.slack.user_pins(message, RESPONDER)
    assert (await room.message_entry(message.ts)).is_key
    await room.slack.user_pins(message, RESPONDER, remove=True)
    assert not (await room.message_entry(message.ts)).is_key
    pins = await room.captured(TimelineKind.PIN)
    assert [(p.actor, p.text.split(":")[0]) for p in pins] == [
        (RESPONDER, "pinned a message"),
        (RESPONDER, "unpinned a message"),
    ]


async def test_pushpin_reaction_marks_key_while_a_pin_remains(room: WarRoom) -> None:
    message = await room.post("mitigated by failing over to eu-west")
    await room.slack.user_reacts(message, RESPONDER, "eyes")
    assert not (await room.message_entry(message.ts)).is_key
    await room.slack.user_reacts(message, RESPONDER, "pushpin")
    await room.slack.user_pins(message, DECLARER)
    await room.slack.user_reacts(message, RESPONDER, "pushpin", remove=True)
    entry = await room.message_entry(message.ts)
    assert entry.is_key  # the pin is still there
    assert entry.reactions == (("eyes", (RESPONDER,)),)
    await room.slack.user_pins(message, DECLARER, remove=True)
    assert not (await room.message_entry(message.ts)).is_key


async def test_a_reaction_removed_before_it_was_added_ends_removed(room: WarRoom) -> None:
    message = await room.post("customers confirm recovery")
    added = room.slack
    await added.user_reacts(message, RESPONDER, "pushpin")
    [added_event] = room.emulator.delivered_events("reaction_added")
    await room.slack.user_reacts(message, RESPONDER, "pushpin", remove=True)
    await room.send(copy.deepcopy(added_event))  # the add, delivered again after the remove
    entry = await room.message_entry(message.ts)
    assert not entry.is_key
    assert entry.reactions == ()


async def test_a_thread_reply_records_its_thread(room: WarRoom) -> None:
    root = await room.post("what changed at 03:00?")
    reply = await room.post("deploy 4512 went out", user=RESPONDER, thread_ts=root.ts)
    entry = await room.message_entry(reply.ts)
    assert entry.thread_ts == root.ts
    assert (await room.message_entry(root.ts)).thread_ts is None


async def test_a_file_share_records_names_and_links(room: WarRoom) -> None:
    message = await room.slack.user_shares_file(
        room.channel.id, RESPONDER, "heap-dump.txt", b"OOM", text="heap dump from db-1"
    )
    entry = await room.message_entry(message.ts)
    assert entry.text == "heap dump from db-1"
    [shared] = entry.files
    assert shared.name == "heap-dump.txt"
    assert shared.url == message.files[0]["permalink"]


async def test_other_apps_messages_are_stored_marked_as_bot(room: WarRoom) -> None:
    alert = await room.slack.integration_posts(
        room.channel.id,
        "CRITICAL: p99 latency 4.2s",
        bot_id="B0ALERTS01",
        app_id="A0ALERTS01",
        bot_name="pagerduty",
    )
    entry = await room.message_entry(alert.ts)
    assert entry.is_bot
    assert entry.text == "CRITICAL: p99 latency 4.2s"


async def test_klaxons_own_messages_and_actions_are_not_recorded_twice(room: WarRoom) -> None:
    # The card, its pin, the topic and the invitations came back as events while the war
    # room opened; each is already one system entry.
    assert room.ws.bot_messages(room.channel.id)
    assert room.emulator.delivered_events("pin_added")
    kinds = [entry.kind for entry in await room.entries()]
    assert kinds == [
        TimelineKind.DECLARED,
        TimelineKind.WAR_ROOM_OPENED,
        TimelineKind.RESPONDERS_INVITED,
        TimelineKind.CARD_POSTED,
        TimelineKind.ANNOUNCED,
    ]
    # A notice Klaxon posts later is not a message entry either.
    await room.bot.klaxon.gateway.post_message(room.channel.id, "Status update due")
    await room.settle()
    assert await room.captured() == []


async def test_messages_in_other_channels_are_not_stored(room: WarRoom) -> None:
    delivery_count = len(room.emulator.deliveries)
    await room.slack.user_posts("general", BYSTANDER, "lunch?")
    [delivery] = room.emulator.deliveries[delivery_count:]
    assert delivery.attempts[-1].status == 200
    async with room.bot.klaxon.engine.connect() as connection:
        stored = await connection.execute(
            text("SELECT count(*) FROM timeline_entries WHERE text = 'lunch?'")
        )
        assert stored.scalar_one() == 0


async def test_joins_leaves_topic_and_rename_are_recorded(room: WarRoom) -> None:
    await room.slack.user_joins(room.channel.id, BYSTANDER)
    await room.slack.user_sets_topic(room.channel.id, RESPONDER, "Failing over to eu-west")
    await room.slack.user_renames(room.channel.id, RESPONDER, "inc-checkout-outage")
    await room.slack.user_leaves(room.channel.id, BYSTANDER)
    lines = [(e.kind, e.actor, e.text) for e in await room.entries()][5:]
    assert lines == [
        (TimelineKind.MEMBER, BYSTANDER, "joined the channel"),
        (TimelineKind.CHANNEL, RESPONDER, "set the topic: Failing over to eu-west"),
        (TimelineKind.CHANNEL, None, "renamed the channel to #inc-checkout-outage"),
        (TimelineKind.MEMBER, BYSTANDER, "left the channel"),
    ]


@pytest.mark.parametrize(
    "broken",
    [
        {"type": "message", "text": "no channel", "ts": "1700000000.000100"},
        {"type": "message", "channel": "CHANNEL", "user": "U1", "ts": "yesterday"},
        {"type": "message", "channel": "CHANNEL", "user": ["U1"], "ts": "1700000000.000100"},
        {"type": "message", "subtype": {"x": 1}, "channel": "CHANNEL"},
        {"type": "reaction_added", "user": "U1", "reaction": "eyes", "item": "CHANNEL"},
        {"type": "pin_added", "user": "U1", "channel_id": "CHANNEL", "item": {"type": "message"}},
        {"type": "member_joined_channel", "channel": "CHANNEL"},
        {"type": "channel_rename", "channel": "CHANNEL"},
        {"type": "message", "channel": "CHANNEL", "user": "U" * 500, "ts": "1700000000.1"},
    ],
)
async def test_malformed_events_are_acknowledged_and_ignored(
    room: WarRoom, broken: dict[str, object]
) -> None:
    event = {
        key: (room.channel.id if value == "CHANNEL" else value) for key, value in broken.items()
    }
    delivery = await room.slack.send_event(event)
    assert [attempt.status for attempt in delivery.attempts] == [200]
    assert await room.captured() == []


async def test_a_failed_write_answers_5xx_and_slacks_redelivery_stores_it(room: WarRoom) -> None:
    engine = room.bot.klaxon.engine
    async with writing(engine) as connection:
        await connection.execute(text("ALTER TABLE timeline_entries RENAME TO timeline_away"))
    message = await room.post("is anyone looking at the queue?")
    [delivery] = [d for d in room.emulator.deliveries if d.event.get("ts") == message.ts]
    assert {attempt.status for attempt in delivery.attempts} == {500}
    assert len(delivery.attempts) == 4  # Slack's first try and its three retries
    async with writing(engine) as connection:
        await connection.execute(text("ALTER TABLE timeline_away RENAME TO timeline_entries"))
    assert (await room.emulator.redeliver(delivery.event_id)).status == 200
    assert (await room.message_entry(message.ts)).text == "is anyone looking at the queue?"


async def test_a_war_room_opened_by_another_replica_is_recorded(
    room: WarRoom, emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    """Two Klaxon processes share one database; the second never saw the declare."""
    settings_file = tmp_path / "klaxon.toml"
    settings_file.write_text(SETTINGS)
    settings = bot_settings(emulator, api_url, tmp_path, klaxon_config=str(settings_file))
    async with running_bot(settings) as replica:
        to_replica = SlackClient(emulator, request_url=replica.events_url)
        message = await to_replica.user_posts(room.channel.id, RESPONDER, "seen from replica")
        await to_replica.user_posts("general", RESPONDER, "not a war room")
        # A second incident declared through the first process, then talked about via the
        # replica straight away: its war room is found in storage, not missed.
        await room.slack.slash_command(
            "/incident", "declare sev1 Payments failing", user_id=DECLARER, channel_id="general"
        )
        await room.settle()
        async with room.uow(write=False) as work:
            second = max(await work.incidents.list_open(), key=lambda i: i.id)
        assert second.channel_id is not None
        reply = await to_replica.user_posts(second.channel_id, DECLARER, "second room")
    assert (await room.message_entry(message.ts)).text == "seen from replica"
    [entry] = [e for e in await room.entries(incident_id=second.id) if e.slack_ts == reply.ts]
    assert entry.text == "second room"
