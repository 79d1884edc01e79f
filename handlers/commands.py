"""The ``/incident`` slash command: split the text and route it to its subcommand."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.clock import utcnow
from bot.commands import (
    CATALOGUE,
    Subcommand,
    SubcommandName,
    closest_subcommand,
    find_subcommand,
    split_command,
)
from bot.incidents import service
from bot.services import Services
from handlers.declare import declare_command
from handlers.lifecycle_commands import LIFECYCLE_SUBCOMMANDS, lifecycle_command
from handlers.oncall import oncall_command
from handlers.payloads import SlashCommand, parse
from handlers.postmortem import with_postmortems_due
from handlers.reports import REPORT_SUBCOMMANDS, report_command
from handlers.status_page import public_command
from handlers.timeline import timeline_command
from handlers.war_room_retry import retry_command
from message_templates.help import COMMAND, help_message
from message_templates.message import Message
from message_templates.mrkdwn import inline_code
from message_templates.replies import MAX_LISTED, open_incidents

# Subcommands whose feature has shipped; help marks the others as coming soon.
AVAILABLE: frozenset[SubcommandName] = frozenset(
    {
        SubcommandName.HELP,
        SubcommandName.DECLARE,
        SubcommandName.LIST,
        SubcommandName.TIMELINE,
        SubcommandName.RETRY,
        SubcommandName.PUBLIC,
        SubcommandName.ONCALL,
    }
    | LIFECYCLE_SUBCOMMANDS
    | REPORT_SUBCOMMANDS
)


def _not_yet(name: SubcommandName) -> Message:
    text = (
        f"{inline_code(f'{COMMAND} {name.value}')} is not available in this version of Klaxon "
        f"yet. `{COMMAND} help` lists what is."
    )
    return Message(text=text, blocks=())


def _help(services: Services, typed_word: str, subcommand: Subcommand | None) -> Message:
    severities = services.config.severities.values()
    if subcommand is None:
        return help_message(
            CATALOGUE,
            AVAILABLE,
            severities,
            unknown_word=typed_word,
            suggestion=closest_subcommand(typed_word),
        )
    return help_message(CATALOGUE, AVAILABLE, severities)


async def _list(services: Services) -> Message:
    incidents, total = await service.recent_open(services.unit_of_work, MAX_LISTED)
    listed = open_incidents(incidents, total, services.config.severities, utcnow())
    return await with_postmortems_due(services, listed)


def register(app: AsyncApp, services: Services) -> None:
    async def on_incident(ack: AsyncAck, command: dict[str, Any]) -> None:
        request = parse(SlashCommand, command)
        typed = split_command(request.text)
        subcommand = find_subcommand(typed.word)
        if subcommand is None or subcommand.name is SubcommandName.HELP:
            reply = _help(services, typed.word, subcommand)
        elif subcommand.name is SubcommandName.DECLARE:
            await declare_command(ack, request, typed.arguments, services)
            return
        elif subcommand.name is SubcommandName.LIST:
            reply = await _list(services)
        elif subcommand.name in LIFECYCLE_SUBCOMMANDS:
            await lifecycle_command(ack, services, request, subcommand.name, typed.arguments)
            return
        elif subcommand.name is SubcommandName.TIMELINE:
            reply = await timeline_command(services, request, typed.arguments)
        elif subcommand.name is SubcommandName.RETRY:
            reply = await retry_command(services, request, typed.arguments)
        elif subcommand.name is SubcommandName.PUBLIC:
            await public_command(ack, services, request)
            return
        elif subcommand.name is SubcommandName.ONCALL:
            reply = await oncall_command(services, typed.arguments)
        elif subcommand.name in REPORT_SUBCOMMANDS:
            reply = await report_command(services, request, subcommand.name, typed.arguments)
        else:
            reply = _not_yet(subcommand.name)
        await ack(**reply.ephemeral())

    app.command(COMMAND)(on_incident)
