"""Stable, then closed: the question at the end of a stability period and its two answers.

**Close now** resolves a monitored incident and closes it, through the same lifecycle rules
(and permissions) as ``/incident resolve`` and ``/incident status closed``; closing posts the
post-incident checklist (``bot.incidents.flows``). **Keep monitoring** starts the period
again. A press that comes after the incident changed (reopened, say) is told so and changes
nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.clock import utcnow
from bot.domain.follow_up import stability_plan
from bot.domain.incident import Incident, IncidentStatus, TimelineKind
from bot.durations import format_duration
from bot.errors import InvalidInput, NotFound
from bot.incidents import flows, posting
from bot.services import Services
from message_templates.checklist import stable_question
from message_templates.formatting import mention
from message_templates.message import Message

logger = logging.getLogger(__name__)

_STABLE = (IncidentStatus.MONITORING, IncidentStatus.RESOLVED)


async def _fresh(services: Services, incident_id: int) -> Incident:
    async with services.unit_of_work(write=False) as work:
        incident = await work.incidents.get(incident_id)
    if incident is None:
        raise NotFound("Klaxon has no record of this incident any more.")
    return incident


async def ask_to_close(
    services: Services, incident: Incident, marker: Mapping[str, Any] | None
) -> None:
    period = services.config.stability_period(incident.severity)
    question = stable_question(incident, period, incident.commander)
    await posting.post(
        services, incident.channel_id, question, "stability question", metadata=marker
    )


async def _close(services: Services, incident: Incident, user: str) -> str:
    if incident.status is IncidentStatus.MONITORING:
        await flows.resolve(services, incident, user)
        incident = await _fresh(services, incident.id)
    outcome = await flows.change_status(services, incident, user, IncidentStatus.CLOSED)
    return outcome.note


async def close_when_stable(services: Services, incident: Incident) -> None:
    """``auto_close``: the commander (or the declarer) is who the close is recorded for,
    as the person the question would have gone to."""
    who = incident.commander or incident.declared_by
    period = format_duration(services.config.stability_period(incident.severity))
    await posting.post(
        services,
        incident.channel_id,
        Message(
            text=f":hourglass: Stable for {period}; closing *{incident.public_id}* "
            f"(`auto_close` is on) on behalf of {mention(who)}.",
            blocks=(),
        ),
        "auto close notice",
    )
    try:
        await _close(services, incident, who)
    except (InvalidInput, NotFound) as exc:
        logger.warning("%s: could not close it automatically: %s", incident.public_id, exc)


async def close_now(services: Services, incident: Incident, user: str) -> str:
    incident = await _fresh(services, incident.id)
    if incident.status not in _STABLE:
        raise InvalidInput(
            f"*{incident.public_id}* is {incident.status.value} now, so it was not closed."
        )
    return await _close(services, incident, user)


async def keep_monitoring(services: Services, incident: Incident, user: str) -> str:
    incident = await _fresh(services, incident.id)
    if incident.status not in _STABLE:
        raise InvalidInput(
            f"*{incident.public_id}* is {incident.status.value} now; no stability period runs."
        )
    now = utcnow()
    plan = stability_plan(services.config, incident.severity, incident.status, now)
    period = format_duration(services.config.stability_period(incident.severity))
    async with services.unit_of_work() as work:
        await work.timers.apply(incident.id, plan)
        await work.timeline.append(
            incident.id,
            TimelineKind.STABILITY,
            occurred_at=now,
            actor=user,
            text=f"{mention(user)} chose to keep monitoring for another {period}",
        )
        await work.commit()
    return f"Keep monitoring: Klaxon asks again in {period} if nothing changes."
