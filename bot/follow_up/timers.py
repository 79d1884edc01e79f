"""Firing the timers that run after the all-clear, in ``bot.incidents.timers``' batches.

- ``postmortem_reminder``: a DM to the post-mortem's owner, then moved to the next reminder;
  marking the post-mortem held clears it in the same transaction, so none follows.
- ``action_item_reminders``: one per incident, due at the earliest reminder of its open,
  owned, dated items; each owner due a reminder then gets one DM listing their items.
- ``stability_check``: the end of a stability period. The commander is asked in the war room
  to close the incident (or it is closed, with ``auto_close``); any change to the incident's
  status or severity moved or cleared the timer before it could fire.

Like escalation DMs, reminders go out at least once: a process that dies after sending and
before completing leaves them to be sent again by whoever takes the timer over. The war-room
question carries the firing's key, so a takeover finds it and does not ask twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.action_items import ActionItem
from bot.domain.follow_up import item_reminders_plan, items_to_remind, postmortem_plan, today
from bot.domain.incident import Incident, IncidentStatus
from bot.domain.schedule import TimerKind, TimerPlan, clear
from bot.follow_up import closing
from bot.incidents import posting
from bot.services import Services
from message_templates import follow_up as text
from storage.repositories import ClaimedTimer

logger = logging.getLogger(__name__)

KINDS = frozenset({TimerKind.POSTMORTEM, TimerKind.ACTION_ITEMS, TimerKind.STABILITY})

Show = Callable[[frozenset[str]], Coroutine[Any, Any, None]]


@dataclass(frozen=True, slots=True)
class FollowUpFiring:
    plan: TimerPlan
    show: Show | None = None
    # The war-room channel whose history tells whether this firing was posted already.
    posts_to: tuple[str, ...] = ()


def firing(
    services: Services,
    timer: ClaimedTimer,
    incident: Incident | None,
    items: Mapping[int, Sequence[ActionItem]],
    now: datetime,
    marker: Mapping[str, Any],
) -> FollowUpFiring:
    if incident is None:
        return FollowUpFiring(clear(timer.kind))
    if timer.kind is TimerKind.POSTMORTEM:
        return _postmortem(services, timer, incident, now)
    if timer.kind is TimerKind.ACTION_ITEMS:
        return _action_items(services, timer, incident, items.get(incident.id, ()), now)
    return _stability(services, timer, incident, marker)


def _postmortem(
    services: Services, timer: ClaimedTimer, incident: Incident, now: datetime
) -> FollowUpFiring:
    owner = incident.postmortem_owner_or_commander
    if not incident.postmortem_pending or owner is None:
        return FollowUpFiring(clear(TimerKind.POSTMORTEM))
    # The next reminder after this one, and after now: a late firing is one catch-up.
    after = max(timer.due_at, now)
    plan = postmortem_plan(incident.postmortem_due_at, False, after, services.config)

    async def show(found: frozenset[str]) -> None:
        message = text.postmortem_reminder_dm(incident, now)
        await posting.post(services, owner, message, "post-mortem reminder")

    return FollowUpFiring(plan, show)


def _action_items(
    services: Services,
    timer: ClaimedTimer,
    incident: Incident,
    items: Sequence[ActionItem],
    now: datetime,
) -> FollowUpFiring:
    config = services.config
    plan = item_reminders_plan(items, max(timer.due_at, now), config)
    numbered = {item.id: number for number, item in enumerate(items, start=1)}
    by_owner: dict[str, list[tuple[int, ActionItem]]] = {}
    for item in items_to_remind(items, timer.due_at, config):
        assert item.owner is not None
        by_owner.setdefault(item.owner, []).append((numbered[item.id], item))
    if not by_owner:
        return FollowUpFiring(plan)
    day = today(now, config.business_hours)

    async def show(found: frozenset[str]) -> None:
        await asyncio.gather(
            *(
                posting.post(
                    services,
                    owner,
                    text.item_reminder_dm(incident, owned, day),
                    "action item reminder",
                )
                for owner, owned in by_owner.items()
            )
        )

    return FollowUpFiring(plan, show)


def _stability(
    services: Services, timer: ClaimedTimer, incident: Incident, marker: Mapping[str, Any]
) -> FollowUpFiring:
    if incident.status not in (IncidentStatus.MONITORING, IncidentStatus.RESOLVED):
        return FollowUpFiring(clear(TimerKind.STABILITY))
    channel = incident.channel_id

    async def show(found: frozenset[str]) -> None:
        if channel in found:
            return
        if services.config.stability.auto_close:
            await closing.close_when_stable(services, incident)
            return
        await closing.ask_to_close(services, incident, marker)

    posts_to = (channel,) if channel and not services.config.stability.auto_close else ()
    return FollowUpFiring(clear(TimerKind.STABILITY), show, posts_to)
