"""Lifecycle use cases: decide and store (``lifecycle``), then show the change in Slack.

The stored change comes first and is what the person acting is told about; the Slack side
(notices, the all-clear, invites, the card) follows in tracked background tasks, and only
the request that actually changed the incident posts anything, so double clicks and racing
replicas never double-post.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from bot import log_context
from bot.clock import utcnow
from bot.domain.incident import Incident, IncidentRole, IncidentStatus
from bot.domain.permissions import GuardedAction
from bot.errors import NotFound, SlackUnavailable
from bot.follow_up import checklist
from bot.incidents import lifecycle, posting
from bot.incidents.lifecycle import Outcome, Request, UpdateDraft
from bot.incidents.war_room import responders_to_invite
from bot.oncall.service import responders_on_call
from bot.reports import home
from bot.reports import service as reports
from bot.services import Services
from bot.status_page import flows as status_page
from message_templates import notices
from message_templates.all_clear import render_all_clear
from message_templates.follow_up import postmortem_scheduled
from message_templates.formatting import mention
from message_templates.help import COMMAND
from message_templates.message import Message
from message_templates.status_update import render_update

logger = logging.getLogger(__name__)


# -- finding the incident ---------------------------------------------------------------------


async def incident_in_channel(services: Services, channel_id: str) -> Incident:
    async with services.unit_of_work(write=False) as work:
        incident = await work.incidents.get_by_channel(channel_id)
    if incident is None:
        raise NotFound(
            "This channel is not an incident's war room. Run this in the war room; "
            f"`{COMMAND} list` shows the open incidents and their channels."
        )
    log_context.bind_incident(incident.public_id)
    return incident


async def incident_on_card(services: Services, public_id: str | None) -> Incident:
    async with services.unit_of_work(write=False) as work:
        incident = await work.incidents.get_by_public_id(public_id or "")
    if incident is None:
        raise NotFound(
            "This card belongs to an incident Klaxon has no record of; it may come from "
            f"another installation. `{COMMAND} list` shows the open incidents."
        )
    log_context.bind_incident(incident.public_id)
    return incident


async def _request(
    services: Services, incident: Incident, user_id: str, *actions: GuardedAction
) -> Request:
    actor = await services.user_groups.actor(services.config, user_id, incident, *actions)
    return Request(actor=actor, now=utcnow(), seen=incident)


async def require(
    services: Services, incident: Incident, user_id: str, action: GuardedAction
) -> None:
    """Refuse before a form is shown, so nobody fills one in to be told no."""
    request = await _request(services, incident, user_id, action)
    lifecycle.require(services.config, action, incident, request)


def _follow_up(
    services: Services, outcome: Outcome, work: Coroutine[Any, Any, None], name: str
) -> None:
    """Slack side of a change; a request that changed nothing only brings the card up to date
    (the person may have pressed a stale card)."""
    if outcome.changed:
        services.tasks.spawn(work, name=f"{name} {outcome.after.public_id}")
        home.incidents_changed(services)
    else:
        work.close()
        services.projections.refresh(outcome.after.id)


# -- posting ------------------------------------------------------------------------------------


async def _in_war_room_and_to_stakeholders(
    services: Services, incident: Incident, message: Message, what: str
) -> None:
    await asyncio.gather(
        posting.post(services, incident.channel_id, message, what),
        posting.to_stakeholders(services, incident, message),
    )


# -- acknowledge ------------------------------------------------------------------------------


async def acknowledge(services: Services, incident: Incident, user_id: str) -> Outcome:
    request = await _request(services, incident, user_id)
    outcome = await lifecycle.acknowledge(services.unit_of_work, incident.id, request)

    async def show() -> None:
        became_commander = outcome.before.commander is None
        services.projections.refresh(outcome.after.id)
        await posting.post(
            services,
            outcome.after.channel_id,
            notices.acknowledged(outcome.after, became_commander=became_commander),
            "acknowledgement",
        )

    _follow_up(services, outcome, show(), "show acknowledgement")
    return outcome


# -- resolve, reopen, close, status -----------------------------------------------------------


async def _show_resolved(services: Services, outcome: Outcome) -> None:
    incident = outcome.after
    services.projections.refresh(incident.id)
    severity = services.config.severities[incident.severity]
    all_clear = render_all_clear(services.templates.resolved, incident, severity)
    await _in_war_room_and_to_stakeholders(services, incident, all_clear, "all-clear")
    if incident.postmortem_pending:
        await posting.post(
            services, incident.channel_id, postmortem_scheduled(incident), "post-mortem due"
        )
    # After the all-clear, so the war room reads "all clear" first, then the draft report.
    services.tasks.spawn(
        reports.publish_report(services, incident.id), name=f"report {incident.public_id}"
    )
    services.tasks.spawn(
        status_page.offer_resolution(services, incident), name=f"public {incident.public_id}"
    )


async def _show_reopened(services: Services, outcome: Outcome, user_id: str) -> None:
    services.projections.refresh(outcome.after.id)
    await _in_war_room_and_to_stakeholders(
        services, outcome.after, notices.reopened(user_id), "reopen notice"
    )


async def _show_closed(services: Services, outcome: Outcome, user_id: str) -> None:
    incident = outcome.after
    archiving = services.config.war_room.archive_on_close and incident.channel_id is not None
    notice = notices.closed(user_id, archiving=archiving)
    await posting.post(services, incident.channel_id, notice, "close notice")
    await checklist.post_checklist(services, incident, utcnow())
    # The card and topic must show "closed" before the channel becomes read-only.
    await services.projections.refreshed(incident.id)
    if archiving and incident.channel_id:
        try:
            await services.slack.archive(incident.channel_id)
        except SlackUnavailable as exc:
            logger.warning("%s: could not archive the war room: %s", incident.public_id, exc)


async def _show_status(services: Services, outcome: Outcome, user_id: str) -> None:
    services.projections.refresh(outcome.after.id)
    await posting.post(
        services,
        outcome.after.channel_id,
        notices.status_changed(outcome.before.status, outcome.after.status, user_id),
        "status notice",
    )


async def resolve(
    services: Services, incident: Incident, user_id: str, *, summary: str = "", root_cause: str = ""
) -> Outcome:
    request = await _request(services, incident, user_id, GuardedAction.RESOLVE)
    outcome = await lifecycle.resolve(
        services.unit_of_work,
        services.config,
        incident.id,
        request,
        summary=summary,
        root_cause=root_cause,
    )
    _follow_up(services, outcome, _show_resolved(services, outcome), "all-clear")
    return outcome


async def reopen(services: Services, incident: Incident, user_id: str) -> Outcome:
    request = await _request(services, incident, user_id, GuardedAction.REOPEN)
    outcome = await lifecycle.reopen(services.unit_of_work, services.config, incident.id, request)
    _follow_up(services, outcome, _show_reopened(services, outcome, user_id), "reopen")
    return outcome


async def change_status(
    services: Services, incident: Incident, user_id: str, target: IncidentStatus
) -> Outcome:
    request = await _request(
        services,
        incident,
        user_id,
        GuardedAction.RESOLVE,
        GuardedAction.REOPEN,
        GuardedAction.CLOSE,
    )
    outcome = await lifecycle.change_status(
        services.unit_of_work, services.config, incident.id, request, target
    )
    before, after = outcome.before.status, outcome.after.status
    if after is IncidentStatus.RESOLVED and before is not IncidentStatus.RESOLVED:
        show = _show_resolved(services, outcome)
    elif after is IncidentStatus.CLOSED:
        show = _show_closed(services, outcome, user_id)
    elif before is IncidentStatus.RESOLVED:
        show = _show_reopened(services, outcome, user_id)
    else:
        show = _show_status(services, outcome, user_id)
    _follow_up(services, outcome, show, "show status")
    return outcome


# -- severity ---------------------------------------------------------------------------------


async def _show_severity(services: Services, outcome: Outcome, user_id: str) -> None:
    config = services.config
    incident = outcome.after
    old, new = config.severities[outcome.before.severity], config.severities[incident.severity]
    lowering = list(config.severities).index(new.key) > list(config.severities).index(old.key)
    services.projections.refresh(incident.id)
    notice = notices.severity_changed(incident, old, new, user_id, lowering=lowering)
    steps = [_in_war_room_and_to_stakeholders(services, incident, notice, "severity notice")]
    if not lowering and incident.status.is_open and incident.channel_id and new.responders:
        steps.append(_invite_responders(services, incident, new.key))
    await asyncio.gather(*steps)


async def _invite_responders(services: Services, incident: Incident, severity_key: str) -> None:
    assert incident.channel_id is not None
    config = services.config
    severity = responders_on_call(config, config.severities[severity_key], utcnow())
    problems: list[str] = []
    users = await responders_to_invite(services.slack, severity, incident.declared_by, problems)
    try:
        failures = await services.slack.invite(incident.channel_id, users)
    except SlackUnavailable as exc:
        problems.append(f"Could not invite the {severity.label} responders ({exc.error}).")
    else:
        problems.extend(
            f"Could not invite {mention(failure.user_id)} ({failure.error})."
            for failure in failures
        )
    if problems:
        logger.warning("%s: %s", incident.public_id, "; ".join(problems))
        await posting.post(
            services,
            incident.channel_id,
            Message(text="\n".join(problems), blocks=()),
            "invite problems",
        )


async def change_severity(
    services: Services, incident: Incident, user_id: str, severity_name: str
) -> Outcome:
    request = await _request(services, incident, user_id, GuardedAction.LOWER_SEVERITY)
    outcome = await lifecycle.change_severity(
        services.unit_of_work, services.config, incident.id, request, severity_name
    )
    _follow_up(services, outcome, _show_severity(services, outcome, user_id), "severity")
    return outcome


# -- roles ------------------------------------------------------------------------------------


async def _show_role(
    services: Services,
    outcome: Outcome,
    role: IncidentRole,
    user_id: str | None,
    by: str,
    *,
    handoff: bool,
) -> None:
    incident = outcome.after
    services.projections.refresh(incident.id)
    if user_id is None:
        await posting.post(
            services, incident.channel_id, notices.role_cleared(role, by), "role notice"
        )
        return
    await posting.invite(services, incident, [user_id])
    replacing = outcome.before.commander if role is IncidentRole.COMMANDER else None
    notice = notices.role_assigned(role, user_id, by, replacing=replacing, handoff=handoff)
    await posting.post(services, incident.channel_id, notice, "role notice")


async def assign_role(
    services: Services,
    incident: Incident,
    user_id: str,
    role: IncidentRole,
    assignee: str | None,
    *,
    handoff: bool = False,
) -> Outcome:
    request = await _request(services, incident, user_id, GuardedAction.REASSIGN_COMMANDER)
    outcome = await lifecycle.assign_role(
        services.unit_of_work,
        services.config,
        incident.id,
        request,
        role,
        assignee,
        handoff=handoff,
    )
    _follow_up(
        services,
        outcome,
        _show_role(services, outcome, role, assignee, user_id, handoff=handoff),
        "role",
    )
    return outcome


# -- updates ----------------------------------------------------------------------------------


async def _show_update(
    services: Services, outcome: Outcome, draft: UpdateDraft, user_id: str
) -> None:
    incident = outcome.after
    services.projections.refresh(incident.id)
    severity = services.config.severities[incident.severity]
    message = render_update(
        services.templates.update,
        incident,
        severity,
        draft.details(),
        posted_by=user_id,
        now=utcnow(),
    )
    await _in_war_room_and_to_stakeholders(services, incident, message, "status update")


async def post_update(
    services: Services, incident: Incident, user_id: str, draft: UpdateDraft
) -> Outcome:
    request = await _request(services, incident, user_id)
    outcome = await lifecycle.post_update(
        services.unit_of_work, services.config, incident.id, request, draft
    )
    _follow_up(services, outcome, _show_update(services, outcome, draft, user_id), "update")
    return outcome
