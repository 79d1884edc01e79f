"""conversations.* over real HTTP via slack_sdk."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator import SlackEmulator
from slack_emulator.seed import Seeded


async def error_of(call: Awaitable[Any]) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as exc:
        await call
    data: dict[str, Any] = exc.value.response.data  # type: ignore[assignment]
    return data


async def test_create_public_and_private(
    web_client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    ws = emulator.default_workspace
    public = (await web_client.conversations_create(name="inc-42-db_down"))["channel"]
    assert public["id"].startswith("C")
    assert public["name"] == "inc-42-db_down"
    assert public["is_private"] is False
    assert public["is_channel"] is True
    assert public["is_member"] is True
    assert public["creator"] == ws.bot_user_id
    private = (await web_client.conversations_create(name="secret", is_private=True))["channel"]
    assert private["is_private"] is True
    assert ws.members("secret") == [ws.bot_user_id]
    assert ws.get_channel(public["id"]).name == "inc-42-db_down"


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "invalid_name_required"),
        ("x" * 81, "invalid_name_maxlength"),
        ("Incident", "invalid_name_specials"),
        ("inc 1", "invalid_name_specials"),
        ("inc.1", "invalid_name_specials"),
        ("---", "invalid_name_punctuation"),
    ],
)
async def test_create_rejects_bad_names(web_client: AsyncWebClient, name: str, error: str) -> None:
    assert (await error_of(web_client.conversations_create(name=name)))["error"] == error


async def test_create_accepts_80_chars(web_client: AsyncWebClient) -> None:
    resp = await web_client.conversations_create(name="x" * 80)
    assert resp["channel"]["name"] == "x" * 80


async def test_name_taken_includes_archived_channels(
    web_client: AsyncWebClient, seeded: Seeded
) -> None:
    assert (await error_of(web_client.conversations_create(name="general")))["error"] == (
        "name_taken"
    )
    channel = (await web_client.conversations_create(name="inc-old"))["channel"]
    await web_client.conversations_archive(channel=channel["id"])
    assert (await error_of(web_client.conversations_create(name="inc-old")))["error"] == (
        "name_taken"
    )


async def test_invite_users(
    web_client: AsyncWebClient, seeded: Seeded, emulator: SlackEmulator
) -> None:
    channel = (await web_client.conversations_create(name="inc-1"))["channel"]
    resp = await web_client.conversations_invite(
        channel=channel["id"], users=[seeded.alice.id, seeded.bob.id]
    )
    assert resp["channel"]["id"] == channel["id"]
    ws = emulator.default_workspace
    assert ws.members("inc-1") == [ws.bot_user_id, seeded.alice.id, seeded.bob.id]


async def test_invite_errors(
    web_client: AsyncWebClient, seeded: Seeded, emulator: SlackEmulator
) -> None:
    ws = emulator.default_workspace
    channel = (await web_client.conversations_create(name="inc-2"))["channel"]["id"]
    await web_client.conversations_invite(channel=channel, users=seeded.alice.id)

    async def invite(users: str, target: str = channel) -> str:
        return str(
            (await error_of(web_client.conversations_invite(channel=target, users=users)))["error"]
        )

    assert await invite(seeded.alice.id) == "already_in_channel"
    assert await invite("U404") == "user_not_found"
    assert await invite(ws.bot_user_id) == "cant_invite_self"
    assert await invite(seeded.bob.id, "C404") == "channel_not_found"
    # #general: the bot is not a member
    assert await invite(seeded.bob.id, seeded.general.id) == "not_in_channel"
    await web_client.conversations_archive(channel=channel)
    assert await invite(seeded.bob.id) == "is_archived"


async def test_invite_partial_failure_reports_each_user(
    web_client: AsyncWebClient, seeded: Seeded, emulator: SlackEmulator
) -> None:
    ws = emulator.default_workspace
    channel = (await web_client.conversations_create(name="inc-3"))["channel"]["id"]
    users = f"{seeded.alice.id},U404,{ws.bot_user_id}"
    data = await error_of(web_client.conversations_invite(channel=channel, users=users))
    assert data["error"] == "user_not_found"
    assert data["errors"] == [
        {"user": "U404", "ok": False, "error": "user_not_found"},
        {"user": ws.bot_user_id, "ok": False, "error": "cant_invite_self"},
    ]
    assert ws.members(channel) == [ws.bot_user_id]
    # force=true invites the valid users and still reports the failures
    await error_of(web_client.conversations_invite(channel=channel, users=users, force=True))
    assert ws.members(channel) == [ws.bot_user_id, seeded.alice.id]


async def test_set_topic(
    web_client: AsyncWebClient, seeded: Seeded, emulator: SlackEmulator
) -> None:
    ws = emulator.default_workspace
    resp = await web_client.conversations_setTopic(channel=seeded.incidents.id, topic="SEV1: db")
    assert resp["channel"]["topic"]["value"] == "SEV1: db"
    assert resp["channel"]["topic"]["creator"] == ws.bot_user_id
    assert ws.topic("incidents") == "SEV1: db"
    assert ws.last_message("incidents").subtype == "channel_topic"  # type: ignore[union-attr]
    not_member = web_client.conversations_setTopic(channel=seeded.general.id, topic="x")
    assert (await error_of(not_member))["error"] == "not_in_channel"
    too_long = web_client.conversations_setTopic(channel=seeded.incidents.id, topic="x" * 251)
    assert (await error_of(too_long))["error"] == "too_long"
    missing = web_client.conversations_setTopic(channel="C404", topic="x")
    assert (await error_of(missing))["error"] == "channel_not_found"


async def test_rename(web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded) -> None:
    channel = (await web_client.conversations_create(name="inc-4"))["channel"]["id"]
    resp = await web_client.conversations_rename(channel=channel, name="inc-4-resolved")
    assert resp["channel"]["name"] == "inc-4-resolved"
    assert resp["channel"]["previous_names"] == ["inc-4"]
    assert emulator.default_workspace.channel("inc-4-resolved") is not None
    taken = web_client.conversations_rename(channel=channel, name="general")
    assert (await error_of(taken))["error"] == "name_taken"
    bad = web_client.conversations_rename(channel=channel, name="Bad Name")
    assert (await error_of(bad))["error"] == "invalid_name_specials"


async def test_archive(web_client: AsyncWebClient, emulator: SlackEmulator) -> None:
    channel = (await web_client.conversations_create(name="inc-5"))["channel"]["id"]
    assert (await web_client.conversations_archive(channel=channel))["ok"] is True
    assert emulator.default_workspace.get_channel(channel).is_archived
    again = web_client.conversations_archive(channel=channel)
    assert (await error_of(again))["error"] == "already_archived"
    post = web_client.chat_postMessage(channel=channel, text="hi")
    assert (await error_of(post))["error"] == "is_archived"


async def test_info(web_client: AsyncWebClient, seeded: Seeded) -> None:
    resp = await web_client.conversations_info(
        channel=seeded.incidents.id, include_num_members=True
    )
    assert resp["channel"]["name"] == "incidents"
    assert resp["channel"]["num_members"] == 5
    assert resp["channel"]["topic"]["value"] == "Incident announcements"
    assert (await error_of(web_client.conversations_info(channel="C404")))["error"] == (
        "channel_not_found"
    )


async def test_private_channel_without_the_bot_is_invisible(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    hidden = emulator.default_workspace.create_channel(
        "hr-private", is_private=True, members=[seeded.alice.id]
    )
    assert (await error_of(web_client.conversations_info(channel=hidden.id)))["error"] == (
        "channel_not_found"
    )


async def test_members_paginates_with_cursor(web_client: AsyncWebClient, seeded: Seeded) -> None:
    first = await web_client.conversations_members(channel=seeded.incidents.id, limit=2)
    assert len(first["members"]) == 2
    cursor = first["response_metadata"]["next_cursor"]
    assert cursor
    collected = list(first["members"])
    while cursor:
        page = await web_client.conversations_members(
            channel=seeded.incidents.id, limit=2, cursor=cursor
        )
        collected += page["members"]
        cursor = page["response_metadata"]["next_cursor"]
    assert collected == seeded.incidents.members
    bad = web_client.conversations_members(channel=seeded.incidents.id, cursor="garbage!")
    assert (await error_of(bad))["error"] == "invalid_cursor"
    bad_limit = web_client.conversations_members(channel=seeded.incidents.id, limit=0)
    assert (await error_of(bad_limit))["error"] == "invalid_limit"


async def test_join(web_client: AsyncWebClient, seeded: Seeded, emulator: SlackEmulator) -> None:
    ws = emulator.default_workspace
    resp = await web_client.conversations_join(channel=seeded.general.id)
    assert resp["channel"]["is_member"] is True
    assert ws.bot_user_id in ws.members("general")
    again = await web_client.conversations_join(channel=seeded.general.id)
    assert again["warning"] == "already_in_channel"
    private = ws.create_channel("priv", is_private=True, members=[seeded.alice.id])
    joined = web_client.conversations_join(channel=private.id)
    assert (await error_of(joined))["error"] == "method_not_supported_for_channel_type"
    assert (await error_of(web_client.conversations_join(channel="C404")))["error"] == (
        "channel_not_found"
    )


async def test_list_pages_through_visible_channels(
    web_client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    ws = emulator.default_workspace
    before = {c["name"] for c in (await web_client.conversations_list(limit=1000))["channels"]}
    for index in range(5):
        await web_client.conversations_create(name=f"list-{index}")
    ws.create_channel("hidden-private", is_private=True)
    await web_client.conversations_create(name="mine-private", is_private=True)
    gone = (await web_client.conversations_create(name="list-archived"))["channel"]
    await web_client.conversations_archive(channel=gone["id"])

    names: list[str] = []
    cursor = ""
    while True:
        page = await web_client.conversations_list(
            types="public_channel,private_channel", exclude_archived=True, limit=2, cursor=cursor
        )
        assert len(page["channels"]) <= 2
        names += [channel["name"] for channel in page["channels"]]
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert set(names) - before == {f"list-{i}" for i in range(5)} | {"mine-private"}
    public_only = (await web_client.conversations_list(limit=1000))["channels"]
    assert "mine-private" not in {c["name"] for c in public_only}
    assert (await error_of(web_client.conversations_list(types="rooms")))[
        "error"
    ] == "invalid_types"
    assert (await error_of(web_client.conversations_list(limit=0)))["error"] == "invalid_limit"
