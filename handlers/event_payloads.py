"""Channel events, typed: the Events API payloads the timeline reads, turned into domain facts.

Shapes follow the Slack contract's samples (``samples/events/*.json``). Slack blanks absent
values as ``""`` as often as it leaves them out, so empty strings read as "not given". An
event that does not have what its type promises (no channel, a ts that is not a ts, an id too
long to be one) is not guessed at: :func:`channel_fact` returns None and says why in the log.

Message subtypes that are only echoes of another event are not facts of their own:
``channel_join``/``channel_leave`` (``member_joined_channel``/``member_left_channel`` say it),
``channel_name`` (``channel_rename``), ``pinned_item`` (``pin_added``) and
``message_replied`` (a thread's root changing its reply count).
"""

from __future__ import annotations

import logging
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, StringConstraints, ValidationError

from bot.domain.timeline import (
    ChannelChange,
    ChannelChanged,
    ChannelFact,
    FileRef,
    MembershipChanged,
    MessageDeleted,
    MessageSeen,
    Origin,
    PinChanged,
    ReactionChanged,
    SeenMessage,
)
from handlers.slack_types import (
    MAX_ID,
    ChannelId,
    OptionalAppId,
    OptionalBotId,
    OptionalUserId,
    SlackPayload,
    UserId,
    reason,
)

logger = logging.getLogger(__name__)

Model = TypeVar("Model", bound=BaseModel)


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


Ts = Annotated[str, StringConstraints(pattern=r"^\d{1,12}(\.\d{1,6})?$")]
OptionalTs = Annotated[Ts | None, BeforeValidator(_blank_is_none)]
# An id whose kind the field does not say (a shortcut's message author: a user or a bot).
SlackId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID)]
OptionalId = Annotated[SlackId | None, BeforeValidator(_blank_is_none)]
_Payload = SlackPayload


class _File(_Payload):
    name: str = ""
    title: str = ""
    permalink: str = ""
    url_private: str = ""

    def to_ref(self) -> FileRef:
        return FileRef(self.name or self.title, self.permalink or self.url_private)


class _Edited(_Payload):
    user: OptionalUserId = None
    ts: OptionalTs = None


class _BotProfile(_Payload):
    name: str = ""


class _Message(_Payload):
    """The message fields of a ``message`` event, or of ``message_changed``'s ``message``."""

    ts: Ts
    user: OptionalUserId = None
    bot_id: OptionalBotId = None
    app_id: OptionalAppId = None
    subtype: str | None = None
    username: str | None = None
    bot_profile: _BotProfile | None = None
    text: str | None = ""
    thread_ts: OptionalTs = None
    files: list[_File] | None = None
    edited: _Edited | None = None

    def seen(self) -> SeenMessage:
        is_bot = self.bot_id is not None or self.subtype == "bot_message"
        bot_name = None
        if is_bot:
            bot_name = (self.bot_profile.name if self.bot_profile else "") or self.username or ""
        return SeenMessage(
            ts=self.ts,
            origin=Origin(user=self.user, bot_id=self.bot_id, app_id=self.app_id),
            text=self.text or "",
            thread_ts=self.thread_ts,
            files=tuple(file.to_ref() for file in self.files or ()),
            bot_name=bot_name,
            edited_at=self.edited.ts if self.edited else None,
            edited_by=self.edited.user if self.edited else None,
            replaced=self.had_unstorable_text(),
        )


class _MessagePosted(_Message):
    channel: ChannelId


class _MessageChanged(_Payload):
    channel: ChannelId
    message: _Message
    previous_message: _Message | None = None


class _MessageDeleted(_Payload):
    channel: ChannelId
    deleted_ts: Ts
    ts: OptionalTs = None
    event_ts: OptionalTs = None
    user: OptionalUserId = None
    previous_message: _Message | None = None


class _Topic(_Payload):
    channel: ChannelId
    ts: Ts
    user: OptionalUserId = None
    topic: str | None = None
    purpose: str | None = None


class _ReactionItem(_Payload):
    type: Literal["message"]
    channel: ChannelId
    ts: Ts


class _Reaction(_Payload):
    user: UserId
    reaction: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    item: _ReactionItem
    item_user: OptionalUserId = None
    event_ts: Ts


class _PinItem(_Payload):
    type: Literal["message"]
    message: _Message


class _Pin(_Payload):
    user: UserId
    channel_id: ChannelId
    item: _PinItem
    event_ts: Ts


class _Membership(_Payload):
    user: UserId
    channel: ChannelId
    inviter: OptionalUserId = None
    event_ts: Ts


class _RenamedChannel(_Payload):
    id: ChannelId
    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]


class _Rename(_Payload):
    channel: _RenamedChannel
    event_ts: Ts


# Subtypes that are a message someone wrote, as opposed to Slack noting a change.
_WRITTEN = frozenset({None, "bot_message", "file_share", "thread_broadcast", "me_message"})


def _read(model: type[Model], event: dict[str, Any]) -> Model:
    return model.model_validate(event)


def _message_fact(event: dict[str, Any]) -> ChannelFact | None:
    subtype = event.get("subtype")
    if subtype in _WRITTEN:
        posted = _read(_MessagePosted, event)
        return MessageSeen(posted.channel, posted.seen())
    if subtype == "message_changed":
        changed = _read(_MessageChanged, event)
        previous = changed.previous_message.seen() if changed.previous_message else None
        return MessageSeen(changed.channel, changed.message.seen(), previous)
    if subtype == "message_deleted":
        deleted = _read(_MessageDeleted, event)
        at = deleted.event_ts or deleted.ts
        if at is None:
            raise ValueError("message_deleted without a ts")
        previous = deleted.previous_message.seen() if deleted.previous_message else None
        return MessageDeleted(deleted.channel, deleted.deleted_ts, at, deleted.user, previous)
    if subtype in {"channel_topic", "group_topic", "channel_purpose", "group_purpose"}:
        topic = _read(_Topic, event)
        what = ChannelChange.TOPIC if subtype.endswith("topic") else ChannelChange.PURPOSE
        value = topic.topic if what is ChannelChange.TOPIC else topic.purpose
        return ChannelChanged(
            topic.channel, what, value or "", topic.ts, topic.user, topic.had_unstorable_text()
        )
    return None


def _about_a_message(event: dict[str, Any]) -> bool:
    item = event.get("item")
    if not isinstance(item, dict):
        raise ValueError("its item is not an object")
    return item.get("type") == "message"


# Every event type :func:`channel_fact` reads; other events are some other listener's.
CHANNEL_EVENT_TYPES = frozenset(
    {
        "message",
        "reaction_added",
        "reaction_removed",
        "pin_added",
        "pin_removed",
        "member_joined_channel",
        "member_left_channel",
        "channel_rename",
        "group_rename",
    }
)


def _fact(event: dict[str, Any]) -> ChannelFact | None:
    kind = event.get("type")
    if kind not in CHANNEL_EVENT_TYPES:
        return None
    if kind == "message":
        return _message_fact(event)
    if kind in {"reaction_added", "reaction_removed"}:
        if not _about_a_message(event):
            return None  # reactions to files are not part of the war room's conversation
        reaction = _read(_Reaction, event)
        return ReactionChanged(
            reaction.item.channel,
            reaction.item.ts,
            reaction.user,
            reaction.reaction.strip(":"),
            kind == "reaction_added",
            reaction.event_ts,
            reaction.item_user,
        )
    if kind in {"pin_added", "pin_removed"}:
        if not _about_a_message(event):
            return None
        pin = _read(_Pin, event)
        message = pin.item.message.seen()
        return PinChanged(
            pin.channel_id, message.ts, pin.user, kind == "pin_added", pin.event_ts, message
        )
    if kind in {"member_joined_channel", "member_left_channel"}:
        member = _read(_Membership, event)
        joined = kind == "member_joined_channel"
        return MembershipChanged(
            member.channel, member.user, joined, member.event_ts, member.inviter
        )
    if kind in {"channel_rename", "group_rename"}:
        rename = _read(_Rename, event)
        return ChannelChanged(
            rename.channel.id,
            ChannelChange.NAME,
            rename.channel.name,
            rename.event_ts,
            replaced=rename.had_unstorable_text(),
        )
    return None


def channel_fact(event: Any) -> ChannelFact | None:
    """The fact ``event`` reports about a channel; None for anything else or anything broken."""
    if not isinstance(event, dict):
        logger.info("ignored an event that is not an object")
        return None
    try:
        return _fact(event)
    except ValidationError as exc:
        logger.info("ignored a malformed %s event: %s", str(event.get("type"))[:40], reason(exc))
        return None
    except (ValueError, TypeError) as exc:
        logger.info("ignored a malformed %s event: %s", str(event.get("type"))[:40], exc)
        return None
