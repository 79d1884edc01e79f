"""Opening a failed war room again: ``/incident retry INC-…`` and the declarer's Retry button."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.errors import InvalidInput
from bot.ids import ActionId
from bot.incidents.requester import Requester, tell
from bot.incidents.war_room_retry import retry
from bot.services import Services
from handlers.payloads import BlockActions, SlashCommand, parse
from message_templates.message import Message

USAGE = "Which incident? `/incident retry INC-20261122-001` (its id is in `/incident list`)."


async def retry_command(services: Services, command: SlashCommand, arguments: str) -> Message:
    public_id = arguments.strip()
    if not public_id:
        raise InvalidInput(USAGE)
    requester = Requester(command.user_id, command.channel_id, command.response_url)
    return await retry(services, public_id, requester)


def register(app: AsyncApp, services: Services) -> None:
    async def on_retry_pressed(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        request = parse(BlockActions, body)
        public_id = request.actions[0].value if request.actions else None
        if not public_id:
            raise InvalidInput("The Retry button did not say which incident; use " + USAGE)
        channel = request.channel.id if request.channel else None
        requester = Requester(request.user.id, channel, request.response_url)
        reply = await retry(services, public_id, requester)
        await tell(services, requester, reply)

    app.action(ActionId.RETRY_WAR_ROOM.value)(on_retry_pressed)
