"""What Slack does with a POST to a ``response_url`` it issued.

A response_url accepts at most 5 posts within 30 minutes. It can post a new ephemeral
or in-channel message, or replace / delete the message the interaction came from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_emulator.errors import ApiError
from slack_emulator.state import JSON, EphemeralMessage, ResponseUrl, ResponseUrlPost
from slack_emulator.validation import MAX_MESSAGE_TEXT, check_message_blocks
from slack_emulator.web_api.chat import message_event
from slack_emulator.workspace import Workspace

if TYPE_CHECKING:
    from slack_emulator.emulator import SlackEmulator

MAX_POSTS = 5
LIFETIME_SECONDS = 30 * 60
_TRUE = {True, "true", "True", "1"}


def handle_post(
    emulator: SlackEmulator, ws: Workspace, rurl: ResponseUrl, url: str, payload: Any
) -> tuple[int, JSON]:
    """Apply one post; returns the HTTP status and JSON body Slack would answer."""
    now = emulator.clock.now()
    status = 200
    body: JSON = {"ok": True}
    try:
        if now - rurl.issued_at > LIFETIME_SECONDS:
            status, body = 404, {"ok": False, "error": "expired_url"}
        elif rurl.uses >= MAX_POSTS:
            status, body = 404, {"ok": False, "error": "used_url"}
        elif not isinstance(payload, dict):
            status, body = 400, {"ok": False, "error": "invalid_payload"}
        else:
            rurl.uses += 1
            _apply(emulator, ws, rurl, payload)
    except ApiError as exc:
        status, body = 400, exc.body()
    error = None if body.get("ok") else str(body.get("error"))
    ws.response_url_posts.append(
        ResponseUrlPost(
            rurl.id, url, payload if isinstance(payload, dict) else {}, status, error, now
        )
    )
    return status, body


def _content(payload: JSON) -> tuple[str, list[JSON], list[JSON]]:
    text = payload.get("text") or ""
    blocks = payload.get("blocks") or []
    attachments = payload.get("attachments") or []
    if not (text or blocks or attachments):
        raise ApiError("no_text")
    if len(text) > MAX_MESSAGE_TEXT:
        raise ApiError("msg_too_long")
    if blocks:
        check_message_blocks(blocks)
    return str(text), list(blocks), list(attachments)


def _apply(emulator: SlackEmulator, ws: Workspace, rurl: ResponseUrl, payload: JSON) -> None:
    channel = ws.channel(rurl.channel_id) if rurl.channel_id else None
    if payload.get("delete_original") in _TRUE:
        _delete_original(emulator, ws, rurl)
        return
    text, blocks, attachments = _content(payload)
    if payload.get("replace_original") in _TRUE and rurl.message_ts is not None:
        _replace_original(emulator, ws, rurl, text, blocks, attachments)
        return
    if channel is None:
        raise ApiError("channel_not_found")
    if payload.get("response_type") == "in_channel":
        message = ws.add_message(
            channel,
            user=ws.bot_user_id,
            text=text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=payload.get("thread_ts"),
            from_bot=True,
        )
        emulator.emit_bot_message(ws, message_event(channel, message))
        return
    ws.ephemeral_messages.append(
        EphemeralMessage(
            message_ts=ws.new_ts(),
            channel=channel.id,
            user=rurl.user_id,
            text=text,
            blocks=blocks,
            attachments=attachments,
            thread_ts=payload.get("thread_ts"),
            source="response_url",
            bot_id=ws.bot_id,
        )
    )


def _find_ephemeral(ws: Workspace, rurl: ResponseUrl) -> EphemeralMessage | None:
    return next(
        (
            e
            for e in reversed(ws.ephemeral_messages)
            if e.message_ts == rurl.message_ts and not e.deleted
        ),
        None,
    )


def _delete_original(emulator: SlackEmulator, ws: Workspace, rurl: ResponseUrl) -> None:
    if rurl.is_ephemeral_source:
        ephemeral = _find_ephemeral(ws, rurl)
        if ephemeral is None:
            raise ApiError("message_not_found")
        ephemeral.deleted = True
        return
    channel = ws.channel(rurl.channel_id or "")
    if channel is None or rurl.message_ts not in channel.messages:
        raise ApiError("message_not_found")
    previous = ws.delete_message(channel, rurl.message_ts)
    event_ts = ws.new_ts()
    emulator.emit_event(
        ws,
        {
            "type": "message",
            "subtype": "message_deleted",
            "channel": channel.id,
            "hidden": True,
            "deleted_ts": previous.ts,
            "previous_message": previous.to_api(),
            "ts": event_ts,
            "event_ts": event_ts,
        },
    )


def _replace_original(
    emulator: SlackEmulator,
    ws: Workspace,
    rurl: ResponseUrl,
    text: str,
    blocks: list[JSON],
    attachments: list[JSON],
) -> None:
    if rurl.is_ephemeral_source:
        ephemeral = _find_ephemeral(ws, rurl)
        if ephemeral is None:
            raise ApiError("message_not_found")
        ephemeral.text, ephemeral.blocks, ephemeral.attachments = text, blocks, attachments
        ephemeral.replaced = True
        return
    channel = ws.channel(rurl.channel_id or "")
    message = channel.messages.get(rurl.message_ts or "") if channel else None
    if channel is None or message is None:
        raise ApiError("message_not_found")
    previous = message.to_api()
    message.text, message.blocks, message.attachments = text, blocks, attachments
    message.edited = {"user": ws.bot_user_id, "ts": ws.new_ts()}
    emulator.emit_event(
        ws,
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": channel.id,
            "hidden": True,
            "message": message.to_api(),
            "previous_message": previous,
            "ts": message.edited["ts"],
            "event_ts": message.edited["ts"],
        },
    )
