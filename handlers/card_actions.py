"""The incident card's controls: buttons, the severity select and the commander picker.

A press answers privately through the action's ``response_url``; what changed shows on the
card itself. A press on a stale card (the incident resolved meanwhile, or unknown) gets a
clear answer and brings the card up to date.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.domain.incident import Incident, IncidentRole
from bot.domain.lifecycle import parse_user
from bot.domain.permissions import GuardedAction
from bot.errors import InvalidInput
from bot.ids import CARD_BUTTONS, ActionId
from bot.incidents import flows
from bot.services import Services
from handlers.answers import answer_later, ephemeral
from handlers.errors import explain
from handlers.forms import open_form
from handlers.payloads import Action, BlockActions, IncidentForm, parse
from message_templates.lifecycle_forms import resolve_modal, role_modal, update_modal

_CARD_ACTION = re.compile("^(?:" + "|".join(re.escape(a.value) for a in CARD_BUTTONS) + ")$")
# Controls whose own value does not name the incident: it is found by the card's channel.
_SELECTS = frozenset({ActionId.CHANGE_SEVERITY, ActionId.PICK_COMMANDER})


async def _incident(services: Services, press: BlockActions, action: Action) -> Incident:
    if ActionId(action.action_id) in _SELECTS:
        if press.channel is None:
            raise InvalidInput("Slack did not say which channel this card is in; try again.")
        return await flows.incident_in_channel(services, press.channel.id)
    return await flows.incident_on_card(services, action.value)


def _answer(services: Services, press: BlockActions, text: str) -> None:
    answer_later(services, press.response_url, ephemeral(text), what="answer a card press")


def _open_form(services: Services, press: BlockActions, view: dict[str, Any]) -> None:
    if not press.trigger_id:
        raise InvalidInput("Slack sent no trigger to open the form; press the button again.")
    open_form(
        services,
        press.trigger_id,
        view,
        response_url=press.response_url,
        name="open a card form",
    )


async def _on_action(services: Services, press: BlockActions, action: Action) -> str | None:
    """Do what the control asks; the note to show the presser, or None when a form opened."""
    incident = await _incident(services, press, action)
    user = press.user.id
    metadata = IncidentForm(
        incident=incident.public_id, channel_id=press.channel.id if press.channel else None
    ).model_dump_json()
    kind = ActionId(action.action_id)
    if kind is ActionId.ACKNOWLEDGE:
        return (await flows.acknowledge(services, incident, user)).note
    if kind is ActionId.RESOLVE:
        if not incident.status.is_open:
            return (await flows.resolve(services, incident, user)).note
        await flows.require(services, incident, user, GuardedAction.RESOLVE)
        _open_form(services, press, resolve_modal(incident, private_metadata=metadata))
        return None
    if kind is ActionId.REOPEN:
        return (await flows.reopen(services, incident, user)).note
    if kind is ActionId.POST_UPDATE:
        if not incident.status.is_open:
            return f"*{incident.public_id}* is {incident.status.value}; reopen it to post updates."
        _open_form(services, press, update_modal(incident, private_metadata=metadata))
        return None
    if kind is ActionId.ASSIGN_ROLE:
        _open_form(services, press, role_modal(incident, private_metadata=metadata))
        return None
    if kind is ActionId.CHANGE_SEVERITY:
        if action.selected_option is None:
            raise InvalidInput("Pick a severity from the list.")
        chosen = action.selected_option.value
        return (await flows.change_severity(services, incident, user, chosen)).note
    assert kind is ActionId.PICK_COMMANDER
    if not action.selected_user:
        raise InvalidInput("Pick the person who will be Incident Commander.")
    commander = parse_user(action.selected_user)
    outcome = await flows.assign_role(
        services, incident, user, IncidentRole.COMMANDER, commander, handoff=True
    )
    return outcome.note


async def _press(services: Services, press: BlockActions, action: Action) -> None:
    try:
        async with services.press_slots:
            note = await _on_action(services, press, action)
    except Exception as exc:  # the press was acknowledged already: answer like Bolt's handler
        note = explain(exc)
    if note:
        _answer(services, press, note)


def register(app: AsyncApp, services: Services) -> None:
    async def on_card_control(ack: AsyncAck, body: dict[str, Any]) -> None:
        press = parse(BlockActions, body)
        await ack()
        if not press.actions:
            return
        # Bolt answers Slack only once this listener returns (process_before_response), so
        # the change itself, a transaction and its Slack calls, runs after the answer.
        services.tasks.spawn(
            _press(services, press, press.actions[0]),
            name=f"card press {press.actions[0].action_id}",
        )

    app.action(_CARD_ACTION)(on_card_control)
