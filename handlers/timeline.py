"""``/incident timeline [page]``: the war room's key events and latest entries, privately."""

from __future__ import annotations

from bot.services import Services
from bot.timeline.reading import timeline_page
from handlers.payloads import SlashCommand
from message_templates.message import Message
from message_templates.timeline import not_a_war_room, timeline_reply, timeline_usage


def export_command(public_id: str) -> str:
    return f"python -m bot export {public_id} --format md"


async def timeline_command(services: Services, request: SlashCommand, arguments: str) -> Message:
    page = 1
    if arguments:
        if not arguments.isdigit() or len(arguments) > 6:
            return timeline_usage(arguments)
        page = int(arguments)
    found = await timeline_page(services.unit_of_work, request.channel_id, page)
    if found is None:
        return not_a_war_room()
    return timeline_reply(found, export_command=export_command(found.incident.public_id))
