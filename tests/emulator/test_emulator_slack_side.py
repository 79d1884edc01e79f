"""The Slack side: signed requests to the app, response_urls, interactions, events."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator import ApiError, ElementNotFound, SlackClient, SlackEmulator
from slack_emulator.seed import Seeded

SECRET = "test-signing-secret"

ACK_BLOCKS: list[dict[str, Any]] = [
    {"type": "section", "text": {"type": "mrkdwn", "text": "*SEV1* db down"}},
    {
        "type": "actions",
        "block_id": "incident_actions",
        "elements": [
            {
                "type": "button",
                "action_id": "ack",
                "value": "INC-1",
                "text": {"type": "plain_text", "text": "Acknowledge"},
            },
            {
                "type": "button",
                "action_id": "resolve",
                "value": "INC-1",
                "style": "primary",
                "text": {"type": "plain_text", "text": "Resolve"},
            },
            {
                "type": "static_select",
                "action_id": "severity",
                "placeholder": {"type": "plain_text", "text": "Severity"},
                "options": [
                    {"text": {"type": "plain_text", "text": "SEV1"}, "value": "sev1"},
                    {"text": {"type": "plain_text", "text": "SEV2"}, "value": "sev2"},
                ],
            },
            {
                "type": "users_select",
                "action_id": "commander",
                "placeholder": {"type": "plain_text", "text": "Commander"},
            },
        ],
    },
]

MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "declare",
    "title": {"type": "plain_text", "text": "Declare incident"},
    "submit": {"type": "plain_text", "text": "Declare"},
    "private_metadata": "C123",
    "blocks": [
        {
            "type": "input",
            "block_id": "title",
            "label": {"type": "plain_text", "text": "Title"},
            "element": {"type": "plain_text_input", "action_id": "title_input"},
        },
        {
            "type": "input",
            "block_id": "sev",
            "label": {"type": "plain_text", "text": "Severity"},
            "element": {
                "type": "static_select",
                "action_id": "sev_select",
                "options": [{"text": {"type": "plain_text", "text": "SEV1"}, "value": "sev1"}],
            },
        },
        {
            "type": "input",
            "block_id": "people",
            "optional": True,
            "label": {"type": "plain_text", "text": "Responders"},
            "element": {"type": "multi_users_select", "action_id": "people_select"},
        },
    ],
}


def form_of(request: Any) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(request.body.decode(), keep_blank_values=True))


def payload_of(request: Any) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(form_of(request)["payload"])
    return result


def assert_signed(request: Any) -> None:
    assert SignatureVerifier(SECRET).is_valid_request(request.body, request.headers)


async def post_json(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as resp:
        return resp.status, await resp.json()


# -- slash commands and response_url ---------------------------------------------------


async def test_slash_command_is_signed_and_answer_returned(
    slack: SlackClient, receiver: Any, seeded: Seeded, emulator: SlackEmulator
) -> None:
    receiver.answer_json({"text": "Usage: /incident declare <title>"})
    resp = await slack.slash_command(
        "/incident", "help", user_id=seeded.alice.id, channel_id=seeded.incidents.id
    )
    assert resp.status == 200
    assert resp.json() == {"text": "Usage: /incident declare <title>"}
    [request] = receiver.requests
    assert_signed(request)
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    fields = form_of(request)
    assert fields["user_id"] == seeded.alice.id
    assert fields["channel_name"] == "incidents"
    assert fields["team_id"] == "T0001"
    assert fields["token"] == emulator.verification_token
    assert fields["response_url"].startswith(emulator.base_url + "/response_url/")
    # Slack shows a plain JSON answer to the invoking user only
    [eph] = emulator.default_workspace.ephemerals(user=seeded.alice.id)
    assert eph.text.startswith("Usage")
    assert eph.source == "command_response"


async def test_in_channel_command_answer_is_posted(
    slack: SlackClient, receiver: Any, seeded: Seeded, emulator: SlackEmulator
) -> None:
    receiver.answer_json({"response_type": "in_channel", "text": "Incident declared"})
    await slack.slash_command(
        "/incident", "declare", user_id=seeded.alice.id, channel_id="incidents"
    )
    last = emulator.default_workspace.last_message("incidents")
    assert last is not None
    assert last.text == "Incident declared"


async def test_command_trigger_opens_a_modal_within_3_seconds(
    slack: SlackClient,
    receiver: Any,
    seeded: Seeded,
    emulator: SlackEmulator,
    web_client: AsyncWebClient,
) -> None:
    await slack.slash_command(
        "/incident", "", user_id=seeded.alice.id, channel_id=seeded.incidents.id
    )
    trigger = form_of(receiver.requests[0])["trigger_id"]
    resp = await web_client.views_open(trigger_id=trigger, view=MODAL)
    assert resp["ok"]
    [view] = emulator.default_workspace.open_views(seeded.alice.id)
    assert view.callback_id == "declare"
    assert view.user_id == seeded.alice.id


async def test_response_url_ephemeral_and_in_channel(
    slack: SlackClient, receiver: Any, seeded: Seeded, emulator: SlackEmulator
) -> None:
    ws = emulator.default_workspace
    await slack.slash_command(
        "/incident", "", user_id=seeded.bob.id, channel_id=seeded.incidents.id
    )
    url = form_of(receiver.requests[0])["response_url"]
    assert await post_json(url, {"text": "just for you"}) == (200, {"ok": True})
    assert await post_json(url, {"text": "for all", "response_type": "in_channel"}) == (
        200,
        {"ok": True},
    )
    assert [e.text for e in ws.ephemerals(user=seeded.bob.id)] == ["just for you"]
    assert ws.last_message("incidents").text == "for all"  # type: ignore[union-attr]
    assert [p.payload.get("text") for p in ws.response_url_posts] == ["just for you", "for all"]


async def test_response_url_accepts_five_posts(
    slack: SlackClient, receiver: Any, seeded: Seeded, emulator: SlackEmulator
) -> None:
    await slack.slash_command(
        "/incident", "", user_id=seeded.bob.id, channel_id=seeded.incidents.id
    )
    url = form_of(receiver.requests[0])["response_url"]
    for i in range(5):
        assert (await post_json(url, {"text": str(i)}))[0] == 200
    assert await post_json(url, {"text": "6th"}) == (404, {"ok": False, "error": "used_url"})
    assert len(emulator.default_workspace.ephemerals()) == 5


async def test_response_url_expires_after_30_minutes(
    slack: SlackClient, receiver: Any, seeded: Seeded, emulator: SlackEmulator
) -> None:
    await slack.slash_command(
        "/incident", "", user_id=seeded.bob.id, channel_id=seeded.incidents.id
    )
    url = form_of(receiver.requests[0])["response_url"]
    emulator.clock.advance(30 * 60 + 1)
    assert await post_json(url, {"text": "late"}) == (404, {"ok": False, "error": "expired_url"})


async def test_response_url_rejects_empty_and_unknown(
    slack: SlackClient, receiver: Any, seeded: Seeded, emulator: SlackEmulator
) -> None:
    await slack.slash_command(
        "/incident", "", user_id=seeded.bob.id, channel_id=seeded.incidents.id
    )
    url = form_of(receiver.requests[0])["response_url"]
    assert (await post_json(url, {}))[1]["error"] == "no_text"
    assert (await post_json(url + "x", {"text": "t"}))[0] == 404


# -- block actions -----------------------------------------------------------------------


async def test_press_button_by_label_sends_block_actions(
    slack: SlackClient, receiver: Any, seeded: Seeded, emulator: SlackEmulator
) -> None:
    ws = emulator.default_workspace
    message = ws.add_message(
        seeded.incidents, user=ws.bot_user_id, text="SEV1", blocks=ACK_BLOCKS, from_bot=True
    )
    resp = await slack.press_button(message, label="Resolve", user_id=seeded.bob.id)
    assert resp.status == 200
    [request] = receiver.requests
    assert_signed(request)
    payload = payload_of(request)
    assert payload["type"] == "block_actions"
    assert payload["user"]["id"] == seeded.bob.id
    assert payload["container"] == {
        "type": "message",
        "message_ts": message.ts,
        "channel_id": seeded.incidents.id,
        "is_ephemeral": False,
    }
    assert payload["message"]["ts"] == message.ts
    assert payload["message"]["blocks"] == ACK_BLOCKS
    [action] = payload["actions"]
    assert (action["action_id"], action["block_id"], action["value"], action["style"]) == (
        "resolve",
        "incident_actions",
        "INC-1",
        "primary",
    )
    assert action["text"]["text"] == "Resolve"
    assert payload["trigger_id"] in emulator.triggers


async def test_press_button_that_was_not_rendered_fails(
    slack: SlackClient, seeded: Seeded, emulator: SlackEmulator
) -> None:
    ws = emulator.default_workspace
    message = ws.add_message(
        seeded.incidents, user=ws.bot_user_id, text="x", blocks=ACK_BLOCKS, from_bot=True
    )
    with pytest.raises(ElementNotFound, match="Acknowledge"):
        await slack.press_button(message, label="Escalate", user_id=seeded.bob.id)
    with pytest.raises(ElementNotFound):
        await slack.press_button(message, action_id="severity", user_id=seeded.bob.id)


async def test_button_response_url_replaces_and_deletes_original(
    slack: SlackClient, receiver: Any, seeded: Seeded, emulator: SlackEmulator
) -> None:
    ws = emulator.default_workspace
    message = ws.add_message(
        seeded.incidents, user=ws.bot_user_id, text="SEV1", blocks=ACK_BLOCKS, from_bot=True
    )
    await slack.press_button(message, action_id="ack", user_id=seeded.bob.id)
    url = payload_of(receiver.requests[0])["response_url"]
    await post_json(url, {"replace_original": True, "text": "Acknowledged by bob"})
    assert ws.message("incidents", message.ts).text == "Acknowledged by bob"  # type: ignore[union-attr]
    assert ws.message("incidents", message.ts).blocks == []  # type: ignore[union-attr]
    await post_json(url, {"delete_original": True})
    assert ws.message("incidents", message.ts) is None


async def test_button_on_ephemeral_message(
    slack: SlackClient,
    receiver: Any,
    seeded: Seeded,
    emulator: SlackEmulator,
    web_client: AsyncWebClient,
) -> None:
    ws = emulator.default_workspace
    await web_client.chat_postEphemeral(
        channel=seeded.incidents.id, user=seeded.bob.id, text="confirm?", blocks=ACK_BLOCKS
    )
    [eph] = ws.ephemerals(user=seeded.bob.id)
    await slack.press_button(eph, action_id="ack", user_id=seeded.bob.id)
    payload = payload_of(receiver.requests[0])
    assert payload["container"]["is_ephemeral"] is True
    assert "message" not in payload
    await post_json(payload["response_url"], {"replace_original": True, "text": "done"})
    assert eph.text == "done"
    assert eph.replaced


async def test_select_option_and_user(
    slack: SlackClient, receiver: Any, seeded: Seeded, emulator: SlackEmulator
) -> None:
    ws = emulator.default_workspace
    message = ws.add_message(
        seeded.incidents, user=ws.bot_user_id, text="x", blocks=ACK_BLOCKS, from_bot=True
    )
    await slack.select_option(message, action_id="severity", label="SEV2", user_id=seeded.bob.id)
    await slack.select_user(
        message, action_id="commander", selected_user=seeded.carol.id, user_id=seeded.bob.id
    )
    select, user = (payload_of(r)["actions"][0] for r in receiver.requests)
    assert select["type"] == "static_select"
    assert select["selected_option"]["value"] == "sev2"
    assert user["type"] == "users_select"
    assert user["selected_user"] == seeded.carol.id
    with pytest.raises(ElementNotFound):
        await slack.select_option(
            message, action_id="severity", value="sev9", user_id=seeded.bob.id
        )


async def test_button_in_published_home_view(
    slack: SlackClient,
    receiver: Any,
    seeded: Seeded,
    emulator: SlackEmulator,
    web_client: AsyncWebClient,
) -> None:
    await web_client.views_publish(
        user_id=seeded.bob.id, view={"type": "home", "blocks": ACK_BLOCKS}
    )
    home = emulator.default_workspace.home_view(seeded.bob.id)
    assert home is not None
    await slack.press_button(home, label="Acknowledge", user_id=seeded.bob.id)
    payload = payload_of(receiver.requests[0])
    assert payload["container"] == {"type": "view", "view_id": home.id}
    assert payload["view"]["id"] == home.id
    assert "response_url" not in payload


# -- views -------------------------------------------------------------------------------


async def _open_modal(emulator: SlackEmulator, user: str) -> Any:
    ws = emulator.default_workspace
    answer = await emulator.invoke(
        "views.open", ws, {"trigger_id": emulator.issue_trigger(ws, user), "view": MODAL}
    )
    assert answer["ok"], answer
    return ws.views_by_id[answer["view"]["id"]]


async def test_submit_view_builds_state_values(
    slack: SlackClient, receiver: Any, seeded: Seeded, emulator: SlackEmulator
) -> None:
    view = await _open_modal(emulator, seeded.alice.id)
    resp = await slack.submit_view(view, values={"title": "DB down", "sev_select": "sev1"})
    assert resp.status == 200
    payload = payload_of(receiver.requests[0])
    assert payload["type"] == "view_submission"
    assert payload["view"]["callback_id"] == "declare"
    assert payload["view"]["private_metadata"] == "C123"
    values = payload["view"]["state"]["values"]
    assert values["title"]["title_input"] == {"type": "plain_text_input", "value": "DB down"}
    assert values["sev"]["sev_select"]["selected_option"]["value"] == "sev1"
    assert values["people"]["people_select"] == {"type": "multi_users_select", "selected_users": []}
    assert view.closed  # an empty 200 closes the modal


async def test_submit_view_response_actions(
    slack: SlackClient, receiver: Any, seeded: Seeded, emulator: SlackEmulator
) -> None:
    view = await _open_modal(emulator, seeded.alice.id)
    receiver.answer_json({"response_action": "errors", "errors": {"title": "Required"}})
    resp = await slack.submit_view(view, values={})
    assert resp.json()["errors"] == {"title": "Required"}
    assert not view.closed
    receiver.answer_json(
        {
            "response_action": "update",
            "view": {**MODAL, "title": {"type": "plain_text", "text": "Step 2"}},
        }
    )
    await slack.submit_view(view, values={"title": "x"})
    assert view.title == "Step 2"
    assert not view.closed
    with pytest.raises(ElementNotFound):
        await slack.submit_view(view, values={"nope": "x"})


async def test_message_shortcut(
    slack: SlackClient,
    receiver: Any,
    seeded: Seeded,
    emulator: SlackEmulator,
    web_client: AsyncWebClient,
) -> None:
    ws = emulator.default_workspace
    message = ws.add_message(seeded.incidents, user=seeded.bob.id, text="root cause found")
    await slack.message_shortcut(message, callback_id="add_to_timeline", user_id=seeded.bob.id)
    payload = payload_of(receiver.requests[0])
    assert payload["type"] == "message_action"
    assert payload["callback_id"] == "add_to_timeline"
    assert payload["message"]["text"] == "root cause found"
    assert payload["channel"] == {"id": seeded.incidents.id, "name": "incidents"}
    assert (await web_client.views_open(trigger_id=payload["trigger_id"], view=MODAL))["ok"]


# -- events ------------------------------------------------------------------------------


async def test_user_posts_is_stored_and_delivered(
    slack: SlackClient, receiver: Any, seeded: Seeded, emulator: SlackEmulator
) -> None:
    message = await slack.user_posts("incidents", seeded.alice.id, "rolling back")
    assert emulator.default_workspace.last_message("incidents") is message
    [request] = receiver.requests
    assert_signed(request)
    envelope = request.json()
    assert envelope["event"]["type"] == "message"
    assert envelope["event"]["text"] == "rolling back"
    assert envelope["event"]["user"] == seeded.alice.id
    assert envelope["event"]["channel"] == seeded.incidents.id
    assert envelope["event"]["ts"] == message.ts
    assert envelope["authorizations"][0]["user_id"] == emulator.default_workspace.bot_user_id


async def test_user_must_be_in_the_channel_to_post(
    slack: SlackClient, seeded: Seeded, emulator: SlackEmulator
) -> None:
    outsider = emulator.default_workspace.add_user("eve")
    with pytest.raises(ApiError, match="not_in_channel"):
        await slack.user_posts("incidents", outsider.id, "hi")


async def test_bot_posts_are_delivered_as_message_events(
    slack: SlackClient,
    receiver: Any,
    seeded: Seeded,
    emulator: SlackEmulator,
    web_client: AsyncWebClient,
) -> None:
    await web_client.chat_postMessage(channel=seeded.incidents.id, text="from the bot")
    await emulator.wait_for_events()
    [request] = receiver.requests
    event = request.json()["event"]
    assert event["type"] == "message"
    assert event["text"] == "from the bot"
    assert event["bot_id"] == emulator.default_workspace.bot_id
    assert "subtype" not in event
    emulator.bot_message_subtype = True
    await web_client.chat_postMessage(channel=seeded.incidents.id, text="legacy")
    await emulator.wait_for_events()
    assert receiver.requests[1].json()["event"]["subtype"] == "bot_message"


async def test_bot_events_can_be_turned_off_or_filtered(
    slack: SlackClient,
    receiver: Any,
    seeded: Seeded,
    emulator: SlackEmulator,
    web_client: AsyncWebClient,
) -> None:
    emulator.bot_events = False
    await web_client.chat_postMessage(channel=seeded.incidents.id, text="quiet")
    emulator.bot_events = None
    emulator.subscribed_events = {"reaction_added"}
    posted = await web_client.chat_postMessage(channel=seeded.incidents.id, text="quiet too")
    await web_client.reactions_add(channel=seeded.incidents.id, timestamp=posted["ts"], name="eyes")
    await emulator.wait_for_events()
    assert [r.json()["event"]["type"] for r in receiver.requests] == ["reaction_added"]


async def test_bot_invite_emits_member_joined_channel(
    slack: SlackClient,
    receiver: Any,
    seeded: Seeded,
    emulator: SlackEmulator,
    web_client: AsyncWebClient,
) -> None:
    channel = (await web_client.conversations_create(name="inc-9"))["channel"]["id"]
    await web_client.conversations_invite(channel=channel, users=seeded.alice.id)
    await emulator.wait_for_events()
    joined = emulator.delivered_events("member_joined_channel")
    assert [(e["user"], e["channel"], e["inviter"]) for e in joined] == [
        (seeded.alice.id, channel, emulator.default_workspace.bot_user_id)
    ]


async def test_failed_delivery_is_retried_with_same_event_id(
    slack: SlackClient, receiver: Any, seeded: Seeded
) -> None:
    receiver.answer_statuses(500, 503, 200)
    delivery = await slack.send_event(
        {
            "type": "app_mention",
            "user": seeded.alice.id,
            "text": "hi",
            "channel": seeded.incidents.id,
        }
    )
    assert delivery.succeeded
    assert [(a.retry_num, a.status, a.failure) for a in delivery.attempts] == [
        (0, 500, "http_error"),
        (1, 503, "http_error"),
        (2, 200, None),
    ]
    headers = [r.headers for r in receiver.requests]
    assert "X-Slack-Retry-Num" not in headers[0]
    assert [(h["X-Slack-Retry-Num"], h["X-Slack-Retry-Reason"]) for h in headers[1:]] == [
        ("1", "http_error"),
        ("2", "http_error"),
    ]
    assert len({r.json()["event_id"] for r in receiver.requests}) == 1
    for request in receiver.requests:
        assert_signed(request)


async def test_slow_answers_are_retried_as_http_timeout(
    slack: SlackClient, receiver: Any, seeded: Seeded, emulator: SlackEmulator
) -> None:
    emulator.events.config.timeout = 0.05
    receiver.answer_after(0.2)
    delivery = await slack.send_event({"type": "app_mention", "text": "hi"})
    assert not delivery.succeeded
    assert [a.failure for a in delivery.attempts] == ["http_timeout"] * 4
    assert [a.retry_reason for a in delivery.attempts] == [None] + ["http_timeout"] * 3
    assert [a.retry_num for a in delivery.attempts] == [0, 1, 2, 3]


async def test_unreachable_app_is_connection_failed_and_can_be_redelivered(
    emulator: SlackEmulator, server: Any, receiver: Any
) -> None:
    dead = SlackClient(emulator, request_url="http://127.0.0.1:9/slack/events")
    delivery = await dead.send_event({"type": "app_mention", "text": "hi"})
    assert [a.failure for a in delivery.attempts] == ["connection_failed"] * 4
    delivery.url = receiver.url
    attempt = await emulator.redeliver(delivery.event_id)
    assert attempt.failure is None
    assert attempt.retry_num == 4
    [request] = receiver.requests
    assert request.headers["X-Slack-Retry-Reason"] == "http_timeout"
    assert request.json()["event_id"] == delivery.event_id


async def test_url_verification(slack: SlackClient, receiver: Any) -> None:
    receiver.answer_json({"challenge": "abc"})
    resp = await slack.url_verification("abc")
    assert resp.json() == {"challenge": "abc"}
    body = receiver.requests[0].json()
    assert body["type"] == "url_verification"
    assert body["challenge"] == "abc"
    assert_signed(receiver.requests[0])
