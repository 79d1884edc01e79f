"""The runbook's post-incident checklist, posted in the war room when an incident closes.

Each item is a button that ticks it; who ticked it and when is stored (one row per item, so
a double click or two people at once tick it once) and written to the timeline. What Klaxon
can know it ticks itself: a post-mortem scheduled, action items created, and the status page
resolved, when the incident's public incident is resolved (at close, or when a person posts
the public resolution later) or when nothing was ever published, so nothing needs resolving.
With ``[status_page] enabled = false`` Klaxon cannot know the page, so people tick it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from bot.clock import utcnow
from bot.domain.incident import Incident, IncidentStatus, TimelineKind
from bot.errors import InvalidInput, SlackUnavailable
from bot.incidents import posting
from bot.services import Services
from message_templates.checklist import CHECKLIST, checklist_message
from message_templates.formatting import mention
from message_templates.message import Message

logger = logging.getLogger(__name__)

# The checklist message carries this metadata, so a tick that comes after it was posted (the
# public resolution) finds it in the war room and redraws it in place.
CHECKLIST_EVENT = "klaxon_checklist"
# Slack's clock and ours may differ a little; the checklist is looked for from this long
# before the close.
_CLOCK_SLACK = timedelta(minutes=5)
_UNPUBLISHED = "never published, so nothing to resolve"


async def _tick(
    services: Services,
    incident: Incident,
    item: str,
    by: str | None,
    now: datetime,
    why: str | None = None,
) -> bool:
    async with services.unit_of_work() as work:
        new = await work.reports.tick(incident.id, item, by, now)
        if new:
            who = mention(by) if by else "Klaxon"
            because = f" ({why})" if why else ""
            await work.timeline.append(
                incident.id,
                TimelineKind.CHECKLIST,
                occurred_at=now,
                actor=by,
                text=f"{who} ticked “{CHECKLIST[item]}” on the post-incident checklist{because}",
                details={"item": item, **({"why": why} if why else {})},
                dedup_key=f"checklist:{item}",
            )
        await work.commit()
    return new


async def _status_page(services: Services, incident: Incident) -> tuple[bool, bool] | None:
    """``(published, resolved)`` of the incident's public incident; None when the page is
    off, so what the public was told is out of Klaxon's sight."""
    if services.status_page is None:
        return None
    public = await services.status_page.published(incident.id)
    if public is None:
        return False, False
    return True, public.is_resolved


async def _redrawn(services: Services, incident: Incident) -> Message:
    async with services.unit_of_work(write=False) as work:
        ticks = await work.reports.ticks(incident.id)
    notes: dict[str, str] = {}
    page = await _status_page(services, incident)
    by_klaxon = "status_page" in ticks and ticks["status_page"][0] is None
    if by_klaxon and page is not None and not page[0]:
        notes["status_page"] = _UNPUBLISHED
    return checklist_message(incident, ticks, notes)


async def post_checklist(services: Services, incident: Incident, now: datetime) -> None:
    """Tick what Klaxon knows, then post the checklist with a button per open item."""
    async with services.unit_of_work(write=False) as work:
        items = await work.reports.action_items(incident.id)
    if incident.postmortem_due_at is not None or incident.postmortem_held_at is not None:
        await _tick(services, incident, "postmortem", None, now)
    if items:
        await _tick(services, incident, "action_items", None, now)
    page = await _status_page(services, incident)
    if page == (True, True):
        await _tick(services, incident, "status_page", None, now)
    elif page == (False, False):
        await _tick(services, incident, "status_page", None, now, why=_UNPUBLISHED)
    await posting.post(
        services,
        incident.channel_id,
        await _redrawn(services, incident),
        "checklist",
        metadata={"event_type": CHECKLIST_EVENT, "event_payload": {"incident": incident.public_id}},
    )


async def public_resolution_posted(services: Services, incident_id: int) -> None:
    """A person posted the public resolution: a closed incident's checklist gets the status
    page ticked, its message redrawn in place. Read after the post was stored, as the close
    reads the page after the close was stored, so one of the two sees the other."""
    async with services.unit_of_work(write=False) as work:
        incident = await work.incidents.get(incident_id)
    if incident is None or incident.status is not IncidentStatus.CLOSED:
        return  # not closed yet: the close ticks it
    if not await _tick(services, incident, "status_page", None, utcnow()):
        return
    if incident.channel_id is None or incident.closed_at is None:
        return
    try:
        ts = await services.slack.find_marked(
            incident.channel_id,
            CHECKLIST_EVENT,
            {"incident": incident.public_id},
            oldest=(incident.closed_at - _CLOCK_SLACK).timestamp(),
        )
        if ts is None:
            logger.warning("%s: no checklist to redraw in the war room", incident.public_id)
            return
        redrawn = await _redrawn(services, incident)
        await services.slack.update_message(incident.channel_id, ts, redrawn.text, redrawn.blocks)
    except SlackUnavailable as exc:
        logger.warning("%s: could not redraw the checklist: %s", incident.public_id, exc)


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
        redrawn = await _redrawn(services, incident)
        try:
            await services.slack.update_message(
                message[0], message[1], redrawn.text, redrawn.blocks
            )
        except SlackUnavailable as exc:
            logger.warning("%s: could not redraw the checklist: %s", incident.public_id, exc)
    if not new:
        return f"“{CHECKLIST[item]}” was ticked already."
    return f"Ticked “{CHECKLIST[item]}”."
