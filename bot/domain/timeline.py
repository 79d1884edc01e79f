"""The war room's record: facts seen in the channel, and how they merge into timeline entries.

Slack delivers events at least once and in no guaranteed order: an edit can arrive before the
message it edits, a deletion before both, a reaction before its message. So a message's entry
is never simply overwritten by whatever arrived last. It is the merge of every fact seen about
that message, and :func:`merge` is commutative, associative and idempotent (a state-based
CRDT): any order and any number of deliveries of the same facts give the same entry.

- Text: every version is kept, keyed by the Slack ts it was written at (the message's own ts,
  or the edit's); the newest is the text, the others are the edit history.
- Deletion wins: once deleted, text, history and files are gone for good, and a late original
  or edit cannot bring them back. The tombstone says when, and who when Slack says so.
- Reactions and pins are last-writer-wins registers keyed by the event's ts, so "added" and
  "removed" delivered in the wrong order still end in the right state.
- An entry is key while a ``:pushpin:`` reaction or a pin remains on it.

Nothing here knows about Slack's payloads or about storage; ``ts`` strings are just the
microsecond timestamps Slack names messages and events by.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

KEY_REACTION = "pushpin"
_TS = re.compile(r"^(\d{1,12})(?:\.(\d{1,6}))?$")


def is_ts(text: str) -> bool:
    return _TS.match(text) is not None


def ts_order(ts: str) -> tuple[int, int]:
    """Slack ts strings compare as numbers, not as text (``"9.5" < "10.0"``)."""
    match = _TS.match(ts)
    if match is None:
        raise ValueError(f"not a Slack ts: {ts!r}")
    return int(match.group(1)), int((match.group(2) or "").ljust(6, "0"))


def ts_to_datetime(ts: str) -> datetime:
    """The moment a Slack ts names, in UTC, to the microsecond."""
    seconds, micros = ts_order(ts)
    return datetime.fromtimestamp(seconds, UTC).replace(microsecond=micros)


def _latest(first: str, second: str) -> str:
    return first if ts_order(first) >= ts_order(second) else second


@dataclass(frozen=True, slots=True, order=True)
class FileRef:
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class Origin:
    """Who caused a fact: a user, or an app's bot (``bot_id``/``app_id``), or both."""

    user: str | None = None
    bot_id: str | None = None
    app_id: str | None = None


@dataclass(frozen=True, slots=True)
class KlaxonIdentity:
    """Klaxon itself, so that its own messages and actions are not recorded twice: its
    actions are already system entries written by the services that performed them."""

    user_id: str | None
    bot_id: str | None
    app_id: str | None

    def caused(self, origin: Origin) -> bool:
        return any(
            mine is not None and mine == theirs
            for mine, theirs in (
                (self.user_id, origin.user),
                (self.bot_id, origin.bot_id),
                (self.app_id, origin.app_id),
            )
        )

    def is_user(self, user: str | None) -> bool:
        return user is not None and user == self.user_id


# -- facts: what Slack told us happened in a channel ------------------------------------------


@dataclass(frozen=True, slots=True)
class SeenMessage:
    """A message as one event showed it; ``edited_at`` is set when this is an edited version."""

    ts: str
    origin: Origin
    text: str = ""
    thread_ts: str | None = None
    files: tuple[FileRef, ...] = ()
    bot_name: str | None = None
    edited_at: str | None = None
    edited_by: str | None = None
    # Characters that could not be stored were replaced (bot.domain.text).
    replaced: bool = False

    @property
    def is_bot(self) -> bool:
        return self.origin.bot_id is not None or self.bot_name is not None

    @property
    def version_at(self) -> str:
        return self.edited_at or self.ts


@dataclass(frozen=True, slots=True)
class MessageSeen:
    """A message posted, or edited (then ``previous`` is the version before the edit)."""

    channel_id: str
    message: SeenMessage
    previous: SeenMessage | None = None


@dataclass(frozen=True, slots=True)
class MessageDeleted:
    channel_id: str
    ts: str
    at: str
    by: str | None = None
    previous: SeenMessage | None = None


@dataclass(frozen=True, slots=True)
class ReactionChanged:
    channel_id: str
    ts: str
    user: str
    name: str
    added: bool
    at: str
    item_user: str | None = None


@dataclass(frozen=True, slots=True)
class PinChanged:
    channel_id: str
    ts: str
    user: str
    added: bool
    at: str
    item: SeenMessage | None = None


@dataclass(frozen=True, slots=True)
class MembershipChanged:
    channel_id: str
    user: str
    joined: bool
    at: str
    inviter: str | None = None


class ChannelChange(enum.StrEnum):
    TOPIC = "topic"
    PURPOSE = "purpose"
    NAME = "name"


@dataclass(frozen=True, slots=True)
class ChannelChanged:
    channel_id: str
    what: ChannelChange
    value: str
    at: str
    by: str | None = None
    replaced: bool = False


ChannelFact = (
    MessageSeen | MessageDeleted | ReactionChanged | PinChanged | MembershipChanged | ChannelChanged
)


# -- a message's entry: the merge of every fact about it ---------------------------------------


@dataclass(frozen=True, slots=True)
class Version:
    at: str
    text: str
    by: str | None = None


@dataclass(frozen=True, slots=True)
class Mark:
    """A last-writer-wins flag: the newest event (by ts) decides; on a tie, "on" wins."""

    on: bool
    at: str
    by: str | None = None

    def order(self) -> tuple[tuple[int, int], bool, str]:
        return ts_order(self.at), self.on, self.by or ""


@dataclass(frozen=True, slots=True)
class Deletion:
    at: str
    by: str | None = None


@dataclass(frozen=True, slots=True)
class MessageState:
    ts: str
    author: str | None = None
    thread_ts: str | None = None
    is_bot: bool = False
    bot_name: str | None = None
    files: tuple[FileRef, ...] = ()
    # Sorted by ``at``; the last is the current text.
    versions: tuple[Version, ...] = ()
    # (reaction name, user) -> the latest add or remove.
    reactions: Mapping[tuple[str, str], Mark] = field(default_factory=dict)
    pin: Mark | None = None
    deleted: Deletion | None = None
    # Some of its text could not be stored as sent and was replaced (bot.domain.text).
    replaced: bool = False

    @property
    def text(self) -> str:
        return self.versions[-1].text if self.versions else ""

    @property
    def edits(self) -> tuple[Version, ...]:
        """Earlier texts, oldest first."""
        return self.versions[:-1]

    @property
    def edited_at(self) -> str | None:
        if not self.versions or self.versions[-1].at == self.ts:
            return None
        return self.versions[-1].at

    @property
    def is_placeholder(self) -> bool:
        """Known only from a reaction or pin: the message itself has not arrived (yet)."""
        return not self.versions and self.deleted is None

    @property
    def pinned(self) -> bool:
        return self.pin is not None and self.pin.on

    @property
    def current_reactions(self) -> dict[str, list[str]]:
        current: dict[str, list[str]] = {}
        for (name, user), mark in sorted(self.reactions.items()):
            if mark.on:
                current.setdefault(name, []).append(user)
        return current

    @property
    def is_key(self) -> bool:
        return self.pinned or any(
            mark.on for (name, _), mark in self.reactions.items() if name == KEY_REACTION
        )


def _merge_versions(first: Iterable[Version], second: Iterable[Version]) -> tuple[Version, ...]:
    by_at: dict[str, Version] = {}
    for version in (*first, *second):
        known = by_at.get(version.at)
        # The same version seen twice is the same text; max() keeps a tie deterministic.
        if known is None or (version.text, version.by or "") > (known.text, known.by or ""):
            by_at[version.at] = version
    return tuple(sorted(by_at.values(), key=lambda version: ts_order(version.at)))


def _merge_marks(first: Mark | None, second: Mark | None) -> Mark | None:
    if first is None or second is None:
        return first or second
    return max(first, second, key=Mark.order)


def merge(first: MessageState, second: MessageState) -> MessageState:
    """Everything both states know about one message; order of arguments does not matter."""
    if first.ts != second.ts:
        raise ValueError(f"cannot merge message {first.ts} with message {second.ts}")
    reactions = dict(first.reactions)
    for key, mark in second.reactions.items():
        merged_mark = _merge_marks(reactions.get(key), mark)
        assert merged_mark is not None
        reactions[key] = merged_mark
    deleted: Deletion | None = None
    if first.deleted and second.deleted:
        deleted = min(first.deleted, second.deleted, key=lambda d: (ts_order(d.at), d.by or ""))
    else:
        deleted = first.deleted or second.deleted
    versions = _merge_versions(first.versions, second.versions)
    # Files belong to the newest version; the state that has it knows them.
    newest_first = max(
        (first, second),
        key=lambda state: (
            ts_order(state.versions[-1].at) if state.versions else (-1, -1),
            state.files,
        ),
    )
    return MessageState(
        ts=first.ts,
        author=first.author or second.author,
        thread_ts=first.thread_ts or second.thread_ts,
        is_bot=first.is_bot or second.is_bot,
        bot_name=first.bot_name or second.bot_name,
        files=() if deleted else newest_first.files,
        versions=() if deleted else versions,
        reactions=reactions,
        pin=_merge_marks(first.pin, second.pin),
        deleted=deleted,
        # An "or" keeps the merge commutative and idempotent; a deletion drops the text the
        # note was about.
        replaced=(first.replaced or second.replaced) and deleted is None,
    )


def _from_seen(seen: SeenMessage) -> MessageState:
    return MessageState(
        ts=seen.ts,
        author=seen.origin.user,
        thread_ts=seen.thread_ts if seen.thread_ts != seen.ts else None,
        is_bot=seen.is_bot,
        bot_name=seen.bot_name,
        files=seen.files,
        versions=(Version(seen.version_at, seen.text, seen.edited_by or seen.origin.user),),
        replaced=seen.replaced,
    )


def message_state(fact: ChannelFact) -> MessageState | None:
    """What ``fact`` says about the message it concerns, if it concerns one."""
    if isinstance(fact, MessageSeen):
        state = _from_seen(fact.message)
        if fact.previous is not None and fact.previous.ts == fact.message.ts:
            state = merge(state, _from_seen(fact.previous))
        return state
    if isinstance(fact, MessageDeleted):
        state = MessageState(ts=fact.ts, deleted=Deletion(fact.at, fact.by))
        if fact.previous is not None and fact.previous.ts == fact.ts:
            # Who wrote it and where it sat stay known; merge() drops the text.
            state = merge(state, _from_seen(fact.previous))
        return state
    if isinstance(fact, ReactionChanged):
        mark = Mark(fact.added, fact.at, fact.user)
        return MessageState(
            ts=fact.ts, author=fact.item_user, reactions={(fact.name, fact.user): mark}
        )
    if isinstance(fact, PinChanged):
        author = fact.item.origin.user if fact.item else None
        return MessageState(ts=fact.ts, author=author, pin=Mark(fact.added, fact.at, fact.user))
    return None


def fold(states: Iterable[MessageState]) -> MessageState:
    iterator = iter(states)
    total = next(iterator)
    for state in iterator:
        total = merge(total, state)
    return total
