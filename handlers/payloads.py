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


class SelectedOption(_Payload):
    value: str


class Action(_Payload):
    action_id: str
    value: str | None = None
    selected_option: SelectedOption | None = None
    selected_user: str | None = None


class ActionChannel(_Payload):
    id: str


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


def view_value(values: dict[str, Any], block: str, action: str) -> str:
    """What the user entered or picked in one input of a submitted form ("" when nothing)."""
    element = (values.get(block) or {}).get(action) or {}
    if not isinstance(element, dict):
        return ""
    if "selected_option" in element:
        return str((element.get("selected_option") or {}).get("value") or "")
    if "selected_user" in element:
        return str(element.get("selected_user") or "")
    return str(element.get("value") or "")
