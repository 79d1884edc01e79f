"""Submissions of the resolve, post-update and assign-role forms.

A form with a missing or malformed answer stays open with the problem shown under the field;
a form that worked closes, and its outcome is told privately in the channel it came from.
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.incident import IncidentRole, IncidentStatus
from bot.domain.lifecycle import parse_user
from bot.errors import InvalidInput, SlackUnavailable
from bot.ids import ActionId, BlockId, CallbackId
from bot.incidents import flows
from bot.incidents.lifecycle import MAX_SUMMARY, UpdateDraft
from bot.services import Services
from handlers.payloads import IncidentForm, form_metadata, form_user, form_values, view_value

logger = logging.getLogger(__name__)


def _form(view: dict[str, Any]) -> IncidentForm:
    try:
        return IncidentForm.model_validate_json(form_metadata(view))
    except ValidationError:
        raise InvalidInput("This form lost track of its incident; open it again.") from None


def _user(body: dict[str, Any]) -> str:
    return form_user(body)


def _values(view: dict[str, Any]) -> dict[str, Any]:
    return form_values(view)


def _get(values: dict[str, Any], block: BlockId, action: ActionId) -> str:
    return view_value(values, block.value, action.value).strip()


def _too_long(values: dict[str, Any], fields: dict[BlockId, ActionId]) -> dict[str, str]:
    return {
        block.value: f"Keep it under {MAX_SUMMARY:,} characters."
        for block, action in fields.items()
        if len(_get(values, block, action)) > MAX_SUMMARY
    }


async def _tell(services: Services, form: IncidentForm, user: str, note: str) -> None:
    if not form.channel_id:
        return
    try:
        await services.slack.post_ephemeral(form.channel_id, user, note)
    except SlackUnavailable as exc:
        logger.warning("could not tell %s about their form: %s", user, exc)


def _told(services: Services, form: IncidentForm, user: str, note: str) -> None:
    services.tasks.spawn(_tell(services, form, user, note), name="answer a form")


def register(app: AsyncApp, services: Services) -> None:
    async def on_resolve(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = _values(view)
        fields = {
            BlockId.RESOLVE_SUMMARY: ActionId.RESOLVE_SUMMARY,
            BlockId.RESOLVE_ROOT_CAUSE: ActionId.RESOLVE_ROOT_CAUSE,
        }
        errors = _too_long(values, fields)
        summary = _get(values, BlockId.RESOLVE_SUMMARY, ActionId.RESOLVE_SUMMARY)
        if not summary:
            errors[BlockId.RESOLVE_SUMMARY.value] = "Say in a sentence what fixed it."
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        form, user = _form(view), _user(body)
        incident = await flows.incident_on_card(services, form.incident)
        outcome = await flows.resolve(
            services,
            incident,
            user,
            summary=summary,
            root_cause=_get(values, BlockId.RESOLVE_ROOT_CAUSE, ActionId.RESOLVE_ROOT_CAUSE),
        )
        await ack()
        _told(services, form, user, outcome.note)

    async def on_update(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = _values(view)
        fields = {
            BlockId.UPDATE_SUMMARY: ActionId.UPDATE_SUMMARY,
            BlockId.UPDATE_IMPACT: ActionId.UPDATE_IMPACT,
            BlockId.UPDATE_WORKAROUND: ActionId.UPDATE_WORKAROUND,
            BlockId.UPDATE_NEXT_STEPS: ActionId.UPDATE_NEXT_STEPS,
            BlockId.UPDATE_ETA: ActionId.UPDATE_ETA,
        }
        errors = _too_long(values, fields)
        summary = _get(values, BlockId.UPDATE_SUMMARY, ActionId.UPDATE_SUMMARY)
        if not summary:
            errors[BlockId.UPDATE_SUMMARY.value] = "What is happening now?"
        status_word = _get(values, BlockId.UPDATE_STATUS, ActionId.UPDATE_STATUS)
        status: IncidentStatus | None = None
        if status_word:
            try:
                status = IncidentStatus(status_word)
            except ValueError:
                errors[BlockId.UPDATE_STATUS.value] = "Choose a status from the list."
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        form, user = _form(view), _user(body)
        incident = await flows.incident_on_card(services, form.incident)
        draft = UpdateDraft(
            summary=summary,
            status=status,
            impact=_get(values, BlockId.UPDATE_IMPACT, ActionId.UPDATE_IMPACT),
            workaround=_get(values, BlockId.UPDATE_WORKAROUND, ActionId.UPDATE_WORKAROUND),
            next_steps=_get(values, BlockId.UPDATE_NEXT_STEPS, ActionId.UPDATE_NEXT_STEPS),
            eta=_get(values, BlockId.UPDATE_ETA, ActionId.UPDATE_ETA),
        )
        outcome = await flows.post_update(services, incident, user, draft)
        await ack()
        _told(services, form, user, outcome.note)

    async def on_role(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = _values(view)
        errors: dict[str, str] = {}
        role_word = _get(values, BlockId.ROLE_ROLE, ActionId.ROLE_ROLE)
        assignee = _get(values, BlockId.ROLE_USER, ActionId.ROLE_USER)
        role: IncidentRole | None = None
        try:
            role = IncidentRole(role_word)
        except ValueError:
            errors[BlockId.ROLE_ROLE.value] = "Choose a role."
        try:
            assignee = parse_user(assignee)
        except InvalidInput:
            errors[BlockId.ROLE_USER.value] = "Choose the person."
        if errors or role is None:
            await ack(response_action="errors", errors=errors)
            return
        form, user = _form(view), _user(body)
        incident = await flows.incident_on_card(services, form.incident)
        outcome = await flows.assign_role(
            services, incident, user, role, assignee, handoff=role is IncidentRole.COMMANDER
        )
        await ack()
        _told(services, form, user, outcome.note)

    app.view(CallbackId.RESOLVE_MODAL.value)(on_resolve)
    app.view(CallbackId.UPDATE_MODAL.value)(on_update)
    app.view(CallbackId.ROLE_MODAL.value)(on_role)
