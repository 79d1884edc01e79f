"""Responses and payloads carry only keys Slack's own samples have (samples/**/*.json),
and at least the keys a client relies on."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator import SlackClient, SlackEmulator
from slack_emulator.seed import Seeded

SAMPLES = Path("/work/shared/slack-contract/samples")
# Keys whose children are ids or free-form content rather than a fixed schema.
OPAQUE = {"blocks", "shares", "values", "state", "metadata", "previous_message", "message"}

pytestmark = pytest.mark.skipif(not SAMPLES.is_dir(), reason="Slack contract samples not present")


def sample(kind: str, name: str) -> Any:
    return json.loads((SAMPLES / kind / f"{name}.json").read_text())


def unknown_keys(ours: Any, theirs: Any, path: str = "") -> list[str]:
    """Paths of keys in ``ours`` that the sample ``theirs`` does not have."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        found = []
        for key, value in ours.items():
            if key not in theirs:
                found.append(f"{path}/{key}")
            elif key not in OPAQUE:
                found += unknown_keys(value, theirs[key], f"{path}/{key}")
        return found
    if isinstance(ours, list) and isinstance(theirs, list) and theirs:
        return [p for item in ours for p in unknown_keys(item, theirs[0], f"{path}[]")]
    return []


def assert_shape(ours: dict[str, Any], theirs: dict[str, Any], required: set[str]) -> None:
    assert unknown_keys(ours, theirs) == []
    assert required <= ours.keys(), required - ours.keys()


async def api_shapes(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> dict[str, dict[str, Any]]:
    """One real answer per method that has a sample."""
    inc = seeded.incidents.id
    out: dict[str, dict[str, Any]] = {}
    out["auth.test"] = (await web_client.auth_test()).data  # type: ignore[assignment]
    created = await web_client.conversations_create(name="inc-shape")
    out["conversations.create"] = created.data  # type: ignore[assignment]
    new = created["channel"]["id"]
    out["conversations.invite"] = (
        await web_client.conversations_invite(channel=new, users=seeded.alice.id)
    ).data  # type: ignore[assignment]
    try:
        await web_client.conversations_invite(channel=new, users=f"{seeded.alice.id},U404")
    except SlackApiError as exc:
        out["conversations.invite (partial)"] = exc.response.data  # type: ignore[assignment]
    out["conversations.setTopic"] = (
        await web_client.conversations_setTopic(channel=new, topic="t")
    ).data  # type: ignore[assignment]
    out["conversations.rename"] = (
        await web_client.conversations_rename(channel=new, name="inc-shape-2")
    ).data  # type: ignore[assignment]
    out["conversations.info"] = (
        await web_client.conversations_info(channel=inc, include_num_members=True)
    ).data  # type: ignore[assignment]
    out["conversations.members"] = (
        await web_client.conversations_members(channel=inc, limit=2)
    ).data  # type: ignore[assignment]
    out["conversations.join"] = (
        await web_client.conversations_join(channel=seeded.general.id)
    ).data  # type: ignore[assignment]
    out["conversations.join (already)"] = (
        await web_client.conversations_join(channel=seeded.general.id)
    ).data  # type: ignore[assignment]
    posted = await web_client.chat_postMessage(channel=inc, text="x")
    out["chat.getPermalink"] = (
        await web_client.chat_getPermalink(channel=inc, message_ts=posted["ts"])
    ).data  # type: ignore[assignment]
    out["chat.postEphemeral"] = (
        await web_client.chat_postEphemeral(channel=inc, user=seeded.alice.id, text="x")
    ).data  # type: ignore[assignment]
    out["pins.add"] = (await web_client.pins_add(channel=inc, timestamp=posted["ts"])).data  # type: ignore[assignment]
    out["pins.remove"] = (await web_client.pins_remove(channel=inc, timestamp=posted["ts"])).data  # type: ignore[assignment]
    out["reactions.add"] = (
        await web_client.reactions_add(channel=inc, timestamp=posted["ts"], name="eyes")
    ).data  # type: ignore[assignment]
    out["bookmarks.add"] = (
        await web_client.bookmarks_add(channel_id=inc, title="t", type="link", link="https://x")
    ).data  # type: ignore[assignment]
    out["usergroups.users.list"] = (
        await web_client.usergroups_users_list(usergroup=seeded.oncall.id)
    ).data  # type: ignore[assignment]
    out["users.info"] = (await web_client.users_info(user=seeded.alice.id)).data  # type: ignore[assignment]
    out["users.lookupByEmail"] = (
        await web_client.users_lookupByEmail(email="alice@example.com")
    ).data  # type: ignore[assignment]
    upload = await web_client.files_getUploadURLExternal(filename="a.txt", length=1)
    out["files.getUploadURLExternal"] = upload.data  # type: ignore[assignment]
    uploaded = await web_client.files_upload_v2(channel=inc, content="x", filename="b.txt")
    out["files.completeUploadExternal"] = {
        k: v
        for k, v in uploaded.data.items()
        if k != "file"  # type: ignore[union-attr]
    }
    out["conversations.archive"] = (await web_client.conversations_archive(channel=new)).data  # type: ignore[assignment]
    return out


REQUIRED: dict[str, set[str]] = {
    "auth.test": {
        "ok",
        "url",
        "team",
        "user",
        "team_id",
        "user_id",
        "bot_id",
        "is_enterprise_install",
    },
    "conversations.create": {"ok", "channel"},
    "conversations.invite": {"ok", "channel"},
    "conversations.invite (partial)": {"ok", "error", "errors"},
    "conversations.setTopic": {"ok", "channel"},
    "conversations.rename": {"ok", "channel"},
    "conversations.info": {"ok", "channel"},
    "conversations.members": {"ok", "members", "response_metadata"},
    "conversations.join": {"ok", "channel"},
    "conversations.join (already)": {"ok", "channel", "warning"},
    "conversations.archive": {"ok"},
    "chat.getPermalink": {"ok", "channel", "permalink"},
    "chat.postEphemeral": {"ok", "message_ts"},
    "pins.add": {"ok"},
    "pins.remove": {"ok"},
    "reactions.add": {"ok"},
    "bookmarks.add": {"ok", "bookmark"},
    "usergroups.users.list": {"ok", "users"},
    "users.info": {"ok", "user"},
    "users.lookupByEmail": {"ok", "user"},
    "files.getUploadURLExternal": {"ok", "upload_url", "file_id"},
    "files.completeUploadExternal": {"ok", "files"},
}
CHANNEL_KEYS = {
    "id",
    "name",
    "is_channel",
    "is_private",
    "is_archived",
    "is_member",
    "topic",
    "purpose",
    "creator",
    "created",
}


async def test_web_api_responses_match_samples(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    answers = await api_shapes(web_client, emulator, seeded)
    assert answers.keys() == REQUIRED.keys()
    for label, answer in answers.items():
        method = label.split(" ")[0]
        theirs = sample("api", method)
        assert unknown_keys(answer, theirs) == [], label
        assert REQUIRED[label] <= answer.keys(), label
        if isinstance(answer.get("channel"), dict):
            assert answer["channel"].keys() >= CHANNEL_KEYS, label


def test_unknown_keys_detects_extras() -> None:
    theirs = {"ok": True, "channel": {"id": "", "topic": {"value": ""}}, "list": [{"a": 1}]}
    ours = {"ok": True, "channel": {"id": "", "topic": {"value": "", "x": 1}}, "list": [{"b": 1}]}
    assert unknown_keys(ours, theirs) == ["/channel/topic/x", "/list[]/b"]


async def test_slash_command_fields_are_the_sample_fields(
    slack: SlackClient, receiver: Any, seeded: Seeded
) -> None:
    await slack.slash_command(
        "/incident", "declare db down", user_id=seeded.alice.id, channel_id=seeded.incidents.id
    )
    [request] = receiver.requests
    fields = dict(urllib.parse.parse_qsl(request.body.decode(), keep_blank_values=True))
    theirs = sample("app-backend", "SlashCommandPayload")
    assert set(fields) == set(theirs) - {"enterprise_id", "enterprise_name"}
    assert fields["command"] == "/incident"
    assert fields["text"] == "declare db down"


def _payload(request: Any) -> dict[str, Any]:
    form = dict(urllib.parse.parse_qsl(request.body.decode()))
    result: dict[str, Any] = json.loads(form["payload"])
    return result


async def test_interaction_payloads_match_samples(
    slack: SlackClient, receiver: Any, emulator: SlackEmulator, seeded: Seeded
) -> None:
    ws = emulator.default_workspace
    message = ws.add_message(
        seeded.incidents,
        user=ws.bot_user_id,
        from_bot=True,
        text="SEV1",
        blocks=[
            {
                "type": "actions",
                "block_id": "b",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "ack",
                        "value": "1",
                        "text": {"type": "plain_text", "text": "Ack"},
                    }
                ],
            }
        ],
    )
    await slack.press_button(message, action_id="ack", user_id=seeded.alice.id)
    await slack.message_shortcut(message, callback_id="to_timeline", user_id=seeded.alice.id)
    block_actions, shortcut = (_payload(r) for r in receiver.requests)
    assert_shape(
        block_actions,
        sample("app-backend", "BlockActionPayload"),
        {
            "type",
            "user",
            "team",
            "api_app_id",
            "token",
            "container",
            "trigger_id",
            "channel",
            "message",
            "response_url",
            "actions",
        },
    )
    assert_shape(
        shortcut,
        sample("app-backend", "MessageShortcutPayload"),
        {
            "type",
            "callback_id",
            "trigger_id",
            "message_ts",
            "response_url",
            "message",
            "team",
            "user",
            "channel",
            "token",
            "action_ts",
        },
    )


async def test_view_submission_matches_sample(
    slack: SlackClient, receiver: Any, emulator: SlackEmulator, seeded: Seeded
) -> None:
    ws = emulator.default_workspace
    trigger = emulator.issue_trigger(ws, seeded.alice.id)
    await emulator.invoke(
        "views.open",
        ws,
        {
            "trigger_id": trigger,
            "view": {
                "type": "modal",
                "callback_id": "c",
                "title": {"type": "plain_text", "text": "T"},
                "blocks": [
                    {
                        "type": "input",
                        "block_id": "t",
                        "label": {"type": "plain_text", "text": "L"},
                        "element": {"type": "plain_text_input", "action_id": "a"},
                    }
                ],
            },
        },
    )
    [view] = ws.open_views(seeded.alice.id)
    await slack.submit_view(view, values={"t": "hello"})
    payload = _payload(receiver.requests[0])
    theirs = sample("app-backend", "ViewSubmissionPayload")
    # The sample's view lacks "blocks", which every real view object carries.
    theirs["view"]["blocks"] = []
    theirs["response_urls"] = []
    assert_shape(
        payload, theirs, {"type", "team", "user", "api_app_id", "token", "trigger_id", "view"}
    )
    assert payload["view"]["state"]["values"] == {
        "t": {"a": {"type": "plain_text_input", "value": "hello"}}
    }


EVENT_SAMPLES = {
    "message": "MessagePayload",
    "message/message_changed": "MessageChangedPayload",
    "message/message_deleted": "MessageDeletedPayload",
    "message/channel_topic": "MessageChannelTopicPayload",
    "reaction_added": "ReactionAddedPayload",
    "reaction_removed": "ReactionRemovedPayload",
    "pin_added": "PinAddedPayload",
    "pin_removed": "PinRemovedPayload",
    "member_joined_channel": "MemberJoinedChannelPayload",
    "member_left_channel": "MemberLeftChannelPayload",
    "app_home_opened": "AppHomeOpenedPayload",
}


async def test_events_match_samples(
    slack: SlackClient, receiver: Any, emulator: SlackEmulator, seeded: Seeded
) -> None:
    alice, bob = seeded.alice.id, seeded.bob.id
    message = await slack.user_posts("incidents", alice, "db is down")
    await slack.user_edits(message, "db is down (edited)")
    await slack.user_reacts(message, bob, "eyes")
    await slack.user_reacts(message, bob, "eyes", remove=True)
    await slack.user_pins(message, bob)
    await slack.user_pins(message, bob, remove=True)
    await slack.user_sets_topic("incidents", alice, "SEV1")
    await slack.user_leaves("incidents", bob)
    await slack.user_joins("incidents", bob)
    await slack.open_app_home(alice)
    await slack.user_deletes(message)
    envelope_keys = set().union(*(sample("events", s).keys() for s in EVENT_SAMPLES.values()))
    seen = set()
    for request in receiver.requests:
        envelope = request.json()
        event = envelope["event"]
        kind = event["type"] + (f"/{event['subtype']}" if "subtype" in event else "")
        seen.add(kind)
        assert envelope.keys() <= envelope_keys, kind
        assert {
            "token",
            "team_id",
            "api_app_id",
            "event",
            "type",
            "event_id",
            "event_time",
            "authed_users",
            "authorizations",
            "is_ext_shared_channel",
            "event_context",
        } <= envelope.keys()
        assert envelope["type"] == "event_callback"
        assert unknown_keys(event, sample("events", EVENT_SAMPLES[kind])["event"]) == [], kind
        assert {"type", "event_ts"} <= event.keys()
    assert seen == set(EVENT_SAMPLES)
