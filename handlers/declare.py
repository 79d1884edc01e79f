"""``/incident declare`` and its form: validate, store, ack, then open the war room in the back."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import log_context
from bot.clock import utcnow
from bot.domain.declaration import (
    Declaration,
    DeclareForm,
    build_declaration,
    check_severity,
    check_title,
    declaration_key,
    parse_declare_arguments,
)
from bot.errors import InvalidInput
from bot.ids import ActionId, BlockId, CallbackId
from bot.incidents import service
from bot.incidents.requester import Requester
from bot.incidents.war_room import open_war_room
from bot.reports import home
from bot.services import Services
from handlers.forms import open_form
from handlers.payloads import (
    DeclareOrigin,
    SlashCommand,
    form_had_unstorable_text,
    form_metadata,
    form_user,
    form_values,
    view_value,
)
from message_templates.declare_modal import declare_modal, declaring_view
from message_templates.message import Message
from message_templates.replies import declaring

logger = logging.getLogger(__name__)


async def _declare(
    services: Services, declaration: Declaration, requester: Requester, key: str | None
) -> Message:
    """Store first, so the ack can name the incident; the war room follows in the background.

    The same request sent again (``key``) is answered with the incident it declared: its war
    room is already on its way, opened by whichever process stored it.
    """
    declared = await service.declare(
        services.declarations,
        declaration,
        declared_by=requester.user_id,
        now=utcnow(),
        from_channel=requester.channel_id,
        opened_by=services.process_id,
        key=key,
    )
    incident = declared.incident
    log_context.bind_incident(incident.public_id)
    if declared.repeated:
        logger.warning("a declare request came again; answered with %s", incident.public_id)
    else:
        services.tasks.spawn(
            open_war_room(services, incident, requester, fresh_claim=True),
            name=f"open war room {incident.public_id}",
        )
        home.incidents_changed(services)
    severity = services.config.severities[incident.severity]
    return declaring(
        incident,
        severity,
        title_was_shortened=declaration.title_was_shortened,
        declared_from=declared.declared_from,
    )


async def declare_command(
    ack: AsyncAck, command: SlashCommand, arguments: str, services: Services
) -> None:
    request = parse_declare_arguments(arguments, services.config)
    if isinstance(request, DeclareForm):
        if not command.trigger_id:
            raise InvalidInput("Slack sent no trigger to open the declare form; try again.")
        view = declare_modal(
            services.config.severities.values(),
            private_metadata=DeclareOrigin(channel_id=command.channel_id).model_dump_json(),
            title=request.title,
            severity=request.severity,
        )
        await ack()
        open_form(
            services,
            command.trigger_id,
            view,
            response_url=command.response_url,
            name="open declare form",
        )
        return
    if command.had_unstorable_text():
        request = dataclasses.replace(request, replaced_text=True)
    requester = Requester(
        user_id=command.user_id,
        channel_id=command.channel_id,
        response_url=command.response_url,
    )
    # Slack gives every invocation its own trigger id and response URL.
    invocation = command.trigger_id or command.response_url
    key = declaration_key("command", invocation) if invocation else None
    reply = await _declare(services, request, requester, key)
    await ack(**reply.ephemeral())


def _value(values: dict[str, Any], block: BlockId, action: ActionId) -> str:
    return view_value(values, block.value, action.value)


def _form_errors(values: dict[str, Any], services: Services) -> dict[str, str]:
    errors: dict[str, str] = {}
    try:
        check_title(_value(values, BlockId.DECLARE_TITLE, ActionId.DECLARE_TITLE))
    except InvalidInput as exc:
        errors[BlockId.DECLARE_TITLE.value] = str(exc)
    try:
        check_severity(
            _value(values, BlockId.DECLARE_SEVERITY, ActionId.DECLARE_SEVERITY), services.config
        )
    except InvalidInput:
        errors[BlockId.DECLARE_SEVERITY.value] = "Choose a severity."
    return errors


def register(app: AsyncApp, services: Services) -> None:
    async def on_form_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = form_values(view)
        errors = _form_errors(values, services)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        declaration = build_declaration(
            title=_value(values, BlockId.DECLARE_TITLE, ActionId.DECLARE_TITLE),
            severity=_value(values, BlockId.DECLARE_SEVERITY, ActionId.DECLARE_SEVERITY),
            description=_value(values, BlockId.DECLARE_DESCRIPTION, ActionId.DECLARE_DESCRIPTION),
            service=_value(values, BlockId.DECLARE_SERVICE, ActionId.DECLARE_SERVICE),
            config=services.config,
        )
        if form_had_unstorable_text(values):
            declaration = dataclasses.replace(declaration, replaced_text=True)
        try:
            origin = DeclareOrigin.model_validate_json(form_metadata(view) or "{}")
        except ValidationError:
            origin = DeclareOrigin()
        user_id = form_user(body)
        view_id = view.get("id")
        key = declaration_key("form", view_id) if isinstance(view_id, str) and view_id else None
        requester = Requester(user_id, origin.channel_id)
        reply = await _declare(services, declaration, requester, key)
        # The form turns into the "declaring" note: no extra Slack call, nothing to wait for.
        await ack(response_action="update", view=declaring_view(reply))

    app.view(CallbackId.DECLARE_MODAL.value)(on_form_submitted)
