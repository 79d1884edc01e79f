"""conversations.* methods."""

from __future__ import annotations

import base64
import binascii

from slack_emulator.errors import ApiError
from slack_emulator.state import JSON, Channel, Topic
from slack_emulator.validation import MAX_TOPIC, check_channel_name
from slack_emulator.web_api.base import ApiCall, Handler, ok
from slack_emulator.workspace import Workspace

MAX_INVITES = 1000
MAX_HISTORY_PAGE = 999


def channel_type(channel: Channel) -> str:
    if channel.is_im:
        return "im"
    return "group" if channel.is_private else "channel"


def member_joined_event(ws: Workspace, channel: Channel, user: str, inviter: str | None) -> JSON:
    event: JSON = {
        "type": "member_joined_channel",
        "user": user,
        "channel": channel.id,
        "channel_type": "G" if channel.is_private else "C",
        "team": ws.team_id,
    }
    if inviter:
        event["inviter"] = inviter
    return event


def _check_new_name(call: ApiCall, name: str | None) -> str:
    checked = check_channel_name(name)
    # Archived channels keep their name reserved.
    if call.ws.channel(checked) is not None:
        raise ApiError("name_taken")
    return checked


async def create(call: ApiCall) -> JSON:
    is_private = call.flag("is_private")
    call.require_scope("groups:write" if is_private else "channels:manage")
    name = _check_new_name(call, call.opt_str("name"))
    channel = call.ws.create_channel(name, is_private=is_private, bot_is_member=True)
    return ok(channel=channel.to_api(call.ws.bot_user_id))


async def invite(call: ApiCall) -> JSON:
    ws = call.ws
    channel = call.channel()
    raw_users = call.req_str("users", "no_user")
    call.require_not_archived(channel)
    call.require_member(channel)
    if channel.is_im:
        raise ApiError("method_not_supported_for_channel_type")
    users = [u.strip() for u in raw_users.split(",") if u.strip()]
    if not users:
        raise ApiError("no_user")
    if len(users) > MAX_INVITES:
        raise ApiError("too_many_users")
    errors: list[JSON] = []
    valid: list[str] = []
    for user_id in users:
        user = ws.user(user_id)
        if user_id == ws.bot_user_id:
            error = "cant_invite_self"
        elif user is None:
            error = "user_not_found"
        elif user.deleted:
            error = "cant_invite"
        elif user_id in channel.members:
            error = "already_in_channel"
        else:
            valid.append(user_id)
            continue
        errors.append({"user": user_id, "ok": False, "error": error})
    # Without force=true Slack invites nobody when any user fails; with it, the valid
    # users are invited and the failures are still reported.
    if not errors or call.flag("force"):
        for user_id in dict.fromkeys(valid):
            channel.members.append(user_id)
            call.emit(member_joined_event(ws, channel, user_id, ws.bot_user_id))
    if errors:
        if len(users) == 1:
            raise ApiError(errors[0]["error"])
        raise ApiError(errors[0]["error"], errors=errors)
    return ok(channel=channel.to_api(ws.bot_user_id))


async def set_topic(call: ApiCall) -> JSON:
    ws = call.ws
    channel = call.channel()
    topic = call.opt_str("topic") or ""
    call.require_not_archived(channel)
    call.require_member(channel)
    if len(topic) > MAX_TOPIC:
        raise ApiError("too_long")
    channel.topic = Topic(topic, ws.bot_user_id, ws.now())
    # Slack records a topic change as a channel_topic message in the history.
    message = ws.add_message(
        channel,
        user=ws.bot_user_id,
        text=f"<@{ws.bot_user_id}> set the channel topic: {topic}",
        subtype="channel_topic",
        extra={"topic": topic},
    )
    call.emit(
        {
            **message.to_api(),
            "channel": channel.id,
            "channel_type": channel_type(channel),
            "event_ts": message.ts,
        }
    )
    return ok(channel=channel.to_api(ws.bot_user_id))


def rename(ws: Workspace, channel: Channel, name: str | None, user: str) -> list[JSON]:
    """Rename a channel (rules of conversations.rename); return the events it causes."""
    if name == channel.name:
        return []
    new_name = check_channel_name(name)
    # Archived channels keep their name reserved.
    if ws.channel(new_name) is not None:
        raise ApiError("name_taken")
    channel.previous_names.insert(0, channel.name)
    channel.name = new_name
    return [
        {
            "type": "channel_rename",
            "channel": {"id": channel.id, "name": new_name, "created": channel.created},
            "event_ts": ws.new_ts(),
        }
    ]


async def conversations_rename(call: ApiCall) -> JSON:
    channel = call.channel()
    call.require_member(channel)
    for event in rename(call.ws, channel, call.opt_str("name"), call.ws.bot_user_id):
        call.emit(event)
    return ok(channel=channel.to_api(call.ws.bot_user_id))


async def archive(call: ApiCall) -> JSON:
    channel = call.channel()
    if channel.is_archived:
        raise ApiError("already_archived")
    if channel.is_general:
        raise ApiError("cant_archive_general")
    if channel.is_im:
        raise ApiError("method_not_supported_for_channel_type")
    call.require_member(channel)
    channel.is_archived = True
    call.emit({"type": "channel_archive", "channel": channel.id, "user": call.ws.bot_user_id})
    return ok()


async def info(call: ApiCall) -> JSON:
    channel = call.channel()
    return ok(
        channel=channel.to_api(call.ws.bot_user_id, num_members=call.flag("include_num_members"))
    )


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        kind, _, value = base64.b64decode(cursor, validate=True).decode().partition(":")
        if kind != "offset":
            raise ValueError(kind)
        return int(value)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ApiError("invalid_cursor") from None


async def members(call: ApiCall) -> JSON:
    channel = call.channel()
    limit = call.integer("limit", 100, "invalid_limit")
    if not 1 <= limit <= 1000:
        raise ApiError("invalid_limit")
    cursor = call.opt_str("cursor")
    start = _decode_cursor(cursor) if cursor else 0
    page = channel.members[start : start + limit]
    more = start + limit < len(channel.members)
    return ok(
        members=page,
        response_metadata={"next_cursor": _encode_cursor(start + limit) if more else ""},
    )


_CHANNEL_TYPES = frozenset({"public_channel", "private_channel", "mpim", "im"})


def _kind(channel: Channel) -> str:
    if channel.is_im:
        return "im"
    return "private_channel" if channel.is_private else "public_channel"


async def list_(call: ApiCall) -> JSON:
    """Channels the token can see: public ones, and private ones and DMs the bot is in."""
    ws = call.ws
    types = set((call.opt_str("types") or "public_channel").split(","))
    if not types <= _CHANNEL_TYPES:
        raise ApiError("invalid_types")
    limit = call.integer("limit", 100, "invalid_limit")
    if not 1 <= limit <= 1000:
        raise ApiError("invalid_limit")
    exclude_archived = call.flag("exclude_archived")
    visible = [
        channel
        for channel in ws.channels_by_id.values()
        if _kind(channel) in types
        and not (exclude_archived and channel.is_archived)
        and (_kind(channel) == "public_channel" or ws.bot_user_id in channel.members)
    ]
    cursor = call.opt_str("cursor")
    start = _decode_cursor(cursor) if cursor else 0
    page = visible[start : start + limit]
    more = start + limit < len(visible)
    return ok(
        channels=[channel.to_api(ws.bot_user_id) for channel in page],
        response_metadata={"next_cursor": _encode_cursor(start + limit) if more else ""},
    )


def _history_scope(channel: Channel) -> str:
    if channel.is_im:
        return "im:history"
    return "groups:history" if channel.is_private else "channels:history"


def _timestamp(call: ApiCall, name: str, error: str) -> float | None:
    value = call.opt_str(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        raise ApiError(error) from None


def _history_cursor(ts: str) -> str:
    return base64.b64encode(f"next_ts:{ts}".encode()).decode()


def _history_cursor_ts(cursor: str) -> float:
    try:
        kind, _, value = base64.b64decode(cursor, validate=True).decode().partition(":")
        if kind != "next_ts":
            raise ValueError(kind)
        return float(value)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ApiError("invalid_cursor") from None


async def history(call: ApiCall) -> JSON:
    """Top-level messages newest first, between ``oldest`` and ``latest`` (both excluded unless
    ``inclusive``). Message metadata is returned only with ``include_all_metadata``. The cursor
    names the next (older) message to return, so pages stay right while messages arrive."""
    channel = call.channel()
    call.require_scope(_history_scope(channel))
    if not channel.is_im:
        call.require_member(channel)
    oldest = _timestamp(call, "oldest", "invalid_ts_oldest")
    latest = _timestamp(call, "latest", "invalid_ts_latest")
    inclusive = call.flag("inclusive")
    limit = min(max(call.integer("limit", 100, "invalid_limit"), 1), MAX_HISTORY_PAGE)
    cursor = call.opt_str("cursor")
    start = _history_cursor_ts(cursor) if cursor else None

    def wanted(ts: float) -> bool:
        if start is not None and ts > start:
            return False
        if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
            return False
        return latest is None or ts < latest or (ts == latest and inclusive)

    newest_first = [m for m in reversed(channel.top_level()) if wanted(float(m.ts))]
    page, rest = newest_first[:limit], newest_first[limit:]
    metadata = call.flag("include_all_metadata")
    messages = []
    for message in page:
        shown = message.to_api()
        if not metadata:
            shown.pop("metadata", None)
        messages.append(shown)
    answer = ok(
        messages=messages,
        has_more=bool(rest),
        pin_count=len(channel.pins),
        channel_actions_ts=None,
        channel_actions_count=0,
    )
    if rest:
        answer["response_metadata"] = {"next_cursor": _history_cursor(rest[0].ts)}
    return answer


async def open_(call: ApiCall) -> JSON:
    """The direct-message channel with one user (group DMs are not emulated)."""
    call.require_scope("im:write")
    users = [u.strip() for u in (call.opt_str("users") or "").split(",") if u.strip()]
    if not users:
        raise ApiError("users_list_not_supplied")
    if len(users) > 1:
        raise ApiError("method_not_supported_for_channel_type")
    user = call.ws.user(users[0])
    if user is None:
        raise ApiError("user_not_found")
    if user.deleted:
        raise ApiError("user_disabled")
    channel = call.ws.open_im(user.id)
    return ok(channel={"id": channel.id})


async def join(call: ApiCall) -> JSON:
    ws = call.ws
    ref = call.req_str("channel", "channel_not_found")
    channel = ws.channel(ref)
    if channel is None:
        raise ApiError("channel_not_found")
    if channel.is_private or channel.is_im:
        raise ApiError("method_not_supported_for_channel_type")
    call.require_scope("channels:join")
    call.require_not_archived(channel)
    if ws.bot_user_id in channel.members:
        return ok(
            channel=channel.to_api(ws.bot_user_id),
            warning="already_in_channel",
            response_metadata={"warnings": ["already_in_channel"]},
        )
    channel.members.append(ws.bot_user_id)
    call.emit(member_joined_event(ws, channel, ws.bot_user_id, None))
    return ok(channel=channel.to_api(ws.bot_user_id))


HANDLERS: dict[str, Handler] = {
    "conversations.create": create,
    "conversations.invite": invite,
    "conversations.setTopic": set_topic,
    "conversations.rename": conversations_rename,
    "conversations.archive": archive,
    "conversations.info": info,
    "conversations.members": members,
    "conversations.join": join,
    "conversations.list": list_,
    "conversations.history": history,
    "conversations.open": open_,
}
