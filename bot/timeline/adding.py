"""The "Add to incident timeline" shortcut: any message, from any channel, into an open incident.

An alert in #alerts, a customer report in #support: whoever uses the shortcut picks an open
incident, and the message joins its timeline at the message's own time, with who added it
(the actor) and who wrote it (the author). Adding the same message twice is a no-op.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.incident import Incident, TimelineKind
from bot.domain.text import REPLACED_NOTE
from bot.domain.timeline import ts_to_datetime
from bot.domain.timeline_writes import NewEntry
from bot.errors import InvalidInput, NotFound
from storage.unit_of_work import UnitOfWorkFactory

# Slack's static_select holds at most 100 options.
MAX_CHOICES = 100


@dataclass(frozen=True, slots=True)
class PickedMessage:
    channel_id: str
    ts: str
    text: str
    author: str | None = None
    is_bot: bool = False
    thread_ts: str | None = None
    permalink: str | None = None
    # Its text held characters that could not be stored, replaced with U+FFFD.
    replaced: bool = False


@dataclass(frozen=True, slots=True)
class Choices:
    incidents: Sequence[Incident]
    preselected: int | None


class IncidentClosed(InvalidInput):
    """The incident chosen was resolved or closed while the form was open."""


async def choices(uow: UnitOfWorkFactory, channel_id: str) -> Choices:
    """Open incidents, newest first; the one whose war room the message is in comes chosen."""
    async with uow(write=False) as work:
        incidents = await work.incidents.list_recent_open(MAX_CHOICES)
        here = await work.capture.incident_for_channel(channel_id)
    if here is not None and all(incident.id != here for incident in incidents):
        here = None
    return Choices(incidents, here)


async def add_message(
    uow: UnitOfWorkFactory,
    incident_id: int,
    message: PickedMessage,
    *,
    added_by: str,
    now: datetime,
) -> tuple[Incident, bool]:
    """Record ``message`` in the incident's timeline; False when it was already there."""
    async with uow() as work:
        incident = await work.incidents.get(incident_id)
        if incident is None:
            raise NotFound("That incident no longer exists; choose another one.")
        if not incident.status.is_open:
            raise IncidentClosed(
                f"{incident.public_id} was {incident.status.value} meanwhile; "
                "choose an open incident."
            )
        details: dict[str, str | bool] = {
            "channel_id": message.channel_id,
            "added_at": now.isoformat(),
        }
        if message.replaced:
            details[REPLACED_NOTE] = True
        if message.author:
            details["author"] = message.author
        if message.permalink:
            details["permalink"] = message.permalink
        added = await work.capture.add(
            incident.id,
            NewEntry(
                TimelineKind.ADDED_MESSAGE,
                ts_to_datetime(message.ts),
                added_by,
                message.text,
                f"added:{message.channel_id}:{message.ts}",
                slack_ts=message.ts,
                details=details,
                thread_ts=message.thread_ts,
                is_bot=message.is_bot,
            ),
        )
        await work.commit()
    return incident, added
