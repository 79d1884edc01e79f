"""Typed views of the Slack payloads Klaxon reads, so services never see a Slack dict.

Unknown fields are ignored; a payload missing what Klaxon needs raises
:class:`~bot.errors.InvalidInput`, which the error handler answers instead of a 500.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from bot.errors import InvalidInput
from handlers.event_payloads import OptionalId, OptionalTs, SlackId, Ts

Model = TypeVar("Model", bound=BaseModel)
# NUL cannot be stored by PostgreSQL and a lone surrogate is not UTF-8; neither is something a
# person typed, so both are dropped from user text as it arrives.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def clean_text(text: str) -> str:
    return _UNSTORABLE.sub("", text)


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SlashCommand(_Payload):
    user_id: SlackId
    channel_id: SlackId
    text: str = ""
    response_url: str | None = None
    trigger_id: str | None = None

    @field_validator("text")
    @classmethod
    def _storable(cls, text: str) -> str:
        return clean_text(text)


class ActionUser(_Payload):
    id: SlackId


class SelectedOption(_Payload):
    value: str


class Action(_Payload):
    action_id: str
    value: str | None = None
    selected_option: SelectedOption | None = None
    selected_user: str | None = None


class ActionChannel(_Payload):
    id: SlackId


class BlockActions(_Payload):
    user: ActionUser
    actions: list[Action]
    response_url: str | None = None
    trigger_id: str | None = None
    channel: ActionChannel | None = None


class IncidentForm(_Payload):
    """Carried through a lifecycle form in ``private_metadata``: which incident, from where."""

    incident: str
    channel_id: str | None = None


class DeclareOrigin(_Payload):
    """Carried through the declare form in ``private_metadata``: where it was opened from."""

    channel_id: str | None = None


def parse(model: type[Model], payload: Any) -> Model:
    try:
        return model.model_validate(payload)
    except ValidationError:
        raise InvalidInput(
            "Slack sent Klaxon a request it could not read; please try again."
        ) from None


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return clean_text(value) if isinstance(value, str) else ""


def form_values(view: Any) -> dict[str, Any]:
    """A submitted form's ``state.values`` ({} when Slack sent none, or something else)."""
    return _object(_object(_object(view).get("state")).get("values"))


def form_metadata(view: Any) -> str:
    """The ``private_metadata`` Klaxon put in the form ("" when missing or not text)."""
    return _text(_object(view).get("private_metadata"))


def form_user(body: Any) -> str:
    """Who submitted the form; raises :class:`InvalidInput` when Slack did not say."""
    user = _object(_object(body).get("user")).get("id")
    if not isinstance(user, str) or not 0 < len(user) <= 32:
        raise InvalidInput("Slack did not say who submitted the form; try again.")
    return user


def view_value(values: dict[str, Any], block: str, action: str) -> str:
    """What the user entered or picked in one input of a submitted form ("" when nothing or
    when the input holds something other than text)."""
    element = _object(_object(values.get(block)).get(action))
    if "selected_option" in element:
        return _text(_object(element.get("selected_option")).get("value"))
    if "selected_user" in element:
        return _text(element.get("selected_user"))
    return _text(element.get("value"))


# -- the "Add to incident timeline" shortcut (samples/app-backend/MessageShortcutPayload.json)


class ShortcutMessage(_Payload):
    ts: Ts
    text: str | None = ""
    user: OptionalId = None
    bot_id: OptionalId = None
    thread_ts: OptionalTs = None


class ShortcutChannel(_Payload):
    id: SlackId


class ShortcutTeam(_Payload):
    domain: str | None = None


class MessageShortcut(_Payload):
    trigger_id: str
    user: ActionUser
    channel: ShortcutChannel
    message: ShortcutMessage
    response_url: str | None = None
    team: ShortcutTeam | None = None


class PickedMessageMetadata(_Payload):
    """The message being added, carried through the form in ``private_metadata``."""

    channel_id: SlackId
    ts: Ts
    text: str = ""
    author: OptionalId = None
    is_bot: bool = False
    thread_ts: OptionalTs = None
    permalink: str | None = None
