"""Several workspaces side by side, views.push, and events from the bot's file shares."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator import EmulatorServer, SlackClient, SlackEmulator
from slack_emulator.seed import Seeded

FILE_SHARE_SAMPLE = Path("/work/shared/slack-contract/samples/events/MessageFileSharePayload.json")


def _sample_event_keys() -> set[str]:
    return set(json.loads(FILE_SHARE_SAMPLE.read_text())["event"])


async def test_workspaces_are_isolated_by_token(
    emulator: SlackEmulator, server: EmulatorServer, seeded: Seeded, receiver: Any
) -> None:
    other = emulator.add_workspace(team_id="T0002", bot_token="xoxb-other", name="Other")
    client = AsyncWebClient(token="xoxb-other", base_url=server.api_url)
    assert (await client.auth_test())["team_id"] == "T0002"
    with pytest.raises(SlackApiError) as exc:
        await client.conversations_info(channel=seeded.incidents.id)
    assert exc.value.response["error"] == "channel_not_found"
    created = await client.conversations_create(name="incidents")  # same name, other team
    assert other.channel("incidents") is not None
    assert created["channel"]["id"] != seeded.incidents.id
    slack = SlackClient(emulator, request_url=receiver.url, team_id="T0002")
    await slack.send_event({"type": "app_mention", "text": "hi"})
    assert receiver.requests[-1].json()["team_id"] == "T0002"
    assert [c.method for c in other.calls()] == [
        "auth.test",
        "conversations.info",
        "conversations.create",
    ]


async def test_views_push_stacks_on_the_open_modal(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    ws = emulator.default_workspace
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "One"}, "blocks": []}
    first = await web_client.views_open(
        trigger_id=emulator.issue_trigger(ws, seeded.alice.id), view=modal
    )
    pushed = await web_client.views_push(
        trigger_id=emulator.issue_trigger(ws, seeded.alice.id),
        view={**modal, "title": {"type": "plain_text", "text": "Two"}},
    )
    assert pushed["view"]["previous_view_id"] == first["view"]["id"]
    assert pushed["view"]["root_view_id"] == first["view"]["id"]
    assert [v.title for v in ws.open_views(seeded.alice.id)] == ["One", "Two"]


@pytest.mark.skipif(not FILE_SHARE_SAMPLE.exists(), reason="Slack contract samples not present")
async def test_bot_file_share_is_delivered_as_file_share_event(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded, slack: SlackClient
) -> None:
    await web_client.files_upload_v2(
        channel=seeded.incidents.id, content="x", filename="t.md", initial_comment="timeline"
    )
    await emulator.wait_for_events()
    [event] = emulator.delivered_events("message")
    assert event["subtype"] == "file_share"
    assert event["files"][0]["name"] == "t.md"
    assert event.keys() - _sample_event_keys() <= {"team", "bot_id", "app_id", "bot_profile"}
