"""Controls after the all-clear: action item buttons on ``/incident actions``, the post-mortem
buttons and form, Close now / Keep monitoring, and the post-incident checklist.

Each press is acknowledged at once; the change runs in the background and the presser is
answered privately through the action's ``response_url``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict
from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.clock import utcnow
from bot.domain.action_items import ItemChange, ItemVerb
from bot.errors import InvalidInput
from bot.follow_up import action_items
from bot.ids import ActionId
from bot.incidents import flows
from bot.services import Services
from handlers.errors import explain
from handlers.payloads import parse

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


class Press(_Model):
    """A block action on one of these controls: what Klaxon reads of it."""

    user: _User
    actions: list[_Control]
    response_url: str | None = None
    trigger_id: str | None = None
    channel: _Channel | None = None


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


async def _carry_out(services: Services, press: Press) -> None:
    control = press.actions[0]
    try:
        note = await _on_item(services, press, control)
    except Exception as exc:  # acknowledged already: answer like Bolt's error handler
        note = explain(exc)
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


def register(app: AsyncApp, services: Services) -> None:
    async def on_item_control(ack: AsyncAck, body: dict[str, Any]) -> None:
        press = parse(Press, body)
        await ack()
        if press.actions:
            services.tasks.spawn(_carry_out(services, press), name="action item control")

    app.action(_ITEM_CONTROLS)(on_item_control)
