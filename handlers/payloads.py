"""Typed views of the Slack payloads Klaxon reads, so services never see a Slack dict.

Unknown fields are ignored; every text field is made storable and every id is checked by its
kind (:mod:`handlers.slack_types`). A payload missing what Klaxon needs, or with an id of the
wrong kind, raises :class:`~bot.errors.InvalidInput` naming the field, which the error handler
answers instead of a 500, and logs one WARNING line.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.domain.text import is_storable, storable
from bot.errors import InvalidInput
from handlers.event_payloads import OptionalId, OptionalTs, Ts
from handlers.slack_types import (
    ChannelId,
    OptionalBotId,
    OptionalChannelId,
    OptionalResponseUrl,
    OptionalTeamId,
    OptionalUserId,
    SlackPayload,
    TeamId,
    UserId,
    ViewId,
    reason,
)

logger = logging.getLogger(__name__)

Model = TypeVar("Model", bound=BaseModel)
_Payload = SlackPayload


class SlashCommand(_Payload):
    user_id: UserId
    channel_id: ChannelId
    team_id: OptionalTeamId = None
    text: str = ""
    response_url: OptionalResponseUrl = None
    trigger_id: str | None = None


class ActionUser(_Payload):
    id: UserId


class SelectedOption(_Payload):
    value: str


class Action(_Payload):
    action_id: str
    value: str | None = None
    selected_option: SelectedOption | None = None
    selected_user: OptionalUserId = None


class ActionChannel(_Payload):
    id: ChannelId


class PayloadTeam(_Payload):
    id: TeamId
    domain: str | None = None


class PayloadView(_Payload):
    id: ViewId


class BlockActions(_Payload):
    user: ActionUser
    actions: list[Action]
    response_url: OptionalResponseUrl = None
    trigger_id: str | None = None
    channel: ActionChannel | None = None
    team: PayloadTeam | None = None
    view: PayloadView | None = None


class IncidentForm(_Payload):
    """Carried through a lifecycle form in ``private_metadata``: which incident, from where."""

    incident: str
    channel_id: OptionalChannelId = None


class DeclareOrigin(_Payload):
    """Carried through the declare form in ``private_metadata``: where it was opened from."""

    channel_id: OptionalChannelId = None


def parse(model: type[Model], payload: Any) -> Model:
    """``payload`` as ``model``, or :class:`InvalidInput` saying what was wrong with it."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        why = reason(exc)
        logger.warning("refused a malformed %s payload: %s", model.__name__, why)
        raise InvalidInput(
            f"Slack sent Klaxon a request it could not read ({why}); please try again."
        ) from None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return storable(value) if isinstance(value, str) else ""


def form_values(view: Any) -> dict[str, Any]:
    """A submitted form's ``state.values`` ({} when Slack sent none, or something else)."""
    return _object(_object(_object(view).get("state")).get("values"))


def form_metadata(view: Any) -> str:
    """The ``private_metadata`` Klaxon put in the form ("" when missing or not text)."""
    return _text(_object(view).get("private_metadata"))


def form_user(body: Any) -> str:
    """Who submitted the form; raises :class:`InvalidInput` when Slack did not say."""
    try:
        return ActionUser.model_validate(_object(body).get("user")).id
    except ValidationError as exc:
        why = reason(exc)
        logger.warning("refused a form submission: its user %s", why)
        raise InvalidInput(
            f"Slack did not say who submitted the form ({why}); try again."
        ) from None


def _raw_value(values: dict[str, Any], block: str, action: str) -> Any:
    element = _object(_object(values.get(block)).get(action))
    if "selected_option" in element:
        return _object(element.get("selected_option")).get("value")
    if "selected_user" in element:
        return element.get("selected_user")
    return element.get("value")


def view_value(values: dict[str, Any], block: str, action: str) -> str:
    """What the user entered or picked in one input of a submitted form ("" when nothing or
    when the input holds something other than text)."""
    return _text(_raw_value(values, block, action))


def form_had_unstorable_text(values: dict[str, Any]) -> bool:
    """Whether any answer in a submitted form held text that had to be replaced."""
    return any(
        isinstance(raw, str) and not is_storable(raw)
        for block, actions in values.items()
        if isinstance(actions, dict)
        for action in actions
        for raw in (_raw_value(values, block, action),)
    )


# -- the "Add to incident timeline" shortcut (samples/app-backend/MessageShortcutPayload.json)


class ShortcutMessage(_Payload):
    ts: Ts
    text: str | None = ""
    user: OptionalUserId = None
    bot_id: OptionalBotId = None
    thread_ts: OptionalTs = None


class ShortcutTeam(_Payload):
    id: OptionalTeamId = None
    domain: str | None = None


class MessageShortcut(_Payload):
    trigger_id: str
    user: ActionUser
    channel: ActionChannel
    message: ShortcutMessage
    response_url: OptionalResponseUrl = None
    team: ShortcutTeam | None = None


class PickedMessageMetadata(_Payload):
    """The message being added, carried through the form in ``private_metadata``."""

    channel_id: ChannelId
    ts: Ts
    text: str = ""
    author: OptionalId = None
    is_bot: bool = False
    thread_ts: OptionalTs = None
    permalink: str | None = None
    # The message's text had characters that could not be stored, replaced with U+FFFD.
    replaced: bool = False
