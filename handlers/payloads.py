"""Typed views of the Slack payloads Klaxon reads, so services never see a Slack dict.

Unknown fields are ignored; a payload missing what Klaxon needs raises
:class:`~bot.errors.InvalidInput`, which the error handler answers instead of a 500.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.errors import InvalidInput
from handlers.event_payloads import OptionalId, OptionalTs, SlackId, Ts

Model = TypeVar("Model", bound=BaseModel)


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class SlashCommand(_Payload):
    user_id: str
    channel_id: str
    text: str = ""
    response_url: str | None = None
    trigger_id: str | None = None


class ActionUser(_Payload):
    id: str


class Action(_Payload):
    action_id: str
    value: str | None = None


class BlockActions(_Payload):
    user: ActionUser
    actions: list[Action]
    response_url: str | None = None
    trigger_id: str | None = None


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
