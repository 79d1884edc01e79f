"""Opening a failed war room again, on a person's word (``/incident retry``, the Retry button).

A war room that failed to open is not retried behind anyone's back: the failure may need a
person (Slack permissions, a workspace that was reset), and a retry loop would hide it.
"""

from __future__ import annotations

import dataclasses

from bot.clock import utcnow
from bot.errors import InvalidInput, NotFound
from bot.incidents import service
from bot.incidents.requester import Requester
from bot.incidents.war_room import open_war_room
from bot.reports import home
from bot.services import Services
from message_templates.message import Message
from message_templates.replies import war_room_ready, war_room_retrying


async def retry(services: Services, public_id: str, requester: Requester) -> Message:
    """A person asks for the failed war room again: claim the retry, then open it in the back.
    Anyone may ask, as anyone may declare."""
    async with services.unit_of_work(write=False) as work:
        incident = await work.incidents.get_by_public_id(public_id)
    if incident is None:
        raise NotFound(f"There is no incident {public_id.strip().upper()}.")
    if incident.channel_id is not None:
        return war_room_ready(incident, ())
    if not incident.status.is_open:
        raise InvalidInput(
            f"{incident.public_id} is {incident.status.value}; it needs no war room."
        )
    claimed = await service.claim_retry(
        services.writer,
        incident.id,
        services.process_id,
        user_id=requester.user_id,
        now=utcnow(),
    )
    if not claimed:
        raise InvalidInput(
            f"{incident.public_id}'s war room is being opened already; you will be told here."
        )
    incident = dataclasses.replace(incident, war_room_error=None)
    services.tasks.spawn(
        open_war_room(services, incident, requester, fresh_claim=True),
        name=f"retry war room {incident.public_id}",
    )
    home.incidents_changed(services)
    return war_room_retrying(incident)
