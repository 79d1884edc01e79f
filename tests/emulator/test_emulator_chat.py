"""chat.* and Block Kit validation over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator import EmulatorServer, SlackEmulator
from slack_emulator.seed import Seeded


async def error_of(call: Awaitable[Any]) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as exc:
        await call
    data: dict[str, Any] = exc.value.response.data  # type: ignore[assignment]
    return data


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, **extra}


async def test_post_message_stores_blocks(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    blocks = [section("*SEV1* database down"), {"type": "divider"}]
    resp = await web_client.chat_postMessage(
        channel=seeded.incidents.id, text="SEV1", blocks=blocks
    )
    assert resp["channel"] == seeded.incidents.id
    assert resp["message"]["bot_id"] == emulator.default_workspace.bot_id
    stored = emulator.default_workspace.message("incidents", resp["ts"])
    assert stored is not None
    assert stored.text == "SEV1"
    assert stored.blocks == blocks


async def test_ts_are_unique_and_increasing(web_client: AsyncWebClient, seeded: Seeded) -> None:
    stamps = [
        (await web_client.chat_postMessage(channel=seeded.incidents.id, text=str(i)))["ts"]
        for i in range(5)
    ]
    assert len(set(stamps)) == 5
    assert [float(t) for t in stamps] == sorted(float(t) for t in stamps)
    assert all(len(t.split(".")[1]) == 6 for t in stamps)


async def test_post_by_channel_name(web_client: AsyncWebClient, seeded: Seeded) -> None:
    resp = await web_client.chat_postMessage(channel="#incidents", text="hi")
    assert resp["channel"] == seeded.incidents.id


async def test_thread_reply(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    root = await web_client.chat_postMessage(channel=seeded.incidents.id, text="root")
    reply = await web_client.chat_postMessage(
        channel=seeded.incidents.id, text="update 1", thread_ts=root["ts"]
    )
    ws = emulator.default_workspace
    assert reply["message"]["thread_ts"] == root["ts"]
    assert [m.text for m in ws.replies("incidents", root["ts"])] == ["update 1"]
    assert [m.text for m in ws.messages("incidents")] == ["root"]
    assert ws.message("incidents", root["ts"]).to_api()["reply_count"] == 1  # type: ignore[union-attr]


async def test_public_channel_needs_chat_write_public(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    # the bot is not in #general: chat:write.public (granted by default) lets it post
    assert (await web_client.chat_postMessage(channel=seeded.general.id, text="hi"))["ok"]
    emulator.default_workspace.scopes.discard("chat:write.public")
    data = await error_of(web_client.chat_postMessage(channel=seeded.general.id, text="hi"))
    assert data["error"] == "not_in_channel"


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing")
async def test_post_message_errors(web_client: AsyncWebClient, seeded: Seeded) -> None:
    incidents = seeded.incidents.id
    assert (await error_of(web_client.chat_postMessage(channel="C404", text="x")))["error"] == (
        "channel_not_found"
    )
    assert (await error_of(web_client.chat_postMessage(channel=incidents)))["error"] == "no_text"
    too_long = web_client.chat_postMessage(channel=incidents, text="x" * 40_001)
    assert (await error_of(too_long))["error"] == "msg_too_long"
    assert (await web_client.chat_postMessage(channel=incidents, text="x" * 40_000))["ok"]


async def test_form_encoded_blocks_arrive_as_json_string(
    server: EmulatorServer, emulator: SlackEmulator, seeded: Seeded
) -> None:
    blocks = [section("from a form")]
    async with aiohttp.ClientSession() as http:
        resp = await http.post(
            f"{server.api_url}chat.postMessage",
            data={
                "token": emulator.default_workspace.bot_token,
                "channel": seeded.incidents.id,
                "blocks": json.dumps(blocks),
            },
        )
        body = await resp.json()
        assert body["ok"] is True
        assert emulator.default_workspace.message("incidents", body["ts"]).blocks == blocks  # type: ignore[union-attr]
        broken = await http.post(
            f"{server.api_url}chat.postMessage",
            data={
                "token": emulator.default_workspace.bot_token,
                "channel": seeded.incidents.id,
                "blocks": "[{not json",
            },
        )
        assert (await broken.json())["error"] == "invalid_blocks_format"


BLOCK_LIMIT_CASES: list[tuple[str, list[dict[str, Any]], str]] = [
    ("51 blocks", [{"type": "divider"}] * 51, "/blocks"),
    ("section text 3001", [section("x" * 3001)], "/blocks/0/text/text"),
    (
        "11 fields",
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11}],
        "/blocks/0/fields",
    ),
    (
        "field 2001",
        [{"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]}],
        "/blocks/0/fields/0/text",
    ),
    (
        "header 151",
        [{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}],
        "/blocks/0/text/text",
    ),
    ("block_id 256", [{"type": "divider", "block_id": "b" * 256}], "/blocks/0/block_id"),
    (
        "action_id 256",
        [{"type": "actions", "elements": [button("ok", action_id="a" * 256)]}],
        "/blocks/0/elements/0/action_id",
    ),
    (
        "button text 76",
        [{"type": "actions", "elements": [button("b" * 76)]}],
        "/blocks/0/elements/0/text/text",
    ),
    (
        "button value 2001",
        [{"type": "actions", "elements": [button("ok", value="v" * 2001)]}],
        "/blocks/0/elements/0/value",
    ),
    (
        "button url 3001",
        [{"type": "actions", "elements": [button("ok", url="https://x/" + "u" * 2991)]}],
        "/blocks/0/elements/0/url",
    ),
    ("unknown block type", [{"type": "banner"}], "/blocks/0/type"),
]


@pytest.mark.parametrize(
    ("blocks", "pointer"),
    [pytest.param(b, p, id=name) for name, b, p in BLOCK_LIMIT_CASES],
)
async def test_block_kit_limits_are_invalid_blocks(
    web_client: AsyncWebClient, seeded: Seeded, blocks: list[dict[str, Any]], pointer: str
) -> None:
    data = await error_of(
        web_client.chat_postMessage(channel=seeded.incidents.id, text="t", blocks=blocks)
    )
    assert data["error"] == "invalid_blocks"
    assert any(f"[json-pointer:{pointer}]" in e for e in data["errors"])


async def test_blocks_at_the_limits_are_accepted(
    web_client: AsyncWebClient, seeded: Seeded
) -> None:
    blocks: list[dict[str, Any]] = [
        section("x" * 3000),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2000}] * 10},
        {
            "type": "header",
            "text": {"type": "plain_text", "text": "h" * 150},
            "block_id": "b" * 255,
        },
        {
            "type": "actions",
            "elements": [button("b" * 75, action_id="a" * 255, value="v" * 2000)],
        },
    ]
    blocks += [{"type": "divider"}] * (50 - len(blocks))
    assert (
        await web_client.chat_postMessage(channel=seeded.incidents.id, text="t", blocks=blocks)
    )["ok"]


async def test_update(web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded) -> None:
    ws = emulator.default_workspace
    posted = await web_client.chat_postMessage(channel=seeded.incidents.id, text="v1")
    resp = await web_client.chat_update(
        channel=seeded.incidents.id, ts=posted["ts"], text="v2", blocks=[section("v2")]
    )
    assert resp["ts"] == posted["ts"]
    assert resp["text"] == "v2"
    stored = ws.message("incidents", posted["ts"])
    assert stored is not None
    assert stored.text == "v2"
    assert stored.edited is not None
    missing = web_client.chat_update(channel=seeded.incidents.id, ts="1.000001", text="x")
    assert (await error_of(missing))["error"] == "message_not_found"
    slack = ws.add_message(seeded.incidents, user=seeded.alice.id, text="human")
    theirs = web_client.chat_update(channel=seeded.incidents.id, ts=slack.ts, text="x")
    assert (await error_of(theirs))["error"] == "cant_update_message"


async def test_post_ephemeral(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    resp = await web_client.chat_postEphemeral(
        channel=seeded.incidents.id, user=seeded.alice.id, text="only you"
    )
    [eph] = emulator.default_workspace.ephemerals(channel="incidents", user=seeded.alice.id)
    assert eph.text == "only you"
    assert eph.message_ts == resp["message_ts"]
    outsider = emulator.default_workspace.add_user("eve")
    not_in = web_client.chat_postEphemeral(channel=seeded.incidents.id, user=outsider.id, text="x")
    assert (await error_of(not_in))["error"] == "user_not_in_channel"


async def test_get_permalink(web_client: AsyncWebClient, seeded: Seeded) -> None:
    posted = await web_client.chat_postMessage(channel=seeded.incidents.id, text="x")
    resp = await web_client.chat_getPermalink(channel=seeded.incidents.id, message_ts=posted["ts"])
    digits = posted["ts"].replace(".", "")
    assert resp["permalink"] == (
        f"https://emulated.slack.com/archives/{seeded.incidents.id}/p{digits}"
    )
    missing = web_client.chat_getPermalink(channel=seeded.incidents.id, message_ts="1.000001")
    assert (await error_of(missing))["error"] == "message_not_found"


async def test_post_to_user_id_opens_a_dm(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    resp = await web_client.chat_postMessage(channel=seeded.bob.id, text="you are on call")
    assert resp["channel"].startswith("D")
    assert emulator.default_workspace.open_im(seeded.bob.id).id == resp["channel"]
