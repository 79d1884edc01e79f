"""conversations.history over real HTTP via slack_sdk: newest first, time bounds, cursor pages,
and message metadata only when ``include_all_metadata`` asks for it."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator import SlackEmulator
from slack_emulator.seed import Seeded

MARK = {"event_type": "klaxon_timer_fired", "event_payload": {"firing": "status_update:7:t"}}


async def error_of(call: Awaitable[Any]) -> str:
    with pytest.raises(SlackApiError) as exc:
        await call
    return str(exc.value.response["error"])


async def test_history_is_newest_first_without_thread_replies(
    web_client: AsyncWebClient, seeded: Seeded
) -> None:
    channel = seeded.incidents.id
    first = await web_client.chat_postMessage(channel=channel, text="one")
    await web_client.chat_postMessage(channel=channel, text="reply", thread_ts=first["ts"])
    await web_client.chat_postMessage(channel=channel, text="two")
    answer = await web_client.conversations_history(channel=channel)
    assert [m["text"] for m in answer["messages"]] == ["two", "one"]
    assert answer["has_more"] is False
    assert answer["messages"][1]["reply_count"] == 1


async def test_metadata_comes_back_only_when_asked_for(
    web_client: AsyncWebClient, seeded: Seeded
) -> None:
    channel = seeded.incidents.id
    await web_client.chat_postMessage(channel=channel, text="update #1", metadata=MARK)
    plain = await web_client.conversations_history(channel=channel)
    assert "metadata" not in plain["messages"][0]
    full = await web_client.conversations_history(channel=channel, include_all_metadata=True)
    assert full["messages"][0]["metadata"] == MARK


async def test_oldest_and_latest_bound_the_page(web_client: AsyncWebClient, seeded: Seeded) -> None:
    channel = seeded.incidents.id
    stamps = [
        (await web_client.chat_postMessage(channel=channel, text=f"m{n}"))["ts"] for n in range(4)
    ]
    between = await web_client.conversations_history(
        channel=channel, oldest=stamps[0], latest=stamps[3]
    )
    assert [m["text"] for m in between["messages"]] == ["m2", "m1"]
    inclusive = await web_client.conversations_history(
        channel=channel, oldest=stamps[0], latest=stamps[3], inclusive=True
    )
    assert [m["text"] for m in inclusive["messages"]] == ["m3", "m2", "m1", "m0"]


async def test_cursor_pages_stay_right_while_messages_arrive(
    web_client: AsyncWebClient, seeded: Seeded
) -> None:
    channel = seeded.incidents.id
    for n in range(5):
        await web_client.chat_postMessage(channel=channel, text=f"m{n}")
    first = await web_client.conversations_history(channel=channel, limit=2)
    assert [m["text"] for m in first["messages"]] == ["m4", "m3"]
    assert first["has_more"] is True
    await web_client.chat_postMessage(channel=channel, text="newer")
    texts = [m["text"] for m in first["messages"]]
    cursor = first["response_metadata"]["next_cursor"]
    while cursor:
        page = await web_client.conversations_history(channel=channel, limit=2, cursor=cursor)
        texts += [m["text"] for m in page["messages"]]
        cursor = page.get("response_metadata", {}).get("next_cursor")
    assert texts == ["m4", "m3", "m2", "m1", "m0"]


async def test_history_refusals(
    web_client: AsyncWebClient, seeded: Seeded, emulator: SlackEmulator
) -> None:
    ws = emulator.default_workspace
    incidents = seeded.incidents.id
    # A public channel the bot is not in can be posted to (chat:write.public), not read.
    assert await error_of(web_client.conversations_history(channel=seeded.general.id)) == (
        "not_in_channel"
    )
    hidden = ws.create_channel("hr", is_private=True, members=[seeded.alice.id])
    assert await error_of(web_client.conversations_history(channel=hidden.id)) == (
        "channel_not_found"
    )
    bad_oldest = web_client.conversations_history(channel=incidents, oldest="yesterday")
    assert await error_of(bad_oldest) == "invalid_ts_oldest"
    bad_cursor = web_client.conversations_history(channel=incidents, cursor="garbage!")
    assert await error_of(bad_cursor) == "invalid_cursor"
    ws.scopes = ws.scopes - {"channels:history"}
    assert await error_of(web_client.conversations_history(channel=incidents)) == ("missing_scope")
