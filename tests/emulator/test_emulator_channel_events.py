"""Channel events a war room produces besides plain posts: file shares, other apps' posts and
renames, shaped like the contract's samples (MessageFileSharePayload, MessageBotPayload,
ChannelRenamePayload)."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator import ApiError, SlackClient, SlackEmulator
from slack_emulator.seed import Seeded


def events(receiver: Any) -> list[dict[str, Any]]:
    return [request.json()["event"] for request in receiver.requests]


async def test_user_shares_a_file(
    slack: SlackClient, receiver: Any, seeded: Seeded, emulator: SlackEmulator
) -> None:
    message = await slack.user_shares_file(
        "incidents", seeded.alice.id, "heap.txt", b"OOM at 03:12", text="heap dump"
    )
    [event] = events(receiver)
    assert (event["type"], event["subtype"]) == ("message", "file_share")
    assert (event["user"], event["text"], event["ts"]) == (seeded.alice.id, "heap dump", message.ts)
    assert event["upload"] is True
    [shared] = event["files"]
    assert shared["name"] == "heap.txt"
    assert shared["user"] == seeded.alice.id
    assert shared["permalink"].startswith("https://")
    [stored] = emulator.default_workspace.files
    assert stored.content == b"OOM at 03:12"
    assert stored.shares == {seeded.incidents.id: [message.ts]}


async def test_another_apps_post_carries_its_own_bot_id(
    slack: SlackClient, receiver: Any, seeded: Seeded, emulator: SlackEmulator
) -> None:
    await slack.integration_posts(
        "incidents", "CPU > 95% on db-1", bot_id="B0ALERTS01", app_id="A0ALERTS01", bot_name="pd"
    )
    [event] = events(receiver)
    assert event["bot_id"] == "B0ALERTS01"
    assert event["app_id"] == "A0ALERTS01"
    assert event["bot_profile"]["name"] == "pd"
    assert event["bot_id"] != emulator.default_workspace.bot_id


async def test_user_renames_a_channel(
    slack: SlackClient, receiver: Any, seeded: Seeded, emulator: SlackEmulator
) -> None:
    await slack.user_renames("incidents", seeded.alice.id, "incidents-2026")
    rename, note = events(receiver)
    assert rename["type"] == "channel_rename"
    assert rename["channel"]["id"] == seeded.incidents.id
    assert rename["channel"]["name"] == "incidents-2026"
    assert rename["event_ts"]
    assert (note["subtype"], note["old_name"], note["name"]) == (
        "channel_name",
        "incidents",
        "incidents-2026",
    )
    assert emulator.default_workspace.channel("incidents-2026") is seeded.incidents
    with pytest.raises(ApiError, match="invalid_name_specials"):
        await slack.user_renames("incidents-2026", seeded.alice.id, "Not A Name!")


async def test_api_rename_follows_the_same_rules(
    web_client: AsyncWebClient, seeded: Seeded, emulator: SlackEmulator
) -> None:
    seeded.incidents.members.append(emulator.default_workspace.bot_user_id)
    answer = await web_client.conversations_rename(channel=seeded.incidents.id, name="sev-room")
    assert answer["channel"]["name"] == "sev-room"
    assert seeded.incidents.previous_names == ["incidents"]
