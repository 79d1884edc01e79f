"""Typed views of the Slack payloads Klaxon reads, so services never see a Slack dict.

Unknown fields are ignored; a payload missing what Klaxon needs raises
:class:`~bot.errors.InvalidInput`, which the error handler answers instead of a 500.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.errors import InvalidInput

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
