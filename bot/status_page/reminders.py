"""The stale-public-page reminder: a stored timer per published incident (decision 5).

Every post moves the incident's ``status_page_reminder`` timer to ``remind_after`` later
(:func:`bot.status_page.service.reminder_plan`). The scheduler claims it when due, like every
timer, so one replica fires it once; firing tells the commander and the communications lead
privately (the declarer when neither role is held) and sets the next reminder, until the
public incident or the incident is resolved.

Like escalation and follow-up DMs, a reminder goes out at least once: a process that dies
after sending and before completing leaves it to whoever takes the timer over.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from datetime import datetime
from typing import Any

from bot.domain.incident import Incident, IncidentRole
from bot.domain.schedule import TimerKind, TimerPlan, clear
from bot.incidents import posting
from bot.services import Services
from bot.status_page.domain import PublicIncident
from bot.status_page.service import reminder_plan
from message_templates.status_page import stale_reminder
from storage.repositories import ClaimedTimer

logger = logging.getLogger(__name__)


def _people(incident: Incident) -> list[str]:
    people = [
        incident.roles.get(IncidentRole.COMMANDER),
        incident.roles.get(IncidentRole.COMMUNICATIONS_LEAD),
    ]
    found = [p for p in dict.fromkeys(people) if p]
    return found or [incident.declared_by]


async def fire_reminders(
    services: Services, timers: Sequence[ClaimedTimer], owner: str, now: datetime
) -> int:
    """Remind for each claimed timer that is still stale; how many reminders went out."""
    page = services.status_page
    async with services.unit_of_work(write=False) as work:
        incidents = await work.incidents.get_many(t.incident_id for t in timers)
        public = {t.incident_id: await work.status_page.for_incident(t.incident_id) for t in timers}
    plans: dict[int, TimerPlan] = {}
    sends: list[Coroutine[Any, Any, None]] = []
    for timer in timers:
        incident = incidents.get(timer.incident_id)
        published: PublicIncident | None = public.get(timer.incident_id)
        if page is None or incident is None or published is None:
            plans[timer.id] = clear(TimerKind.STATUS_PAGE_REMINDER)
            continue
        plan = reminder_plan(services.config, incident, published)
        if plan.due_at is None or plan.due_at > now:
            # Resolved, or posted to since this timer was set: nothing to say yet.
            plans[timer.id] = plan
            continue
        remind_after = page.settings.remind_after
        plans[timer.id] = TimerPlan(TimerKind.STATUS_PAGE_REMINDER, now + remind_after)
        if incident.severity not in page.settings.remind_severities:
            # Not watched at this severity; looked at again in case it is raised.
            continue
        minutes = int((now - published.updated_at).total_seconds() // 60)
        message = stale_reminder(incident, minutes, incident.channel_id)
        sends.extend(
            posting.post(services, person, message, "status page reminder")
            for person in _people(incident)
        )
    await asyncio.gather(*sends)
    async with services.unit_of_work() as work:
        await work.timers.complete(owner, plans, now)
        await work.commit()
    return len(sends)
