"""Action items: the follow-ups an incident leaves behind, and how ``/incident action`` reads.

``/incident action Add an alert on cert expiry <@U123|sam> due 2026-12-01``: the text, then
optionally an owner (a Slack mention) and a due date, in either order, at the end.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime

from bot.errors import InvalidInput

MAX_TEXT = 1000
_MENTION = re.compile(r"^<@([UW][A-Z0-9]{2,})(?:\|[^>]*)?>$")
_DUE = re.compile(r"^due$", re.IGNORECASE)
USAGE = "`/incident action <what to do> [@owner] [due YYYY-MM-DD]`"


class ActionItemState(enum.StrEnum):
    OPEN = "open"
    DONE = "done"


@dataclass(frozen=True, slots=True)
class ActionItemDraft:
    text: str
    owner: str | None = None
    due: date | None = None


@dataclass(frozen=True, slots=True)
class ActionItem:
    id: int
    incident_id: int
    text: str
    owner: str | None
    due: date | None
    state: ActionItemState
    created_by: str
    created_at: datetime
    done_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.state is ActionItemState.OPEN


def parse_due(word: str) -> date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", word):
        raise InvalidInput(f"{word!r} is not a date: write the due date as YYYY-MM-DD.")
    try:
        return date.fromisoformat(word)
    except ValueError:
        raise InvalidInput(f"{word} is not a real date: check the month and the day.") from None


def parse_action(arguments: str) -> ActionItemDraft:
    """Split ``arguments`` into text, owner and due date; refuse anything ambiguous."""
    words = arguments.split()
    owner: str | None = None
    due: date | None = None
    # Peel the optional parts off the end, in either order.
    while words:
        last = words[-1]
        if len(words) >= 2 and _DUE.match(words[-2]) and due is None:
            due = parse_due(last)
            del words[-2:]
        elif last.startswith("<@") and owner is None:
            match = _MENTION.match(last)
            if match is None:
                raise InvalidInput(
                    f"{last!r} is not a Slack user: type @ and pick the owner from the list."
                )
            owner = match.group(1)
            words.pop()
        elif last.startswith("@") and owner is None:
            raise InvalidInput(
                f"{last!r} is not a Slack user Klaxon can see: type @ and pick the owner from "
                "the list so that Slack turns it into a mention."
            )
        elif _DUE.match(last) and due is None:
            raise InvalidInput(f"A due date follows `due`, as YYYY-MM-DD. Usage: {USAGE}")
        else:
            break
    text = " ".join(words).strip()
    if not text:
        raise InvalidInput(f"What needs doing? Usage: {USAGE}")
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            f"The action item is {len(text):,} characters; keep it under {MAX_TEXT:,}."
        )
    return ActionItemDraft(text=text, owner=owner, due=due)


# -- changing an item: ``/incident action done 2``, ``reopen 2``, ``owner 2 @sam``, ``due 2 …``


class ItemVerb(enum.StrEnum):
    DONE = "done"
    REOPEN = "reopen"
    OWNER = "owner"
    DUE = "due"


CHANGE_USAGE = (
    "`/incident action done 2`, `reopen 2`, `owner 2 @person` (or `none`), "
    "`due 2 YYYY-MM-DD` (or `none`)"
)
_NUMBER = re.compile(r"^#?(\d{1,6})$")
_NOBODY = frozenset({"none", "nobody", "-"})


@dataclass(frozen=True, slots=True)
class ItemChange:
    verb: ItemVerb
    number: int
    # For OWNER and DUE: the new value; None clears it.
    owner: str | None = None
    due: date | None = None


def parse_item_change(arguments: str) -> ItemChange | None:
    """An item change, or None when ``arguments`` is a new item's text ("Due diligence …")."""
    words = arguments.split()
    if not words:
        return None
    try:
        verb = ItemVerb(words[0].lower())
    except ValueError:
        return None
    number = _NUMBER.match(words[1]) if len(words) >= 2 else None
    if number is None:
        if len(words) == 1:
            raise InvalidInput(f"Which action item? Usage: {CHANGE_USAGE}.")
        return None
    item = int(number.group(1))
    rest = words[2:]
    if verb in (ItemVerb.DONE, ItemVerb.REOPEN):
        if rest:
            raise InvalidInput(f"`{verb.value} {item}` takes nothing more. Usage: {CHANGE_USAGE}.")
        return ItemChange(verb, item)
    if len(rest) != 1:
        what = "@person" if verb is ItemVerb.OWNER else "YYYY-MM-DD"
        raise InvalidInput(f"Usage: `/incident action {verb.value} {item} {what}` (or `none`).")
    value = rest[0]
    if value.lower() in _NOBODY:
        return ItemChange(verb, item)
    if verb is ItemVerb.DUE:
        return ItemChange(verb, item, due=parse_due(value))
    match = _MENTION.match(value)
    if match is None:
        raise InvalidInput(
            f"{value!r} is not a Slack user: type @ and pick the owner from the list."
        )
    return ItemChange(verb, item, owner=match.group(1))
