"""auth.test, users.*, usergroups.*, token checks and unknown methods over real HTTP."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator import EmulatorServer, SlackEmulator
from slack_emulator.seed import Seeded


async def error_of(call: Awaitable[Any]) -> str:
    with pytest.raises(SlackApiError) as exc:
        await call
    return str(exc.value.response["error"])


async def test_auth_test_identifies_the_bot(
    web_client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    resp = await web_client.auth_test()
    ws = emulator.default_workspace
    assert resp.data == {
        "ok": True,
        "url": "https://emulated.slack.com/",
        "team": ws.name,
        "user": ws.bot_name,
        "team_id": "T0001",
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


async def test_missing_token_is_not_authed(server: EmulatorServer) -> None:
    client = AsyncWebClient(base_url=server.api_url)
    assert await error_of(client.auth_test()) == "not_authed"


async def test_unknown_token_is_invalid_auth(server: EmulatorServer) -> None:
    client = AsyncWebClient(token="xoxb-nope", base_url=server.api_url)
    assert await error_of(client.auth_test()) == "invalid_auth"


async def test_unknown_method(web_client: AsyncWebClient) -> None:
    assert await error_of(web_client.api_call("chat.postMessagez")) == "unknown_method"


async def test_token_accepted_as_form_field_and_json_body(
    server: EmulatorServer, emulator: SlackEmulator
) -> None:
    token = emulator.default_workspace.bot_token
    async with aiohttp.ClientSession() as http:
        form = await http.post(f"{server.api_url}auth.test", data={"token": token})
        assert (await form.json())["ok"] is True
        as_json = await http.post(
            f"{server.api_url}auth.test",
            json={},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert (await as_json.json())["ok"] is True
        bad_json = await http.post(
            f"{server.api_url}auth.test",
            data=b"[1]",
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert (await bad_json.json())["error"] == "json_not_object"


async def test_users_info(web_client: AsyncWebClient, seeded: Seeded) -> None:
    resp = await web_client.users_info(user=seeded.alice.id)
    user = resp["user"]
    assert user["id"] == seeded.alice.id
    assert user["name"] == "alice"
    assert user["profile"]["email"] == "alice@example.com"
    assert user["deleted"] is False
    assert await error_of(web_client.users_info(user="U404")) == "user_not_found"


async def test_deactivated_user_is_reported_deleted(
    web_client: AsyncWebClient, seeded: Seeded
) -> None:
    resp = await web_client.users_info(user=seeded.mallory.id)
    assert resp["user"]["deleted"] is True


async def test_users_lookup_by_email(web_client: AsyncWebClient, seeded: Seeded) -> None:
    resp = await web_client.users_lookupByEmail(email="BOB@example.com")
    assert resp["user"]["id"] == seeded.bob.id
    missing = web_client.users_lookupByEmail(email="nobody@example.com")
    assert await error_of(missing) == "users_not_found"


async def test_usergroups_users_list(
    web_client: AsyncWebClient, seeded: Seeded, emulator: SlackEmulator
) -> None:
    resp = await web_client.usergroups_users_list(usergroup=seeded.oncall.id)
    assert resp["users"] == [seeded.alice.id, seeded.bob.id]
    assert await error_of(web_client.usergroups_users_list(usergroup="S404")) == ("no_such_subteam")
    disabled = emulator.default_workspace.add_usergroup("old", [seeded.bob.id], disabled=True)
    assert await error_of(web_client.usergroups_users_list(usergroup=disabled.id)) == (
        "no_such_subteam"
    )
    resp = await web_client.usergroups_users_list(usergroup=disabled.id, include_disabled=True)
    assert resp["users"] == [seeded.bob.id]


async def test_usergroups_users_update_replaces_the_members(
    web_client: AsyncWebClient, seeded: Seeded, emulator: SlackEmulator
) -> None:
    resp = await web_client.usergroups_users_update(
        usergroup=seeded.oncall.id, users=[seeded.bob.id], include_count=True
    )
    assert resp["usergroup"]["users"] == [seeded.bob.id]
    assert resp["usergroup"]["user_count"] == 1
    listed = await web_client.usergroups_users_list(usergroup=seeded.oncall.id)
    assert listed["users"] == [seeded.bob.id]
    # As a comma-separated string too, duplicates once.
    resp = await web_client.api_call(
        "usergroups.users.update",
        data={"usergroup": seeded.oncall.id, "users": f"{seeded.alice.id},{seeded.alice.id}"},
    )
    assert resp["usergroup"]["users"] == [seeded.alice.id]


@pytest.mark.parametrize(
    ("usergroup", "users", "error"),
    [
        ("S404", "U0000ALICE", "no_such_subteam"),
        ("S000ONCALL", None, "no_users_provided"),
        ("S000ONCALL", "", "invalid_users"),
        ("S000ONCALL", "U0NOBODY", "invalid_users"),
        ("S000ONCALL", "BOT", "user_is_bot"),
    ],
)
async def test_usergroups_users_update_errors_are_slacks(
    web_client: AsyncWebClient,
    seeded: Seeded,
    emulator: SlackEmulator,
    usergroup: str,
    users: str | None,
    error: str,
) -> None:
    data = {"usergroup": usergroup}
    if users is not None:
        data["users"] = emulator.default_workspace.bot_user_id if users == "BOT" else users
    answer = web_client.api_call("usergroups.users.update", data=data)
    assert await error_of(answer) == error
    assert seeded.oncall.users == [seeded.alice.id, seeded.bob.id]


async def test_usergroups_users_update_needs_its_scope(
    web_client: AsyncWebClient, seeded: Seeded, emulator: SlackEmulator
) -> None:
    emulator.default_workspace.scopes.discard("usergroups:write")
    with pytest.raises(SlackApiError) as exc:
        await web_client.usergroups_users_update(usergroup=seeded.oncall.id, users=[seeded.bob.id])
    assert exc.value.response["needed"] == "usergroups:write"


async def test_conversations_open_gives_the_direct_message_channel(
    web_client: AsyncWebClient, seeded: Seeded, emulator: SlackEmulator
) -> None:
    resp = await web_client.conversations_open(users=seeded.alice.id)
    assert resp["channel"]["id"] == emulator.default_workspace.open_im(seeded.alice.id).id
    assert await error_of(web_client.conversations_open(users="U0NOBODY")) == "user_not_found"
    assert await error_of(web_client.api_call("conversations.open")) == "users_list_not_supplied"


async def test_missing_scope_is_reported_with_needed(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    emulator.default_workspace.scopes.discard("users:read")
    with pytest.raises(SlackApiError) as exc:
        await web_client.users_info(user=seeded.alice.id)
    assert exc.value.response["error"] == "missing_scope"
    assert exc.value.response["needed"] == "users:read"


async def test_every_call_is_logged_with_its_outcome(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    await web_client.users_info(user=seeded.alice.id)
    await error_of(web_client.users_info(user="U404"))
    records = emulator.default_workspace.calls("users.info")
    assert [(r.ok, r.error, r.args["user"]) for r in records] == [
        (True, None, seeded.alice.id),
        (False, "user_not_found", "U404"),
    ]
    assert all(r.status == 200 and r.team_id == "T0001" for r in records)
    assert records[0].at <= records[1].at


async def test_app_level_token_opens_socket_mode_and_nothing_else(
    server: EmulatorServer, emulator: SlackEmulator
) -> None:
    emulator.default_workspace.app_token = "xapp-1-test"
    client = AsyncWebClient(token="xapp-1-test", base_url=server.api_url)
    opened = await client.apps_connections_open(app_token="xapp-1-test")
    assert str(opened["url"]).startswith("ws://127.0.0.1:")
    with pytest.raises(SlackApiError) as refused:
        await client.auth_test()
    assert refused.value.response["error"] == "not_allowed_token_type"
    stranger = AsyncWebClient(token="xapp-1-unknown", base_url=server.api_url)
    with pytest.raises(SlackApiError) as unknown:
        await stranger.apps_connections_open(app_token="xapp-1-unknown")
    assert unknown.value.response["error"] == "invalid_auth"
