"""Every event and interaction the manifest subscribes Klaxon to is answered 2xx, so Slack
neither redelivers it nor counts a failed delivery against the app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from slack_emulator import SlackClient, SlackEmulator
from tests.e2e.harness import RunningBot

MANIFEST = json.loads((Path(__file__).parents[2] / "slack-app-manifest.json").read_text())
BOT_EVENTS = MANIFEST["settings"]["event_subscriptions"]["bot_events"]


def event_for(name: str, channel: str) -> dict[str, object]:
    kind = name.split(".")[0]  # message.channels -> message
    event: dict[str, object] = {"type": kind, "user": "U0SOMEONE1", "event_ts": "1.000001"}
    if kind == "message":
        event.update(channel=channel, text="hello", ts="1700000000.000100")
    elif kind in {"reaction_added", "reaction_removed"}:
        event.update(reaction="eyes", item={"type": "message", "channel": channel, "ts": "1.1"})
    elif kind in {"pin_added", "pin_removed"}:
        event.update(channel_id=channel, item={"type": "message", "channel": channel})
    elif kind in {"member_joined_channel", "member_left_channel"}:
        event.update(channel=channel)
    elif kind in {"channel_rename", "group_rename"}:
        event.update(channel={"id": channel, "name": "renamed", "created": 1})
    elif kind == "app_home_opened":
        event.update(channel="D0HOME0001", tab="home")
    return event


@pytest.mark.parametrize("name", BOT_EVENTS)
async def test_subscribed_event_is_acknowledged(
    bot: RunningBot, emulator: SlackEmulator, name: str
) -> None:
    channel = emulator.default_workspace.create_channel("general", bot_is_member=True)
    slack = SlackClient(emulator, request_url=bot.events_url)
    delivery = await slack.send_event(event_for(name, channel.id))
    assert delivery.attempts[0].status == 200
    assert len(delivery.attempts) == 1  # no redelivery


async def test_add_to_timeline_shortcut_without_open_incidents_says_so(
    bot: RunningBot, emulator: SlackEmulator
) -> None:
    ws = emulator.default_workspace
    ws.add_user("ana", user_id="U0ANA00001")
    channel = ws.create_channel("alerts", bot_is_member=True, members=["U0ANA00001"])
    message = ws.add_message(channel, user="U0ANA00001", text="disk full on db-1")
    slack = SlackClient(emulator, request_url=bot.events_url)
    answer = await slack.message_shortcut(
        message, callback_id="add_to_timeline", user_id="U0ANA00001"
    )
    assert answer.status == 200
    assert await bot.klaxon.tasks.wait_idle(5)
    [answer_note] = ws.ephemerals(user="U0ANA00001")
    assert "There is no open incident" in answer_note.text
    assert ws.open_views("U0ANA00001") == []
