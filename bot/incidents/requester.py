"""Who a war room is opened for, what an alert route adds to it, and how the declarer is told
about it: privately, and never when the declarer is an alert source."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from bot.errors import SlackUnavailable
from bot.services import Services
from message_templates.message import Message

logger = logging.getLogger(__name__)

# A Slack user id; anything else declaring is an alert source ("Alertmanager (receiver x)").
PERSON = re.compile(r"^[UW][A-Z0-9]{2,}$")


@dataclass(frozen=True, slots=True)
class Requester:
    """Who declared, and where Klaxon can answer them privately (a direct message when the
    request that declared is gone, as after a restart)."""

    user_id: str
    channel_id: str | None = None
    response_url: str | None = None

    @property
    def is_person(self) -> bool:
        return PERSON.match(self.user_id) is not None


async def tell(services: Services, requester: Requester, message: Message) -> None:
    """An ephemeral note to the declarer; never fails the flow it reports on."""
    if not requester.is_person:
        return  # an alert source: the war room and the timeline say what happened
    try:
        if requester.response_url:
            await services.slack.respond(requester.response_url, message.ephemeral())
        elif requester.channel_id:
            await services.slack.post_ephemeral(
                requester.channel_id, requester.user_id, message.text, message.blocks
            )
        else:
            await services.slack.post_message(requester.user_id, message.text, message.blocks)
    except SlackUnavailable as exc:
        logger.warning("could not tell %s: %s", requester.user_id, exc)


@dataclass(frozen=True, slots=True)
class Extras:
    """What an alert route adds: more responders, its own stakeholder channel."""

    responders: tuple[str, ...] = ()
    announce_to: str | None = None
