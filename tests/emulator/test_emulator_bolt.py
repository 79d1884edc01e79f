"""End to end with a real slack_bolt app: the emulator's signing, payloads, trigger_ids and
response_urls are accepted by Bolt exactly as Slack's are."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator import EmulatorServer, SlackClient, SlackEmulator
from slack_emulator.seed import Seeded

SECRET = "test-signing-secret"

MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "title_input"},
        },
    ],
}


@pytest.fixture
async def bolt_url(
    emulator: SlackEmulator, server: EmulatorServer, seeded: Seeded
) -> AsyncIterator[str]:
    client = AsyncWebClient(token=emulator.default_workspace.bot_token, base_url=server.api_url)
    app = AsyncApp(signing_secret=SECRET, client=client)
    incidents = seeded.incidents.id

    @app.command("/incident")
    async def open_modal(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=body["trigger_id"], view=MODAL)

    @app.view("declare")
    async def declare(ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient) -> None:
        title = view["state"]["values"]["title"]["title_input"]["value"]
        if not title.strip():
            await ack(response_action="errors", errors={"title": "Required"})
            return
        await ack()
        await client.chat_postMessage(
            channel=incidents,
            text=f"Incident: {title}",
            blocks=[
                {
                    "type": "actions",
                    "elements": [
                        {
                            "type": "button",
                            "action_id": "ack",
                            "text": {"type": "plain_text", "text": "Acknowledge"},
                        }
                    ],
                }
            ],
        )

    @app.action("ack")
    async def acknowledge(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await respond(replace_original=True, text=f"Acknowledged by <@{body['user']['id']}>")

    @app.event("message")
    async def on_message(ack: AsyncAck, event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("text") == "status?":
            await client.chat_postMessage(
                channel=event["channel"], text="SEV1 ongoing", thread_ts=event["ts"]
            )

    runner = web.AppRunner(app.web_app(path="/slack/events"), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"
    await runner.cleanup()


async def test_command_modal_button_flow(
    bolt_url: str, emulator: SlackEmulator, seeded: Seeded
) -> None:
    ws = emulator.default_workspace
    slack = SlackClient(emulator, request_url=bolt_url)
    resp = await slack.slash_command(
        "/incident", "", user_id=seeded.alice.id, channel_id=seeded.incidents.id
    )
    assert resp.status == 200
    [view] = ws.open_views(seeded.alice.id)
    rejected = await slack.submit_view(view, values={"title": "  "})
    assert rejected.json() == {"response_action": "errors", "errors": {"title": "Required"}}
    assert not view.closed
    await slack.submit_view(view, values={"title": "DB down"})
    assert view.closed
    message = ws.last_message("incidents")
    assert message is not None
    assert message.text == "Incident: DB down"
    await slack.press_button(message, label="Acknowledge", user_id=seeded.bob.id)
    assert message.text == f"Acknowledged by <@{seeded.bob.id}>"
    await emulator.wait_for_events()


async def test_bot_answers_a_user_typing_in_the_channel(
    bolt_url: str, emulator: SlackEmulator, seeded: Seeded
) -> None:
    slack = SlackClient(emulator, request_url=bolt_url)
    question = await slack.user_posts("incidents", seeded.alice.id, "status?")
    assert emulator.deliveries[-1].succeeded
    await emulator.wait_until(lambda: emulator.default_workspace.replies("incidents", question.ts))
    [reply] = emulator.default_workspace.replies("incidents", question.ts)
    assert reply.text == "SEV1 ongoing"
    assert reply.bot_id == emulator.default_workspace.bot_id
    await emulator.wait_for_events()


async def test_bolt_rejects_a_wrong_signature(
    bolt_url: str, emulator: SlackEmulator, seeded: Seeded
) -> None:
    emulator.signing_secret = "not-the-secret"
    slack = SlackClient(emulator, request_url=bolt_url)
    resp = await slack.slash_command(
        "/incident", "", user_id=seeded.alice.id, channel_id=seeded.incidents.id
    )
    assert resp.status == 401
