"""Controls after the all-clear: action item buttons on ``/incident actions``, the post-mortem
buttons and form, Close now / Keep monitoring, and the post-incident checklist.

Each press is acknowledged at once; the change runs in the background and the presser is
answered privately through the action's ``response_url``.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.clock import utcnow
from bot.domain.action_items import ItemChange, ItemVerb
from bot.domain.lifecycle import parse_user
from bot.errors import InvalidInput, SlackUnavailable
from bot.follow_up import action_items, checklist, closing, postmortem
from bot.ids import ActionId, BlockId, CallbackId
from bot.incidents import flows
from bot.services import Services
from handlers.errors import explain
from handlers.forms import open_form
from handlers.payloads import (
    IncidentForm,
    form_metadata,
    form_user,
    form_values,
    parse,
    view_value,
)
from message_templates.follow_up import postmortem_done_modal

logger = logging.getLogger(__name__)

_ITEM_BLOCK = re.compile(r"^action_item:(INC-\d{8}-\d{3,9}):(\d{1,6})$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _User(_Model):
    id: str


class _Control(_Model):
    action_id: str
    block_id: str = ""
    value: str | None = None
    selected_user: str | None = None
    selected_date: str | None = None


class _Channel(_Model):
    id: str


class _Container(_Model):
    message_ts: str | None = None
    channel_id: str | None = None


class Press(_Model):
    """A block action on one of these controls: what Klaxon reads of it."""

    user: _User
    actions: list[_Control]
    response_url: str | None = None
    trigger_id: str | None = None
    channel: _Channel | None = None
    container: _Container | None = None


def answer(services: Services, press: Press, text: str) -> None:
    if not press.response_url:
        return
    services.tasks.spawn(
        services.slack.respond(
            press.response_url,
            {"response_type": "ephemeral", "replace_original": False, "text": text},
        ),
        name="answer a follow-up press",
    )


def _item_change(control: _Control) -> tuple[str, ItemChange]:
    match = _ITEM_BLOCK.match(control.block_id)
    if match is None:
        raise InvalidInput("This button does not say which action item it is for.")
    public_id, number = match.group(1), int(match.group(2))
    kind = ActionId(control.action_id)
    if kind is ActionId.ACTION_ITEM_DONE:
        return public_id, ItemChange(ItemVerb.DONE, number)
    if kind is ActionId.ACTION_ITEM_REOPEN:
        return public_id, ItemChange(ItemVerb.REOPEN, number)
    if kind is ActionId.ACTION_ITEM_OWNER:
        return public_id, ItemChange(ItemVerb.OWNER, number, owner=control.selected_user)
    picked = control.selected_date
    try:
        due = date.fromisoformat(picked) if picked else None
    except ValueError:
        raise InvalidInput(f"{picked!r} is not a date.") from None
    return public_id, ItemChange(ItemVerb.DUE, number, due=due)


async def _on_item(services: Services, press: Press, control: _Control) -> str:
    public_id, change = _item_change(control)
    incident = await flows.incident_on_card(services, public_id)
    outcome = await action_items.change_item(services, incident, press.user.id, change, utcnow())
    return outcome.note


async def _on_other(services: Services, press: Press, control: _Control) -> str | None:
    """The post-mortem controls, the stability question's answers, checklist ticks."""
    kind = ActionId(control.action_id)
    user = press.user.id
    if kind is ActionId.POSTMORTEM_OWNER:
        if press.channel is None or not control.selected_user:
            raise InvalidInput("Pick the person who will own the post-mortem.")
        incident = await flows.incident_in_channel(services, press.channel.id)
        owner = parse_user(control.selected_user)
        return await postmortem.set_owner(services, incident, user, owner, utcnow())
    if kind is ActionId.CHECKLIST_TICK:
        public_id, _, item = (control.value or "").partition(":")
        incident = await flows.incident_on_card(services, public_id)
        where = press.container
        message = (
            (where.channel_id, where.message_ts)
            if where and where.channel_id and where.message_ts
            else None
        )
        return await checklist.tick(services, incident, item, user, utcnow(), message)
    incident = await flows.incident_on_card(services, control.value)
    if kind is ActionId.POSTMORTEM_DONE:
        if not press.trigger_id:
            raise InvalidInput("Slack sent no trigger to open the form; press the button again.")
        metadata = IncidentForm(
            incident=incident.public_id, channel_id=press.channel.id if press.channel else None
        ).model_dump_json()
        open_form(
            services,
            press.trigger_id,
            postmortem_done_modal(incident, metadata),
            response_url=press.response_url,
            name="open the post-mortem form",
        )
        return None
    if kind is ActionId.STABILITY_CLOSE:
        return await closing.close_now(services, incident, user)
    assert kind is ActionId.STABILITY_KEEP
    return await closing.keep_monitoring(services, incident, user)


async def _carry_out(services: Services, press: Press) -> None:
    control = press.actions[0]
    try:
        if _ITEM_CONTROLS.match(control.action_id):
            note: str | None = await _on_item(services, press, control)
        else:
            note = await _on_other(services, press, control)
    except Exception as exc:  # acknowledged already: answer like Bolt's error handler
        note = explain(exc)
    if note:
        answer(services, press, note)


_ITEM_CONTROLS = re.compile(
    "^(?:"
    + "|".join(
        re.escape(a.value)
        for a in (
            ActionId.ACTION_ITEM_DONE,
            ActionId.ACTION_ITEM_REOPEN,
            ActionId.ACTION_ITEM_OWNER,
            ActionId.ACTION_ITEM_DUE,
        )
    )
    + ")$"
)


_OTHER_CONTROLS = re.compile(
    "^(?:"
    + "|".join(
        re.escape(a.value)
        for a in (
            ActionId.POSTMORTEM_OWNER,
            ActionId.POSTMORTEM_DONE,
            ActionId.STABILITY_CLOSE,
            ActionId.STABILITY_KEEP,
            ActionId.CHECKLIST_TICK,
        )
    )
    + ")$"
)


async def _submit_held(services: Services, form: IncidentForm, user: str, link: str) -> None:
    try:
        incident = await flows.incident_on_card(services, form.incident)
        note = await postmortem.mark_held(services, incident, user, link, utcnow())
    except Exception as exc:
        note = explain(exc)
    if form.channel_id:
        try:
            await services.slack.post_ephemeral(form.channel_id, user, note)
        except SlackUnavailable as exc:
            logger.warning("could not tell %s about their form: %s", user, exc)


def register(app: AsyncApp, services: Services) -> None:
    async def on_control(ack: AsyncAck, body: dict[str, Any]) -> None:
        press = parse(Press, body)
        await ack()
        if press.actions:
            services.tasks.spawn(_carry_out(services, press), name="follow-up control")

    async def on_held_form(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        values = form_values(view)
        link = view_value(
            values, BlockId.POSTMORTEM_LINK.value, ActionId.POSTMORTEM_LINK.value
        ).strip()
        try:
            link = postmortem.check_link(link)
        except InvalidInput as exc:
            await ack(response_action="errors", errors={BlockId.POSTMORTEM_LINK.value: str(exc)})
            return
        try:
            form = IncidentForm.model_validate_json(form_metadata(view))
        except ValidationError:
            raise InvalidInput("This form lost track of its incident; open it again.") from None
        await ack()
        services.tasks.spawn(
            _submit_held(services, form, form_user(body), link), name="post-mortem held"
        )

    app.action(_ITEM_CONTROLS)(on_control)
    app.action(_OTHER_CONTROLS)(on_control)
    app.view(CallbackId.POSTMORTEM_DONE_MODAL.value)(on_held_form)
