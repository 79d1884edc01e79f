"""The post-mortem after an incident resolves: due by severity, an owner, held with a link.

The due time is set by the resolve itself (``bot.incidents.lifecycle``), in the same
transaction as its reminder timer. Naming an owner and marking it held are changes of their
own here; marking it held clears the reminder timer in the same transaction, so no reminder
can follow.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.domain.incident import Incident, TimelineKind
from bot.domain.schedule import TimerKind, clear
from bot.errors import InvalidInput, NotFound, SlackUnavailable
from bot.follow_up.action_items import check_member
from bot.incidents import posting
from bot.services import Services
from message_templates.formatting import mention
from message_templates.message import Message
from message_templates.mrkdwn import escape

logger = logging.getLogger(__name__)

MAX_LINK = 2000


def check_link(link: str) -> str:
    link = link.strip().strip("<>").split("|", 1)[0]
    if not link.startswith(("https://", "http://")) or any(c in link for c in " \n<>|"):
        raise InvalidInput(
            f"{link!r} is not a link: paste the post-mortem document's address, starting "
            "with https://."
        )
    if len(link) > MAX_LINK:
        raise InvalidInput(f"The link is {len(link):,} characters; keep it under {MAX_LINK:,}.")
    return link


async def _fresh(services: Services, incident_id: int) -> Incident:
    async with services.unit_of_work(write=False) as work:
        incident = await work.incidents.get(incident_id)
    if incident is None:
        raise NotFound("Klaxon has no record of this incident any more.")
    return incident


async def set_owner(
    services: Services, incident: Incident, user: str, owner: str, now: datetime
) -> str:
    await check_member(services, owner)
    if incident.postmortem_owner == owner:
        return f"{mention(owner)} already owns the post-mortem of *{incident.public_id}*."
    async with services.unit_of_work() as work:
        await work.reports.set_postmortem(incident.id, postmortem_owner=owner)
        await work.timeline.append(
            incident.id,
            TimelineKind.POSTMORTEM,
            occurred_at=now,
            actor=user,
            text=f"{mention(user)} made {mention(owner)} the post-mortem owner",
            details={"owner": owner},
        )
        await work.commit()
    after = await _fresh(services, incident.id)
    services.projections.refresh(incident.id)
    if owner != user:
        due = ""
        if after.postmortem_due_at is not None:
            due = f", due {after.postmortem_due_at.strftime('%Y-%m-%d %H:%M UTC')}"
        dm = Message(
            text=f"{mention(user)} made you the owner of the post-mortem of "
            f"*{incident.public_id}* ({escape(incident.title)}){due}.",
            blocks=(),
        )
        services.tasks.spawn(
            posting.post(services, owner, dm, "post-mortem owner DM"), name="post-mortem owner DM"
        )
    return f"{mention(owner)} now owns the post-mortem of *{incident.public_id}*."


async def mark_held(
    services: Services, incident: Incident, user: str, link: str, now: datetime
) -> str:
    link = check_link(link)
    if incident.status.is_open:
        raise InvalidInput(
            f"{incident.public_id} is {incident.status.value}: resolve it before its post-mortem."
        )
    async with services.unit_of_work() as work:
        current = await work.incidents.get(incident.id)
        if current is None:
            raise NotFound("Klaxon has no record of this incident any more.")
        if current.postmortem_held_at is not None:
            return f"The post-mortem of *{incident.public_id}* is recorded as held already."
        await work.reports.set_postmortem(
            incident.id, postmortem_held_at=now, postmortem_held_by=user, postmortem_link=link
        )
        await work.timers.apply(incident.id, clear(TimerKind.POSTMORTEM))
        late = current.postmortem_due_at is not None and now > current.postmortem_due_at
        await work.timeline.append(
            incident.id,
            TimelineKind.POSTMORTEM,
            occurred_at=now,
            actor=user,
            text=f"{mention(user)} recorded the post-mortem as held"
            + (" (late)" if late else "")
            + f": {escape(link)}",
            is_key=True,
            details={"link": link, "late": late},
        )
        await work.commit()
    services.projections.refresh(incident.id)
    services.tasks.spawn(_bookmark(services, incident, link), name="post-mortem bookmark")
    return f"Recorded the post-mortem of *{incident.public_id}* as held. :white_check_mark:"


async def _bookmark(services: Services, incident: Incident, link: str) -> None:
    if not incident.channel_id:
        return
    try:
        await services.slack.add_bookmark(incident.channel_id, "Post-mortem", link)
    except SlackUnavailable as exc:
        logger.warning("%s: could not bookmark the post-mortem: %s", incident.public_id, exc)
