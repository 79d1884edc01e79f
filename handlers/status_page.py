"""Slack listeners of the public status page: the card's button, ``/incident public``, the
war room's "Post public resolution" button and the form they all open.

A first post opens "Publish to status page", later ones "Update status page", the button
posted on resolve "Post public resolution"; each is prefilled (bot.status_page.flows).
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.config import COMPONENT_STATUSES
from bot.domain.incident import Incident
from bot.errors import InvalidInput, SlackUnavailable
from bot.ids import ActionId, BlockId, CallbackId
from bot.incidents import flows
from bot.services import Services
from bot.status_page import flows as status_flows
from bot.status_page.domain import PublicStatus, PublishDraft, draft_problems
from handlers.errors import explain
from handlers.forms import open_form
from handlers.payloads import (
    BlockActions,
    IncidentForm,
    SlashCommand,
    form_metadata,
    form_user,
    form_values,
    parse,
    view_value,
)
from message_templates.status_page import FormKind, status_page_form

logger = logging.getLogger(__name__)

_FIELD_BLOCKS = {
    "title": BlockId.STATUS_PAGE_TITLE.value,
    "body": BlockId.STATUS_PAGE_BODY.value,
    "status": BlockId.STATUS_PAGE_STATUS.value,
}


async def _open(
    services: Services,
    incident: Incident,
    kind: FormKind,
    *,
    trigger_id: str | None,
    response_url: str | None,
    channel_id: str | None,
) -> None:
    page = status_flows.page_of(services)
    public = await page.published(incident.id)
    if kind is FormKind.RESOLUTION and public is None:
        raise InvalidInput(f"*{incident.public_id}* was never published to the status page.")
    if kind is FormKind.PUBLISH and public is not None:
        kind = FormKind.UPDATE
    draft = status_flows.form_for(page, incident, public, kind)
    metadata = IncidentForm(incident=incident.public_id, channel_id=channel_id)
    view = status_page_form(
        kind,
        incident,
        draft,
        page.settings.components,
        private_metadata=metadata.model_dump_json(),
    )
    open_form(services, trigger_id, view, response_url=response_url, name="open status page form")


async def public_command(ack: AsyncAck, services: Services, request: SlashCommand) -> None:
    """``/incident public`` in a war room: the publish (or update) form."""
    status_flows.page_of(services)
    incident = await flows.incident_in_channel(services, request.channel_id)
    await _open(
        services,
        incident,
        FormKind.PUBLISH,
        trigger_id=request.trigger_id,
        response_url=request.response_url,
        channel_id=request.channel_id,
    )
    await ack()


async def _press(services: Services, press: BlockActions, kind: FormKind) -> None:
    action = press.actions[0]
    try:
        incident = await flows.incident_on_card(services, action.value)
        await _open(
            services,
            incident,
            kind,
            trigger_id=press.trigger_id,
            response_url=press.response_url,
            channel_id=press.channel.id if press.channel else None,
        )
    except Exception as exc:  # acknowledged already: answer privately like the card does
        note = explain(exc)
        if press.response_url:
            try:
                await services.slack.respond(
                    press.response_url,
                    {"response_type": "ephemeral", "replace_original": False, "text": note},
                )
            except SlackUnavailable as again:
                logger.warning("could not answer a status page press: %s", again)


def _draft(view: dict[str, Any], services: Services) -> tuple[PublishDraft, dict[str, str]]:
    values = form_values(view)
    errors: dict[str, str] = {}
    status_word = view_value(values, BlockId.STATUS_PAGE_STATUS, ActionId.STATUS_PAGE_STATUS)
    try:
        status = PublicStatus(status_word)
    except ValueError:
        errors[BlockId.STATUS_PAGE_STATUS.value] = "Choose a status from the list."
        status = PublicStatus.INVESTIGATING
    components: dict[str, str] = {}
    page = status_flows.page_of(services)
    for component in page.settings.components:
        block = BlockId.STATUS_PAGE_COMPONENT.value + component.id
        chosen = view_value(values, block, ActionId.STATUS_PAGE_COMPONENT)
        if chosen in COMPONENT_STATUSES:
            components[component.id] = chosen
    draft = PublishDraft(
        title=view_value(values, BlockId.STATUS_PAGE_TITLE, ActionId.STATUS_PAGE_TITLE).strip(),
        status=status,
        body=view_value(values, BlockId.STATUS_PAGE_BODY, ActionId.STATUS_PAGE_BODY).strip(),
        components=components,
    )
    for field, problem in draft_problems(draft, page.settings.components).items():
        block = (
            _FIELD_BLOCKS.get(field)
            or BlockId.STATUS_PAGE_COMPONENT.value + field.split(":", 1)[-1]
        )
        errors[block] = problem
    return draft, errors


def register(app: AsyncApp, services: Services) -> None:
    async def on_publish(ack: AsyncAck, body: dict[str, Any]) -> None:
        press = parse(BlockActions, body)
        await ack()
        if press.actions:
            services.tasks.spawn(
                _press(services, press, FormKind.PUBLISH), name="status page button"
            )

    async def on_resolution(ack: AsyncAck, body: dict[str, Any]) -> None:
        press = parse(BlockActions, body)
        await ack()
        if press.actions:
            services.tasks.spawn(
                _press(services, press, FormKind.RESOLUTION), name="public resolution button"
            )

    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        draft, errors = _draft(view, services)
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        try:
            form = IncidentForm.model_validate_json(form_metadata(view))
        except ValidationError:
            raise InvalidInput("This form lost track of its incident; open it again.") from None
        user = form_user(body)
        incident = await flows.incident_on_card(services, form.incident)
        await status_flows.publish(services, incident, user, draft)
        await ack()

    app.action(ActionId.PUBLISH_STATUS_PAGE.value)(on_publish)
    app.action(ActionId.POST_PUBLIC_RESOLUTION.value)(on_resolution)
    app.view(CallbackId.STATUS_PAGE_MODAL.value)(on_submit)
