"""Post-incident reports, action items and response metrics: read, decide, store, upload.

The report is drafted from stored data only, so regenerating it is harmless; each upload is
a new file in the war room, and the card links the latest.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.clock import utcnow
from bot.config import KlaxonConfig, Severity
from bot.domain.action_items import ActionItem, ActionItemDraft
from bot.domain.follow_up import PostmortemStats, item_reminders_plan, postmortem_stats
from bot.domain.incident import Incident, IncidentStatus, TimelineKind
from bot.domain.stats import Stats, compute_stats
from bot.errors import InvalidInput, NotFound, SlackUnavailable
from bot.reports.document import render_report, report_filename
from bot.services import Services
from bot.slack_gateway import UploadedFile
from message_templates.formatting import mention
from message_templates.mrkdwn import escape
from storage.unit_of_work import UnitOfWorkFactory

logger = logging.getLogger(__name__)


async def draft_report(
    uow: UnitOfWorkFactory,
    severities: Mapping[str, Severity],
    *,
    incident_id: int | None = None,
    public_id: str | None = None,
    now: datetime | None = None,
) -> tuple[Incident, str]:
    """The incident and its report, read in one transaction so they agree."""
    async with uow(write=False) as work:
        if incident_id is not None:
            incident = await work.incidents.get(incident_id)
        else:
            incident = await work.incidents.get_by_public_id(public_id or "")
        if incident is None:
            wanted = (public_id or str(incident_id)).strip().upper()
            raise NotFound(f"there is no incident {wanted} in this database")
        entries = await work.capture.entries(incident.id)
        items = await work.reports.action_items(incident.id)
    report = render_report(incident, entries, items, severities, now=now or utcnow())
    return incident, report


def _comment(incident: Incident, *, regenerated: bool) -> str:
    what = "Regenerated the" if regenerated else "Drafted the"
    return (
        f":memo: {what} post-incident report of *{incident.public_id}* from its timeline. "
        "Fill in the five whys, what went well and poorly, and the lessons learned; "
        "`/incident postmortem` drafts it again from the latest record."
    )


async def publish_report(
    services: Services, incident_id: int, *, regenerated: bool = False
) -> UploadedFile | None:
    """Upload the report to the war room and link it from the card; None without a war room
    or when Slack refused (logged: the report can be regenerated)."""
    incident, report = await draft_report(
        services.unit_of_work, services.config.severities, incident_id=incident_id
    )
    if not incident.channel_id:
        return None
    try:
        uploaded = await services.slack.upload_file(
            incident.channel_id,
            report_filename(incident),
            report.encode(),
            title=f"{incident.public_id} post-incident report",
            initial_comment=_comment(incident, regenerated=regenerated),
        )
    except SlackUnavailable as exc:
        logger.warning("%s: could not upload the post-incident report: %s", incident.public_id, exc)
        return None
    async with services.unit_of_work() as work:
        await work.reports.attach_report(incident.id, uploaded.id, uploaded.permalink)
        await work.commit()
    services.projections.refresh(incident.id)
    return uploaded


# -- action items -----------------------------------------------------------------------------


async def add_action_item(
    uow: UnitOfWorkFactory,
    incident: Incident,
    user_id: str,
    draft: ActionItemDraft,
    *,
    now: datetime | None = None,
    config: KlaxonConfig | None = None,
) -> tuple[ActionItem, int]:
    """Store the item and its timeline entry together; returns it and its number (1-based)."""
    if incident.status is IncidentStatus.CLOSED:
        raise InvalidInput(f"{incident.public_id} is closed; its action items are final.")
    now = now or utcnow()
    owner = f" for {mention(draft.owner)}" if draft.owner else ""
    due = f", due {draft.due.isoformat()}" if draft.due else ""
    async with uow() as work:
        item = await work.reports.add_action_item(incident.id, draft, by=user_id, at=now)
        number = len(await work.reports.action_items(incident.id))
        await work.timeline.append(
            incident.id,
            TimelineKind.ACTION_ITEM,
            occurred_at=now,
            actor=user_id,
            text=f"{mention(user_id)} added action item #{number}{owner}{due}: "
            f"{escape(draft.text)}",
            details={"action_item": item.id},
            dedup_key=f"action_item:{item.id}",
        )
        if config is not None:
            # An owned, dated item is reminded: the incident's reminder timer follows it.
            items = await work.reports.action_items(incident.id)
            await work.timers.apply(incident.id, item_reminders_plan(items, now, config))
        await work.commit()
    return item, number


async def action_items(uow: UnitOfWorkFactory, incident_id: int) -> Sequence[ActionItem]:
    async with uow(write=False) as work:
        return await work.reports.action_items(incident_id)


# -- response metrics -------------------------------------------------------------------------


async def stats(
    uow: UnitOfWorkFactory,
    severities: Sequence[str],
    period: timedelta,
    *,
    now: datetime | None = None,
) -> Stats:
    until = now or utcnow()
    since = until - period
    async with uow(write=False) as work:
        declared = await work.reports.declared_between(since, until)
        open_now = await work.incidents.count_open_by_severity()
    return compute_stats(declared, severities, since=since, until=until, open_now=open_now)


async def postmortems(
    uow: UnitOfWorkFactory, period: timedelta, *, now: datetime | None = None
) -> PostmortemStats:
    until = now or utcnow()
    async with uow(write=False) as work:
        resolved = await work.reports.postmortems_resolved_between(until - period, until)
    return postmortem_stats(resolved, until)
