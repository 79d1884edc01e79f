"""The operator's settings file (TOML): severities, cadences, escalation, channels, permissions.

Every key has a built-in default (``bot/default_settings.toml``), so the file named by
``KLAXON_CONFIG`` only needs what differs. The operator's file is merged over the defaults
table by table, then validated as a whole; an unknown or invalid key raises
:class:`~bot.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from datetime import time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.durations import parse_duration
from bot.errors import ConfigError
from bot.oncall.rotation import Rotation
from bot.oncall.settings import ROTATION_NAME, ROTATION_PREFIX, RotationSettings, rotation_named

NEXT_BUSINESS_DAY = "next_business_day"
DEFAULT_SETTINGS = Path(__file__).with_name("default_settings.toml")

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_CHANNEL = re.compile(r"^(?:[CG][A-Z0-9]{2,}|#[a-z0-9_-]{1,80})$")
_SEVERITY_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,19}$")
_PATTERN_FIELDS = {"date", "number", "slug", "severity"}


def _as_written(value: object) -> object:
    """A bare number (TOML ``update_cadence = 15``) as the text it was, so it is refused like
    any other malformed duration: 15 seconds or 15 minutes would only be a guess."""
    if isinstance(value, int | float):  # bool is an int too
        return str(value).lower()
    return value


def _duration(value: object) -> object:
    value = _as_written(value)
    return parse_duration(value) if isinstance(value, str) else value


def _offset(value: object) -> object:
    value = _as_written(value)
    return parse_duration(value, allow_zero=True) if isinstance(value, str) else value


def _optional_cadence(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() in {"none", "off", ""}:
        return None
    return _duration(value)


def _ack_target(value: object) -> object:
    if isinstance(value, str) and value.strip().lower().replace("-", "_") == NEXT_BUSINESS_DAY:
        return NEXT_BUSINESS_DAY
    return _duration(value)


def _slack_target(value: str) -> str:
    if not (_USER_ID.match(value) or _USERGROUP_ID.match(value)):
        raise ValueError(
            f"{value!r} is not a Slack user id (U.../W...) or user group id (S...); "
            "find ids in Slack under the person's or group's profile, 'Copy member ID'"
        )
    return value


def _paged_target(value: str) -> str:
    """Who an escalation level or a severity's responders name: a user, a user group, or
    ``rotation:NAME``, whoever is on call in that rotation when it is used."""
    if value.startswith(ROTATION_PREFIX):
        return value
    return _slack_target(value)


def _channel(value: str) -> str:
    if not _CHANNEL.match(value):
        raise ValueError(f"{value!r} is not a channel id (C...) or a channel name like #incidents")
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone such as UTC or Europe/Paris") from exc
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]
Offset = Annotated[timedelta, BeforeValidator(_offset)]
Cadence = Annotated[timedelta | None, BeforeValidator(_optional_cadence)]
AckTarget = Annotated[timedelta | Literal["next_business_day"], BeforeValidator(_ack_target)]
SlackTarget = Annotated[str, AfterValidator(_slack_target)]
ChannelRef = Annotated[str, AfterValidator(_channel)]
PagedTarget = Annotated[str, AfterValidator(_paged_target)]

Principal = Literal["anyone", "declarer", "commander", "role_holders", "responders"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EscalationStep(_Strict):
    """Notify an escalation level once ``after`` has passed without an acknowledgement."""

    after: Offset
    notify: str = Field(description="name of a table in [escalation_levels]")


class Severity(_Strict):
    key: str = ""
    label: str = Field(min_length=1, max_length=60)
    description: str = Field(min_length=1, max_length=300)
    aliases: tuple[str, ...] = ()
    ack_target: AckTarget
    update_cadence: Cadence = None
    responders: tuple[PagedTarget, ...] = ()
    escalation: tuple[EscalationStep, ...] = ()

    @field_validator("aliases")
    @classmethod
    def _aliases_lowercase(cls, aliases: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(alias.strip().lower() for alias in aliases)

    @field_validator("escalation")
    @classmethod
    def _steps_in_order(cls, steps: tuple[EscalationStep, ...]) -> tuple[EscalationStep, ...]:
        offsets = [step.after for step in steps]
        if offsets != sorted(offsets):
            raise ValueError("escalation steps must be listed in order of 'after'")
        return steps


class Announcements(_Strict):
    channel: ChannelRef = "#incidents"


class WarRoom(_Strict):
    name_pattern: str = "inc-{date}-{number}-{slug}"
    private: bool = False
    archive_on_close: bool = False

    @field_validator("name_pattern")
    @classmethod
    def _known_placeholders(cls, pattern: str) -> str:
        used = set(re.findall(r"{(\w*)}", pattern))
        unknown = used - _PATTERN_FIELDS
        if unknown:
            raise ValueError(
                f"unknown placeholder {{{sorted(unknown)[0]}}}; use {{date}}, {{number}}, "
                "{slug} and {severity}"
            )
        if "number" not in used:
            raise ValueError("must contain {number} so that channel names are unique")
        return pattern


class BusinessHours(_Strict):
    """Defines "next business day" for acknowledgement targets such as SEV4's."""

    timezone: Annotated[str, AfterValidator(_timezone)] = "UTC"
    day_starts: time = time(9, 0)
    workdays: tuple[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], ...] = (
        "mon",
        "tue",
        "wed",
        "thu",
        "fri",
    )


class Permissions(_Strict):
    """Who may do what. Each list holds principals or Slack user / user group ids.

    Declaring, acknowledging, raising the severity, moving between open statuses, assigning
    roles and posting updates are open to anyone: at 3 a.m. nobody should wait for a grant.
    """

    # Resolving, reopening and closing.
    resolve: tuple[Principal | SlackTarget, ...] = ("commander", "declarer")
    # Lowering the severity; raising it is open to anyone.
    change_severity: tuple[Principal | SlackTarget, ...] = ("commander", "declarer")
    # Taking the Incident Commander role from the person who holds it (handoff).
    reassign_commander: tuple[Principal | SlackTarget, ...] = ("commander", "declarer")
    # May do everything above, on every incident.
    admins: tuple[SlackTarget, ...] = ()


class TemplateSettings(_Strict):
    """Where operators keep their own message templates (``<name>.toml``, same tables)."""

    directory: Path | None = None


class KlaxonConfig(_Strict):
    announcements: Announcements = Announcements()
    templates: TemplateSettings = TemplateSettings()
    war_room: WarRoom = WarRoom()
    business_hours: BusinessHours = BusinessHours()
    permissions: Permissions = Permissions()
    escalation_levels: dict[str, tuple[PagedTarget, ...]] = {}
    rotations: dict[str, RotationSettings] = {}
    severities: dict[str, Severity]

    @field_validator("severities", mode="before")
    @classmethod
    def _stamp_keys(cls, raw: object) -> object:
        if isinstance(raw, Mapping):
            return {
                key: {**value, "key": key} if isinstance(value, Mapping) else value
                for key, value in raw.items()
            }
        return raw

    @model_validator(mode="after")
    def _consistent(self) -> KlaxonConfig:
        if not self.severities:
            raise ValueError("severities: at least one severity is needed")
        seen: dict[str, str] = {}
        for key, severity in self.severities.items():
            if not _SEVERITY_KEY.match(key):
                raise ValueError(f"severities.{key}: use lowercase letters, digits, - and _")
            for alias in severity.aliases:
                if not _SEVERITY_KEY.match(alias):
                    raise ValueError(
                        f"severities.{key}.aliases: {alias!r} must be one word of lowercase "
                        "letters, digits, - or _ so that it can be typed after /incident declare"
                    )
            for name in (key, *severity.aliases):
                if name in seen and seen[name] != key:
                    raise ValueError(
                        f"severities.{key}: name {name!r} is already used by {seen[name]}"
                    )
                seen[name] = key
            for index, step in enumerate(severity.escalation):
                if step.notify not in self.escalation_levels:
                    raise ValueError(
                        f"severities.{key}.escalation.{index}.notify: no escalation level "
                        f"{step.notify!r}; define it under [escalation_levels]"
                    )
        self._rotations_named()
        return self

    def _rotations_named(self) -> None:
        for name in self.rotations:
            if not ROTATION_NAME.match(name):
                raise ValueError(
                    f"rotations.{name}: name rotations with lowercase letters, digits, - and _ "
                    "(it is typed in commands and calendar addresses)"
                )
        named = [
            (f"escalation_levels.{level}", t)
            for level, ts in self.escalation_levels.items()
            for t in ts
        ]
        named += [
            (f"severities.{key}.responders", t)
            for key, s in self.severities.items()
            for t in s.responders
        ]
        for where, target in named:
            rotation = rotation_named(target)
            if rotation is not None and rotation not in self.rotations:
                raise ValueError(
                    f"{where}: no rotation {rotation!r}; define it under [rotations.{rotation}]"
                )

    def rotation_schedules(self) -> dict[str, Rotation]:
        """Every rotation's rule, its zone defaulting to the [business_hours] one."""
        zone = self.business_hours.timezone
        return {name: settings.rotation(name, zone) for name, settings in self.rotations.items()}

    def severity(self, name: str) -> Severity | None:
        """Find a severity by key or alias, ignoring case (``P1`` finds ``sev1``)."""
        wanted = name.strip().lower()
        for severity in self.severities.values():
            if wanted == severity.key or wanted in severity.aliases:
                return severity
        return None

    def severity_names(self) -> Iterable[str]:
        for severity in self.severities.values():
            yield severity.key
            yield from severity.aliases


def _default_table() -> dict[str, Any]:
    return tomllib.loads(DEFAULT_SETTINGS.read_text("utf-8"))


def _merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _describe(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown key (check its spelling against klaxon.example.toml)"
    where = f"{source}: {location}" if location else source
    return f"{where}: {message}"


def load_config(path: Path | None = None) -> KlaxonConfig:
    """Built-in defaults, overlaid with the operator's TOML file when one is given."""
    table = _default_table()
    source = "built-in settings"
    if path is not None:
        source = f"settings file {path}"
        try:
            override = tomllib.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"KLAXON_CONFIG: {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"KLAXON_CONFIG: cannot read {path}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{source} is not valid TOML: {exc}") from None
        table = _merge(table, override)
    try:
        return KlaxonConfig.model_validate(table)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, source)) from None
