"""The ``/incident`` slash command: split the text, answer help, route the rest."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.commands import (
    CATALOGUE,
    SubcommandName,
    closest_subcommand,
    find_subcommand,
    split_command,
)
from bot.services import Services
from message_templates.help import COMMAND, help_message
from message_templates.message import Message
from message_templates.mrkdwn import inline_code

# Subcommands whose feature has shipped; help marks the others as coming soon.
AVAILABLE: frozenset[SubcommandName] = frozenset({SubcommandName.HELP})


def _not_yet(name: SubcommandName) -> Message:
    text = (
        f"{inline_code(f'{COMMAND} {name.value}')} is not available in this version of Klaxon "
        f"yet. `{COMMAND} help` lists what is."
    )
    return Message(text=text, blocks=())


def reply_to(text: str, services: Services) -> Message:
    """The ephemeral answer to ``/incident <text>`` for subcommands answered in the ack."""
    typed = split_command(text)
    subcommand = find_subcommand(typed.word)
    severities = services.config.severities.values()
    if subcommand is None:
        return help_message(
            CATALOGUE,
            AVAILABLE,
            severities,
            unknown_word=typed.word,
            suggestion=closest_subcommand(typed.word),
        )
    if subcommand.name is SubcommandName.HELP:
        return help_message(CATALOGUE, AVAILABLE, severities)
    return _not_yet(subcommand.name)


def register(app: AsyncApp, services: Services) -> None:
    async def on_incident(ack: AsyncAck, command: dict[str, Any]) -> None:
        reply = reply_to(str(command.get("text") or ""), services)
        await ack(**reply.ephemeral())

    app.command(COMMAND)(on_incident)
