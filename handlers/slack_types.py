"""The pieces every typed Slack payload is built from: storable text and ids of a known kind.

- Text: every string a payload model reads is made storable as it arrives
  (:mod:`bot.domain.text`: NUL and lone surrogates become U+FFFD), and the model remembers
  that it had to (:meth:`SlackPayload.had_unstorable_text`), so whoever stores it can say so.
- Ids: Slack's ids say what they name by their first letter (``U``/``W`` a user, ``C``/``G``/
  ``D`` a conversation, ``T`` a team, ...). An id of the wrong kind, a channel where a user
  belongs, is not something Slack sends: the payload is refused as malformed.
- ``response_url``: only an http(s) address with a host is one Klaxon will ever post to.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from bot.domain.text import is_storable, storable

# Slack ids are a kind letter and upper-case letters and digits; 32 is the columns' width.
_ID_BODY = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
MAX_ID = 32


def is_id(value: object, letters: str) -> bool:
    """Whether ``value`` is a Slack id of a kind starting with one of ``letters``."""
    return (
        isinstance(value, str)
        and 2 <= len(value) <= MAX_ID
        and value[0] in letters
        and _ID_BODY.issuperset(value[1:])
    )


def _id_of(kind: str, letters: str) -> AfterValidator:
    def check(value: str) -> str:
        if not is_id(value, letters):
            raise ValueError(f"not a {kind} id ({'/'.join(letters)}...)")
        return value

    return AfterValidator(check)


def _blank_is_none(value: Any) -> Any:
    return None if value == "" else value


USER_LETTERS = "UW"
UserId = Annotated[str, _id_of("user", USER_LETTERS)]
ChannelId = Annotated[str, _id_of("channel", "CGD")]
TeamId = Annotated[str, _id_of("team", "T")]
EnterpriseId = Annotated[str, _id_of("enterprise", "E")]
FileId = Annotated[str, _id_of("file", "F")]
UsergroupId = Annotated[str, _id_of("user group", "S")]
BotId = Annotated[str, _id_of("bot", "B")]
AppId = Annotated[str, _id_of("app", "A")]
ViewId = Annotated[str, _id_of("view", "V")]
# Slack blanks absent values as "" as often as it leaves them out.
OptionalUserId = Annotated[UserId | None, BeforeValidator(_blank_is_none)]
OptionalChannelId = Annotated[ChannelId | None, BeforeValidator(_blank_is_none)]
OptionalBotId = Annotated[BotId | None, BeforeValidator(_blank_is_none)]
OptionalAppId = Annotated[AppId | None, BeforeValidator(_blank_is_none)]
OptionalTeamId = Annotated[TeamId | None, BeforeValidator(_blank_is_none)]


def is_response_url(value: object) -> bool:
    """Whether ``value`` is an address Klaxon may post an answer to."""
    if not isinstance(value, str) or len(value) > 2000:
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in {"https", "http"} and bool(parts.hostname)


def _response_url(value: str) -> str:
    if not is_response_url(value):
        raise ValueError("response_url is not an http(s) address")
    return value


ResponseUrl = Annotated[str, AfterValidator(_response_url)]
OptionalResponseUrl = Annotated[ResponseUrl | None, BeforeValidator(_blank_is_none)]


_REPLACED = "unstorable_replaced"


class SlackPayload(BaseModel):
    """A typed view of (part of) a Slack payload: unknown fields ignored, text storable."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    # The fields that can hold other payload models, found once per class.
    _nested: ClassVar[tuple[str, ...]] = ()
    # Set by validation only (a payload that sends it has it removed): some of this model's
    # own text had to be replaced. A field, not a private attribute: on the hot path of every
    # channel event, pydantic's private-attribute set-up cost more than the check itself.
    unstorable_replaced: bool = Field(default=False, exclude=True, repr=False)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._nested = tuple(
            name for name, field in cls.model_fields.items() if _mentions_payload(field.annotation)
        )

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        # Only this model's own text fields: nested objects are models that clean their own,
        # and fields it ignores are never stored. One search over them all is the fast path.
        if not isinstance(data, dict):
            return data
        if _REPLACED in data:
            data = {key: value for key, value in data.items() if key != _REPLACED}
        names = [name for name in cls.model_fields if type(data.get(name)) is str]
        if is_storable("".join([data[name] for name in names])):
            return data
        return {**data, **{name: storable(data[name]) for name in names}, _REPLACED: True}

    def had_unstorable_text(self) -> bool:
        """Whether any text in this payload (nested parts included) had to be replaced."""
        if self.unstorable_replaced:
            return True
        for name in self._nested:
            value = getattr(self, name)
            parts = value if isinstance(value, list | tuple) else (value,)
            if any(isinstance(p, SlackPayload) and p.had_unstorable_text() for p in parts):
                return True
        return False


def _mentions_payload(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, SlackPayload):
        return True
    return any(_mentions_payload(arg) for arg in get_args(annotation))


def reason(error: ValidationError) -> str:
    """What was wrong, by field, without echoing the values (they may be anything at all)."""
    problems = []
    for problem in error.errors()[:3]:
        where = ".".join(str(part) for part in problem["loc"]) or "the payload"
        message = str(problem["msg"]).removeprefix("Value error, ")
        problems.append(f"{where}: {message}"[:200])
    return "; ".join(problems)
