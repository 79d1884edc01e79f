"""pins.*, reactions.*, bookmarks.add.

The state changes are plain functions over a workspace because a user pinning or reacting
from the Slack side goes through exactly the same rules as the bot doing it via the API.
"""

from __future__ import annotations

import re

from slack_emulator.errors import ApiError
from slack_emulator.state import JSON, Bookmark, Channel, Message, Pin
from slack_emulator.web_api.base import ApiCall, Handler, ok
from slack_emulator.web_api.chat import permalink
from slack_emulator.workspace import Workspace

_EMOJI_NAME = re.compile(r"^[a-z0-9_+'-]+(::skin-tone-[2-6])?$")


def _message(channel: Channel, ts: str | None) -> Message:
    if ts is None:
        raise ApiError("no_item_specified")
    message = channel.messages.get(ts)
    if message is None:
        raise ApiError("message_not_found")
    return message


def _pin_item(ws: Workspace, channel: Channel, message: Message, pin: Pin) -> JSON:
    item_message = message.to_api()
    item_message["permalink"] = permalink(ws, channel, message)
    item_message["pinned_to"] = [channel.id]
    return {
        "type": "message",
        "created": pin.created,
        "created_by": pin.pinned_by,
        "channel": channel.id,
        "message": item_message,
    }


def pin(ws: Workspace, channel: Channel, ts: str | None, user: str) -> JSON:
    """Pin a message and return the ``pin_added`` event."""
    message = _message(channel, ts)
    if any(p.ts == message.ts for p in channel.pins):
        raise ApiError("already_pinned")
    record = Pin(message.ts, user, ws.now())
    channel.pins.append(record)
    return {
        "type": "pin_added",
        "user": user,
        "channel_id": channel.id,
        "item": _pin_item(ws, channel, message, record),
        "item_user": message.user or "",
        "pin_count": len(channel.pins),
        "pinned_info": {"channel": channel.id, "pinned_by": user, "pinned_ts": record.created},
        "event_ts": ws.new_ts(),
    }


def unpin(ws: Workspace, channel: Channel, ts: str | None, user: str) -> JSON:
    """Unpin a message and return the ``pin_removed`` event."""
    message = _message(channel, ts)
    record = next((p for p in channel.pins if p.ts == message.ts), None)
    if record is None:
        raise ApiError("no_pin")
    channel.pins.remove(record)
    return {
        "type": "pin_removed",
        "user": user,
        "channel_id": channel.id,
        "item": _pin_item(ws, channel, message, record),
        "item_user": message.user or "",
        "pin_count": len(channel.pins),
        "pinned_info": {
            "channel": channel.id,
            "pinned_by": record.pinned_by,
            "pinned_ts": record.created,
        },
        "has_pins": bool(channel.pins),
        "event_ts": ws.new_ts(),
    }


def react(
    ws: Workspace, channel: Channel, ts: str | None, user: str, name: str | None, *, add: bool
) -> JSON:
    """Add or remove a reaction and return the ``reaction_added``/``_removed`` event."""
    message = _message(channel, ts)
    if not name or not _EMOJI_NAME.match(name.strip(":")):
        raise ApiError("invalid_name")
    name = name.strip(":")
    users = message.reactions.get(name, [])
    if add:
        if user in users:
            raise ApiError("already_reacted")
        message.reactions[name] = [*users, user]
    else:
        if user not in users:
            raise ApiError("no_reaction")
        remaining = [u for u in users if u != user]
        if remaining:
            message.reactions[name] = remaining
        else:
            del message.reactions[name]
    return {
        "type": "reaction_added" if add else "reaction_removed",
        "user": user,
        "item": {"type": "message", "channel": channel.id, "ts": message.ts},
        "reaction": name,
        "item_user": message.user or "",
        "event_ts": ws.new_ts(),
    }


async def pins_add(call: ApiCall) -> JSON:
    call.require_scope("pins:write")
    channel = call.channel()
    call.emit(pin(call.ws, channel, call.opt_str("timestamp"), call.ws.bot_user_id))
    return ok()


async def pins_remove(call: ApiCall) -> JSON:
    call.require_scope("pins:write")
    channel = call.channel()
    call.emit(unpin(call.ws, channel, call.opt_str("timestamp"), call.ws.bot_user_id))
    return ok()


async def reactions_add(call: ApiCall) -> JSON:
    call.require_scope("reactions:write")
    channel = call.channel()
    event = react(
        call.ws,
        channel,
        call.opt_str("timestamp"),
        call.ws.bot_user_id,
        call.opt_str("name"),
        add=True,
    )
    call.emit(event)
    return ok()


async def reactions_remove(call: ApiCall) -> JSON:
    call.require_scope("reactions:write")
    channel = call.channel()
    event = react(
        call.ws,
        channel,
        call.opt_str("timestamp"),
        call.ws.bot_user_id,
        call.opt_str("name"),
        add=False,
    )
    call.emit(event)
    return ok()


async def bookmarks_add(call: ApiCall) -> JSON:
    call.require_scope("bookmarks:write")
    channel = call.channel("channel_id")
    title = call.req_str("title")
    kind = call.req_str("type")
    link = call.opt_str("link") or ""
    if kind != "link" or not link:
        raise ApiError("invalid_arguments")
    call.require_not_archived(channel)
    bookmark = Bookmark(
        id=call.ws.ids.new("Bk"),
        channel_id=channel.id,
        title=title,
        link=link,
        emoji=call.opt_str("emoji") or "",
        type=kind,
        created=call.ws.now(),
        created_by=call.ws.bot_user_id,
        app_id=call.ws.app_id,
    )
    channel.bookmarks.append(bookmark)
    return ok(bookmark=bookmark.to_api())


HANDLERS: dict[str, Handler] = {
    "pins.add": pins_add,
    "pins.remove": pins_remove,
    "reactions.add": reactions_add,
    "reactions.remove": reactions_remove,
    "bookmarks.add": bookmarks_add,
}
