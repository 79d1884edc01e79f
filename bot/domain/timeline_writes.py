"""What a war-room fact writes: a patch to a message's entry, a new entry of its own, or both.

Every write carries a ``dedup_key`` derived from the fact itself (the message's ts, the
event's ts), never from Slack's ``event_id``: a redelivery, or the same fact under a second
event id, lands on the same key and changes nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.incident import TimelineKind
from bot.domain.text import REPLACED_NOTE
from bot.domain.timeline import (
    ChannelChange,
    ChannelChanged,
    ChannelFact,
    KlaxonIdentity,
    MembershipChanged,
    MessageDeleted,
    MessageSeen,
    MessageState,
    PinChanged,
    ReactionChanged,
    message_state,
    ts_to_datetime,
)

SNIPPET = 200


def _snippet(text: str) -> str:
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…"


def message_key(ts: str) -> str:
    return f"msg:{ts}"


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry that is written once and never changes (a join, a pin, a topic)."""

    kind: TimelineKind
    occurred_at: datetime
    actor: str | None
    text: str
    dedup_key: str
    slack_ts: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    thread_ts: str | None = None
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class Writes:
    message: MessageState | None = None
    entry: NewEntry | None = None


def _sign(added: bool) -> str:
    return "+" if added else "-"


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _pin_entry(fact: PinChanged) -> NewEntry:
    snippet = _snippet(fact.item.text) if fact.item else ""
    verb = "pinned" if fact.added else "unpinned"
    return NewEntry(
        TimelineKind.PIN,
        ts_to_datetime(fact.at),
        fact.user,
        f"{verb} a message: {snippet}" if snippet else f"{verb} a message",
        f"pin:{fact.ts}:{fact.at}:{_sign(fact.added)}",
        slack_ts=fact.ts,
        details={"pinned": fact.added}
        | ({REPLACED_NOTE: True} if fact.item and fact.item.replaced else {}),
    )


def _member_entry(fact: MembershipChanged) -> NewEntry:
    return NewEntry(
        TimelineKind.MEMBER,
        ts_to_datetime(fact.at),
        fact.user,
        "joined the channel" if fact.joined else "left the channel",
        f"member:{fact.user}:{fact.at}:{_sign(fact.joined)}",
        details={"inviter": fact.inviter} if fact.inviter else {},
    )


_CHANNEL_TEXT = {
    ChannelChange.TOPIC: "set the topic: {}",
    ChannelChange.PURPOSE: "set the purpose: {}",
    ChannelChange.NAME: "renamed the channel to #{}",
}


def _channel_entry(fact: ChannelChanged) -> NewEntry:
    return NewEntry(
        TimelineKind.CHANNEL,
        ts_to_datetime(fact.at),
        fact.by,
        _CHANNEL_TEXT[fact.what].format(fact.value),
        # Renames carry no ts of their own in every payload; the new name tells them apart.
        f"channel:{fact.what.value}:{fact.at}:{_short_hash(fact.value)}",
        details={fact.what.value: fact.value} | ({REPLACED_NOTE: True} if fact.replaced else {}),
    )


def klaxons_own(fact: ChannelFact, klaxon: KlaxonIdentity) -> bool:
    """Whether ``fact`` is Klaxon's own doing, which the timeline already holds.

    Klaxon's actions (its card, notices, topic, pins, the responders it invites) are system
    entries written by the service that acted, so recording them here would count them twice.
    """
    if isinstance(fact, MessageSeen):
        return klaxon.caused(fact.message.origin)
    if isinstance(fact, MessageDeleted):
        return fact.previous is not None and klaxon.caused(fact.previous.origin)
    if isinstance(fact, ReactionChanged):
        return klaxon.is_user(fact.user) or klaxon.is_user(fact.item_user)
    if isinstance(fact, PinChanged):
        return klaxon.is_user(fact.user)
    if isinstance(fact, MembershipChanged):
        return klaxon.is_user(fact.user) or klaxon.is_user(fact.inviter)
    return klaxon.is_user(fact.by)


def writes_for(fact: ChannelFact, klaxon: KlaxonIdentity) -> Writes | None:
    """The writes ``fact`` calls for; None when it is Klaxon's own doing."""
    if klaxons_own(fact, klaxon):
        return None
    if isinstance(fact, MessageSeen | MessageDeleted | ReactionChanged):
        return Writes(message=message_state(fact))
    if isinstance(fact, PinChanged):
        on_klaxons_message = fact.item is not None and klaxon.caused(fact.item.origin)
        # A responder pinning Klaxon's own message is worth a line, but Klaxon's messages
        # have no entry of their own to mark as key.
        return Writes(
            message=None if on_klaxons_message else message_state(fact),
            entry=_pin_entry(fact),
        )
    if isinstance(fact, MembershipChanged):
        return Writes(entry=_member_entry(fact))
    return Writes(entry=_channel_entry(fact))
