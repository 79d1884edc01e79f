"""``/incident ack|resolve|severity|status|role|handoff|update`` inside a war room."""

from __future__ import annotations

from slack_bolt.async_app import AsyncAck

from bot.commands import SubcommandName
from bot.domain.incident import IncidentRole
from bot.domain.lifecycle import NOBODY_WORDS, parse_role, parse_status, parse_user
from bot.domain.permissions import GuardedAction
from bot.errors import InvalidInput
from bot.incidents import flows
from bot.incidents.lifecycle import UpdateDraft
from bot.services import Services
from handlers.forms import open_form
from handlers.payloads import IncidentForm, SlashCommand
from message_templates.help import COMMAND
from message_templates.incident_card import incident_card
from message_templates.lifecycle_forms import resolve_modal, update_modal
from message_templates.message import Message

LIFECYCLE_SUBCOMMANDS = frozenset(
    {
        SubcommandName.ACK,
        SubcommandName.RESOLVE,
        SubcommandName.SEVERITY,
        SubcommandName.STATUS,
        SubcommandName.ROLE,
        SubcommandName.HANDOFF,
        SubcommandName.UPDATE,
    }
)


def _note(text: str) -> Message:
    return Message(text=text, blocks=())


def _metadata(public_id: str, channel_id: str) -> str:
    return IncidentForm(incident=public_id, channel_id=channel_id).model_dump_json()


def _open_form(
    services: Services, command: SlashCommand, view: dict[str, object], name: str
) -> None:
    open_form(services, command.trigger_id, view, response_url=command.response_url, name=name)


async def lifecycle_command(
    ack: AsyncAck,
    services: Services,
    command: SlashCommand,
    name: SubcommandName,
    arguments: str,
) -> None:
    incident = await flows.incident_in_channel(services, command.channel_id)
    user = command.user_id
    if name is SubcommandName.ACK:
        reply = _note((await flows.acknowledge(services, incident, user)).note)
    elif name is SubcommandName.RESOLVE:
        if not arguments and incident.status.is_open:
            await flows.require(services, incident, user, GuardedAction.RESOLVE)
            metadata = _metadata(incident.public_id, command.channel_id)
            _open_form(
                services,
                command,
                resolve_modal(incident, private_metadata=metadata),
                "open resolve form",
            )
            await ack()
            return
        reply = _note((await flows.resolve(services, incident, user, summary=arguments)).note)
    elif name is SubcommandName.SEVERITY:
        if not arguments:
            choices = ", ".join(f"`{key}`" for key in services.config.severities)
            raise InvalidInput(
                f"Which severity? `{COMMAND} severity sev2`, say. Severities: {choices}."
            )
        reply = _note((await flows.change_severity(services, incident, user, arguments)).note)
    elif name is SubcommandName.STATUS:
        if not arguments:
            reply = incident_card(incident, services.config.severities)
        else:
            target = parse_status(arguments)
            reply = _note((await flows.change_status(services, incident, user, target)).note)
    elif name is SubcommandName.ROLE:
        role_word, _, who = arguments.partition(" ")
        if not role_word or not who.strip():
            raise InvalidInput(
                f"Usage: `{COMMAND} role <ic|tl|cl|sme> @person` (or `none` to clear the role)."
            )
        role = parse_role(role_word)
        assignee = None if who.strip().lower() in NOBODY_WORDS else parse_user(who)
        outcome = await flows.assign_role(services, incident, user, role, assignee)
        reply = _note(outcome.note)
    elif name is SubcommandName.HANDOFF:
        if not arguments:
            raise InvalidInput(f"Usage: `{COMMAND} handoff @person` hands over the IC role.")
        assignee = parse_user(arguments)
        outcome = await flows.assign_role(
            services, incident, user, IncidentRole.COMMANDER, assignee, handoff=True
        )
        reply = _note(outcome.note)
    else:
        assert name is SubcommandName.UPDATE
        if not arguments:
            if not incident.status.is_open:
                raise InvalidInput(
                    f"{incident.public_id} is {incident.status.value}; reopen it to post updates."
                )
            metadata = _metadata(incident.public_id, command.channel_id)
            _open_form(
                services,
                command,
                update_modal(incident, private_metadata=metadata),
                "open update form",
            )
            await ack()
            return
        outcome = await flows.post_update(services, incident, user, UpdateDraft(summary=arguments))
        reply = _note(outcome.note)
    await ack(**reply.ephemeral())
