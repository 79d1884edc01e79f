"""pins, reactions, bookmarks, views and the file upload v2 flow over real HTTP."""

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


def modal(title: str = "Declare incident", **extra: Any) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "declare",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Declare"},
        "blocks": [
            {
                "type": "input",
                "block_id": "title",
                "label": {"type": "plain_text", "text": "Title"},
                "element": {"type": "plain_text_input", "action_id": "title_input"},
            }
        ],
        **extra,
    }


async def test_pins(web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded) -> None:
    ws = emulator.default_workspace
    posted = await web_client.chat_postMessage(channel=seeded.incidents.id, text="summary")
    assert (await web_client.pins_add(channel=seeded.incidents.id, timestamp=posted["ts"]))["ok"]
    assert [m.ts for m in ws.pins("incidents")] == [posted["ts"]]
    again = web_client.pins_add(channel=seeded.incidents.id, timestamp=posted["ts"])
    assert (await error_of(again))["error"] == "already_pinned"
    missing = web_client.pins_add(channel=seeded.incidents.id, timestamp="1.000001")
    assert (await error_of(missing))["error"] == "message_not_found"
    await web_client.pins_remove(channel=seeded.incidents.id, timestamp=posted["ts"])
    assert ws.pins("incidents") == []
    unpinned = web_client.pins_remove(channel=seeded.incidents.id, timestamp=posted["ts"])
    assert (await error_of(unpinned))["error"] == "no_pin"


async def test_reactions(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    posted = await web_client.chat_postMessage(channel=seeded.incidents.id, text="ack?")
    await web_client.reactions_add(channel=seeded.incidents.id, timestamp=posted["ts"], name="eyes")
    stored = emulator.default_workspace.message("incidents", posted["ts"])
    assert stored is not None
    assert stored.reactions == {"eyes": [emulator.default_workspace.bot_user_id]}
    again = web_client.reactions_add(
        channel=seeded.incidents.id, timestamp=posted["ts"], name=":eyes:"
    )
    assert (await error_of(again))["error"] == "already_reacted"
    missing = web_client.reactions_add(
        channel=seeded.incidents.id, timestamp="1.000001", name="eyes"
    )
    assert (await error_of(missing))["error"] == "message_not_found"


async def test_bookmarks_add(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    resp = await web_client.bookmarks_add(
        channel_id=seeded.incidents.id, title="Runbook", type="link", link="https://runbooks/db"
    )
    assert resp["bookmark"]["title"] == "Runbook"
    assert resp["bookmark"]["channel_id"] == seeded.incidents.id
    [bookmark] = emulator.default_workspace.get_channel("incidents").bookmarks
    assert bookmark.link == "https://runbooks/db"
    missing = web_client.bookmarks_add(channel_id="C404", title="x", type="link", link="https://x")
    assert (await error_of(missing))["error"] == "channel_not_found"


async def test_views_open_with_fresh_trigger(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    ws = emulator.default_workspace
    trigger = emulator.issue_trigger(ws, seeded.alice.id)
    resp = await web_client.views_open(trigger_id=trigger, view=modal())
    assert resp["view"]["callback_id"] == "declare"
    [opened] = ws.open_views(seeded.alice.id)
    assert opened.id == resp["view"]["id"]
    assert opened.title == "Declare incident"
    reused = web_client.views_open(trigger_id=trigger, view=modal())
    assert (await error_of(reused))["error"] == "exchanged_trigger_id"


async def test_views_open_trigger_errors(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    ws = emulator.default_workspace
    unknown = web_client.views_open(trigger_id="123.456.abc", view=modal())
    assert (await error_of(unknown))["error"] == "invalid_trigger_id"
    trigger = emulator.issue_trigger(ws, seeded.alice.id)
    emulator.clock.advance(3.1)
    expired = web_client.views_open(trigger_id=trigger, view=modal())
    assert (await error_of(expired))["error"] == "expired_trigger_id"


@pytest.mark.parametrize(
    ("view", "pointer"),
    [
        (modal(title="t" * 25), "/view/title/text"),
        (modal(private_metadata="m" * 3001), "/view/private_metadata"),
        (modal(blocks=[{"type": "divider"}] * 101), "/view/blocks"),
        (modal(submit={"type": "plain_text", "text": "s" * 25}), "/view/submit/text"),
    ],
)
async def test_view_limits(
    web_client: AsyncWebClient,
    emulator: SlackEmulator,
    seeded: Seeded,
    view: dict[str, Any],
    pointer: str,
) -> None:
    trigger = emulator.issue_trigger(emulator.default_workspace, seeded.alice.id)
    data = await error_of(web_client.views_open(trigger_id=trigger, view=view))
    assert data["error"] == "invalid_arguments"
    assert any(pointer in m for m in data["response_metadata"]["messages"])


async def test_views_update_and_hash(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    trigger = emulator.issue_trigger(emulator.default_workspace, seeded.alice.id)
    opened = (await web_client.views_open(trigger_id=trigger, view=modal()))["view"]
    updated = await web_client.views_update(
        view_id=opened["id"], hash=opened["hash"], view=modal(title="Step 2")
    )
    assert updated["view"]["title"]["text"] == "Step 2"
    stale = web_client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal())
    assert (await error_of(stale))["error"] == "hash_conflict"
    missing = web_client.views_update(view_id="V404", view=modal())
    assert (await error_of(missing))["error"] == "not_found"


async def test_views_publish_home(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    home = {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    first = await web_client.views_publish(user_id=seeded.bob.id, view=home)
    second = await web_client.views_publish(user_id=seeded.bob.id, view=home)
    assert first["view"]["id"] == second["view"]["id"]
    published = emulator.default_workspace.home_view(seeded.bob.id)
    assert published is not None
    assert published.type == "home"
    not_home = web_client.views_publish(user_id=seeded.bob.id, view=modal())
    assert (await error_of(not_home))["error"] == "invalid_arguments"


async def test_file_upload_v2_shares_into_channel(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    ws = emulator.default_workspace
    resp = await web_client.files_upload_v2(
        channel=seeded.incidents.id,
        content="timeline...",
        filename="timeline.md",
        title="Timeline",
        initial_comment="Postmortem draft",
    )
    file_id = resp["file"]["id"]
    [stored] = ws.files
    assert stored.id == file_id
    assert stored.content == b"timeline..."
    assert stored.title == "Timeline"
    message = ws.last_message("incidents")
    assert message is not None
    assert message.subtype == "file_share"
    assert message.text == "Postmortem draft"
    assert [f["id"] for f in message.files] == [file_id]
    assert resp["file"]["channels"] == [seeded.incidents.id]


async def test_complete_upload_of_unknown_file(web_client: AsyncWebClient) -> None:
    unknown = web_client.files_completeUploadExternal(files=[{"id": "F404", "title": "x"}])
    assert (await error_of(unknown))["error"] == "file_not_found"


async def test_upload_url_is_on_the_emulator(
    web_client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    resp = await web_client.files_getUploadURLExternal(filename="a.txt", length=3)
    assert resp["upload_url"].startswith(emulator.base_url + "/upload/v1/")
    assert resp["file_id"].startswith("F")
    missing_length = web_client.api_call("files.getUploadURLExternal", params={"filename": "a.txt"})
    assert (await error_of(missing_length))["error"] == "invalid_arguments"
