"""The runbook's post-incident checklist, posted in the war room when an incident closes.

Each item is a button that ticks it; who ticked it and when is stored (one row per item, so
a double click or two people at once tick it once) and written to the timeline. What Klaxon
can know it ticks itself: a post-mortem scheduled, action items created.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain.incident import Incident, TimelineKind
from bot.errors import InvalidInput, SlackUnavailable
from bot.incidents import posting
from bot.services import Services
from message_templates.checklist import CHECKLIST, checklist_message
from message_templates.formatting import mention

logger = logging.getLogger(__name__)


async def _tick(
    services: Services, incident: Incident, item: str, by: str | None, now: datetime
) -> bool:
    async with services.unit_of_work() as work:
        new = await work.reports.tick(incident.id, item, by, now)
        if new:
            who = mention(by) if by else "Klaxon"
            await work.timeline.append(
                incident.id,
                TimelineKind.CHECKLIST,
                occurred_at=now,
                actor=by,
                text=f"{who} ticked “{CHECKLIST[item]}” on the post-incident checklist",
                details={"item": item},
                dedup_key=f"checklist:{item}",
            )
        await work.commit()
    return new


async def post_checklist(services: Services, incident: Incident, now: datetime) -> None:
    """Tick what Klaxon knows, then post the checklist with a button per open item."""
    async with services.unit_of_work(write=False) as work:
        items = await work.reports.action_items(incident.id)
    if incident.postmortem_due_at is not None or incident.postmortem_held_at is not None:
        await _tick(services, incident, "postmortem", None, now)
    if items:
        await _tick(services, incident, "action_items", None, now)
    async with services.unit_of_work(write=False) as work:
        ticks = await work.reports.ticks(incident.id)
    await posting.post(
        services, incident.channel_id, checklist_message(incident, ticks), "checklist"
    )


async def tick(
    services: Services,
    incident: Incident,
    item: str,
    user: str,
    now: datetime,
    message: tuple[str, str] | None,
) -> str:
    """A press on an item: tick it and redraw the checklist message in place."""
    if item not in CHECKLIST:
        raise InvalidInput("This checklist item is not one Klaxon knows.")
    new = await _tick(services, incident, item, user, now)
    if message is not None:
        async with services.unit_of_work(write=False) as work:
            ticks = await work.reports.ticks(incident.id)
        redrawn = checklist_message(incident, ticks)
        try:
            await services.slack.update_message(
                message[0], message[1], redrawn.text, redrawn.blocks
            )
        except SlackUnavailable as exc:
            logger.warning("%s: could not redraw the checklist: %s", incident.public_id, exc)
    if not new:
        return f"“{CHECKLIST[item]}” was ticked already."
    return f"Ticked “{CHECKLIST[item]}”."
