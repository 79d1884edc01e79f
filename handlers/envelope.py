"""The shape every Slack request must have before Bolt routes it, checked by type.

Bolt reads who and where a request is about before any listener runs (its ``extract_*``
helpers: ``event.user``, ``event.channel``, ``event.team``, ``event.enterprise``,
``authorizations``) and raises on a number or a boolean there. Such a payload is refused here,
with the field that was wrong, instead of reaching the server's catch-all. The request guard
checks the top-level objects (:func:`bot.request_guard.malformed`); what each listener reads,
ids by kind included, its own typed payload checks (:mod:`handlers.payloads`,
:mod:`handlers.event_payloads`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    PlainValidator,
    StrictBool,
    StrictStr,
    ValidationError,
)

from handlers.slack_types import reason


def _id_or_object(value: Any) -> Any:
    if value is None or isinstance(value, str | dict):
        return value
    raise ValueError(f"neither an id nor an object but {type(value).__name__}")


_IdOrObject = Annotated[Any, PlainValidator(_id_or_object)]


class _Routable(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Authorization(_Routable):
    enterprise_id: StrictStr | None = None
    team_id: StrictStr | None = None
    user_id: StrictStr | None = None
    is_enterprise_install: StrictBool | None = None


class _EventRefs(_Routable):
    type: StrictStr | None = None
    user: _IdOrObject = None
    channel: _IdOrObject = None
    team: _IdOrObject = None
    enterprise: _IdOrObject = None


class _Envelope(_Routable):
    event: _EventRefs | None = None
    authorizations: list[_Authorization] | None = None


def routing_problem(body: Mapping[str, Any]) -> str | None:
    """Why Bolt could not route ``body`` (the field and what is wrong), or None."""
    if "event" not in body and "authorizations" not in body:
        return None
    try:
        _Envelope.model_validate(body)
    except ValidationError as exc:
        return reason(exc)
    return None
