"""Changing action items: done, reopen, owner, due; and each owner's open items.

An item is addressed by its number within its incident (#1, #2 …: the order it was added in,
which never changes because items are never deleted). Each change is one transaction with its
timeline entry and the incident's reminder timer, so a reminder never fires for an item that
was marked done, and bad input (an unknown number, a past date, someone who is not in the
workspace) is refused before anything is written.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from bot.config import KlaxonConfig
from bot.domain.action_items import ActionItem, ActionItemState, ItemChange, ItemVerb
from bot.domain.follow_up import item_reminders_plan, today
from bot.domain.incident import Incident, IncidentStatus, TimelineKind
from bot.errors import InvalidInput
from bot.incidents import posting
from bot.reports import home
from bot.services import Services
from message_templates import follow_up as text
from message_templates.formatting import mention
from storage.unit_of_work import UnitOfWork

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ItemOutcome:
    item: ActionItem
    number: int
    changed: bool
    note: str


def check_due(due: date | None, now: datetime, config: KlaxonConfig) -> None:
    """A due date must not be in the past (in the business time zone, how people read it)."""
    if due is not None and due < today(now, config.business_hours):
        raise InvalidInput(
            f"{due.isoformat()} is in the past: pick today or a later date (YYYY-MM-DD)."
        )


async def check_member(services: Services, user_id: str | None) -> None:
    if user_id is not None and not await services.slack.is_member(user_id):
        why = "is not a member of this workspace: pick someone from the list."
        raise InvalidInput(f"{user_id} {why}", mrkdwn=f"{mention(user_id)} {why}")


async def apply_reminders(
    work: UnitOfWork, incident_id: int, now: datetime, config: KlaxonConfig
) -> None:
    """Move the incident's reminder timer to what its items now need (or clear it)."""
    items = await work.reports.action_items(incident_id)
    await work.timers.apply(incident_id, item_reminders_plan(items, now, config))


def _decide(
    item: ActionItem, change: ItemChange, user: str, now: datetime
) -> tuple[dict[str, Any], str] | str:
    """The column values and timeline text of a change, or a note when nothing changes."""
    number = change.number
    if change.verb is ItemVerb.DONE:
        if not item.is_open:
            return f"Action item #{number} is already done."
        values = {"state": ActionItemState.DONE.value, "done_at": now}
        return values, text.item_done_entry(user, number, item)
    if change.verb is ItemVerb.REOPEN:
        if item.is_open:
            return f"Action item #{number} is open already."
        return {"state": ActionItemState.OPEN.value, "done_at": None}, text.item_reopened_entry(
            user, number, item
        )
    if change.verb is ItemVerb.OWNER:
        if item.owner == change.owner:
            return f"Action item #{number} is already {text.owned_by(change.owner)}."
        return {"owner": change.owner}, text.item_owner_entry(user, number, item, change.owner)
    if item.due == change.due:
        return f"Action item #{number} is already {text.due_phrase(change.due)}."
    return {"due": change.due}, text.item_due_entry(user, number, item, change.due)


async def change_item(
    services: Services, incident: Incident, user: str, change: ItemChange, now: datetime
) -> ItemOutcome:
    config = services.config
    if incident.status is IncidentStatus.CLOSED and change.verb is not ItemVerb.DONE:
        # Closing freezes the list, but work goes on: items may still be marked done.
        raise InvalidInput(f"{incident.public_id} is closed; its action items can only be done.")
    if change.verb is ItemVerb.DUE:
        check_due(change.due, now, config)
    if change.verb is ItemVerb.OWNER:
        await check_member(services, change.owner)
    async with services.unit_of_work() as work:
        items = await work.reports.action_items(incident.id)
        if not 1 <= change.number <= len(items):
            raise InvalidInput(text.no_such_item(incident, change.number, len(items)))
        item = items[change.number - 1]
        decided = _decide(item, change, user, now)
        if isinstance(decided, str):
            return ItemOutcome(item, change.number, changed=False, note=decided)
        values, entry = decided
        await work.reports.change_action_item(item.id, **values)
        await work.timeline.append(
            incident.id,
            TimelineKind.ACTION_ITEM,
            occurred_at=now,
            actor=user,
            text=entry,
            details={"action_item": item.id, "change": change.verb.value, "number": change.number},
        )
        await apply_reminders(work, incident.id, now, config)
        changed = (await work.reports.action_items(incident.id))[change.number - 1]
        await work.commit()
    if change.verb is ItemVerb.OWNER and changed.owner and changed.owner != user:
        notify_owner(services, incident, change.number, changed, user)
    home.incidents_changed(services)
    return ItemOutcome(changed, change.number, True, text.item_changed(incident, change, changed))


def notify_owner(
    services: Services, incident: Incident, number: int, item: ActionItem, by: str
) -> None:
    """A DM to a new owner, in the background."""
    assert item.owner is not None
    message = text.new_owner_dm(incident, number, item, by)
    services.tasks.spawn(
        posting.post(services, item.owner, message, "action item owner DM"),
        name=f"action item owner {incident.public_id}",
    )


async def my_items(services: Services, user: str) -> Sequence[tuple[Incident, int, ActionItem]]:
    async with services.unit_of_work(write=False) as work:
        return await work.reports.open_items_owned_by(user)
