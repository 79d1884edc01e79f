"""What one person sees in the emulated workspace, as JSON for the page.

The page is a view of the emulator's state and nothing else: a message Klaxon never posted
cannot appear, and an ephemeral message reaches only the person it was meant for.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from bot.sandbox.people import Person
from slack_emulator import SlackEmulator
from slack_emulator.state import JSON, Channel, EphemeralMessage, Message, View
from slack_emulator.workspace import Workspace

# Slack's errors for Klaxon's calls shown on the page, newest last.
MAX_ERRORS = 30
# Calls that fail by design and that Slack's own client never shows: Klaxon asks for a
# channel name, hears it is taken and tries the next one.
_EXPECTED_ERRORS = frozenset({("conversations.create", "name_taken")})


def snapshot(
    emulator: SlackEmulator, people: Sequence[Person], viewer: str, channel_id: str | None
) -> JSON:
    ws = emulator.default_workspace
    im = ws.open_im(viewer)
    visible = [c for c in ws.channels if _can_see(c, viewer)]
    shown = ws.channels_by_id.get(channel_id or "")
    if shown is None or not (shown.id == im.id or shown in visible):
        shown = next((c for c in visible if c.is_general), visible[0] if visible else im)
    return {
        "me": viewer,
        "team": ws.name,
        "bot": {"id": ws.bot_user_id, "name": ws.bot_name},
        "people": [
            {"id": p.user_id, "name": p.name, "real_name": p.real_name, "role": p.role}
            for p in people
        ],
        "users": {
            u.id: {"name": u.name, "real_name": _shown_name(ws, u.id), "is_bot": u.is_bot}
            for u in ws.users.values()
        },
        "usergroups": {g.id: g.handle for g in ws.usergroups.values()},
        "channels": [_channel(c, viewer) for c in visible],
        "channel_names": {c.id: c.name for c in ws.channels},
        "im": im.id,
        "shown": {**_channel(shown, viewer), "messages": _history(ws, shown, viewer)},
        "modals": [_view(v) for v in ws.open_views(viewer)],
        "home": _view(home) if (home := ws.home_view(viewer)) is not None else None,
        "errors": _errors(emulator),
    }


def _shown_name(ws: Workspace, user_id: str) -> str:
    # The app's display name (slack-app-manifest.json), as Slack shows its bot user.
    if user_id == ws.bot_user_id:
        return "Klaxon"
    user = ws.users[user_id]
    return user.real_name or user.name


def _can_see(channel: Channel, viewer: str) -> bool:
    return not channel.is_archived and (not channel.is_private or viewer in channel.members)


def _channel(channel: Channel, viewer: str) -> JSON:
    return {
        "id": channel.id,
        "name": channel.name,
        "is_im": channel.is_im,
        "is_private": channel.is_private,
        "is_member": viewer in channel.members,
        "topic": channel.topic.value,
        "members": len(channel.members),
        "pins": len(channel.pins),
    }


def _history(ws: Workspace, channel: Channel, viewer: str) -> list[JSON]:
    pinned = {p.ts for p in channel.pins}
    shown: list[JSON] = []
    for message in channel.top_level():
        item = _message(message, pinned)
        item["replies"] = [
            _message(channel.messages[ts], pinned)
            for ts in message.reply_ts
            if ts in channel.messages
        ]
        shown.append(item)
    for ephemeral in ws.ephemerals(channel=channel.id, user=viewer):
        if not ephemeral.deleted:
            shown.append(_ephemeral(ws, ephemeral))
    return sorted(shown, key=lambda m: float(m["ts"]))


def _message(message: Message, pinned: set[str]) -> JSON:
    return {
        "ts": message.ts,
        "user": message.user,
        "is_bot": message.bot_id is not None,
        "bot_name": message.bot_name,
        "subtype": message.subtype,
        "text": message.text,
        "blocks": message.blocks,
        "attachments": message.attachments,
        "files": [_file(f) for f in message.files],
        "reactions": [
            {"name": name, "users": users, "count": len(users)}
            for name, users in message.reactions.items()
            if users
        ],
        "edited": message.edited is not None,
        "pinned": message.ts in pinned,
        "thread_ts": message.thread_ts,
        "ephemeral": False,
    }


def _ephemeral(ws: Workspace, ephemeral: EphemeralMessage) -> JSON:
    return {
        "ts": ephemeral.message_ts,
        "user": ws.bot_user_id,
        "is_bot": True,
        "bot_name": ws.bot_name,
        "subtype": None,
        "text": ephemeral.text,
        "blocks": ephemeral.blocks,
        "attachments": ephemeral.attachments,
        "files": [],
        "reactions": [],
        "edited": ephemeral.replaced,
        "pinned": False,
        "thread_ts": ephemeral.thread_ts,
        "ephemeral": True,
        "replies": [],
    }


def _file(shared: JSON) -> JSON:
    return {
        "id": shared.get("id"),
        "name": shared.get("name"),
        "title": shared.get("title"),
        "size": shared.get("size"),
        "filetype": shared.get("filetype"),
    }


def fingerprint(definition: Any) -> str:
    """Changes whenever the view's content does: the page re-renders a modal only then, so
    what someone is typing survives a refresh caused by anything else."""
    encoded = json.dumps(definition, sort_keys=True).encode()
    return hashlib.sha256(encoded).hexdigest()[:16]


def _view(view: View) -> JSON:
    return {
        "id": view.id,
        "type": view.type,
        "fingerprint": fingerprint(view.definition),
        "title": view.title,
        "submit": _plain(view.definition.get("submit")),
        "close": _plain(view.definition.get("close")),
        "blocks": view.blocks,
    }


def _plain(obj: Any) -> str | None:
    return str(obj.get("text", "")) if isinstance(obj, dict) else None


def _errors(emulator: SlackEmulator) -> list[JSON]:
    failed = [
        {
            "method": call.method,
            "error": call.error or f"HTTP {call.status}",
            "channel": call.args.get("channel") or call.args.get("channel_id"),
            "at": call.at,
        }
        for call in emulator.call_log
        if not call.ok and (call.method, call.error) not in _EXPECTED_ERRORS
    ]
    return failed[-MAX_ERRORS:]
