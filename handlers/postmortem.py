"""``/incident postmortem owner @person`` and ``/incident postmortem done <link>``."""

from __future__ import annotations

from bot.clock import utcnow
from bot.domain.incident import Incident
from bot.domain.lifecycle import parse_user
from bot.errors import InvalidInput
from bot.follow_up import postmortem
from bot.services import Services
from handlers.payloads import SlashCommand
from message_templates.follow_up import POSTMORTEMS_LISTED, postmortems_listed
from message_templates.message import Message

USAGE = (
    "`/incident postmortem` drafts the report again; `/incident postmortem owner @person` "
    "names its owner; `/incident postmortem done <link>` records it as held."
)


async def postmortem_command(
    services: Services, command: SlashCommand, incident: Incident, arguments: str
) -> Message:
    word, _, rest = arguments.strip().partition(" ")
    verb = word.lower()
    if verb == "owner":
        if not rest.strip():
            raise InvalidInput(f"Who owns it? Usage: {USAGE}")
        owner = parse_user(rest.strip())
        note = await postmortem.set_owner(services, incident, command.user_id, owner, utcnow())
        return Message(text=note, blocks=())
    if verb in {"done", "held"}:
        if not rest.strip():
            raise InvalidInput(
                "Where is the post-mortem document? `/incident postmortem done <link>`, or "
                "press *Post-mortem held* on the resolve message."
            )
        note = await postmortem.mark_held(services, incident, command.user_id, rest, utcnow())
        return Message(text=note, blocks=())
    raise InvalidInput(f"{word!r} is not something the post-mortem does. {USAGE}")


async def with_postmortems_due(services: Services, listed: Message) -> Message:
    """``/incident list`` also names the resolved incidents whose post-mortem is pending."""
    async with services.unit_of_work(write=False) as work:
        pending = await work.reports.pending_postmortems(POSTMORTEMS_LISTED)
    return postmortems_listed(listed, pending)
