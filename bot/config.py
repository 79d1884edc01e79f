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
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


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
    # Reminders (post-mortems, action items) are sent between day_starts and day_ends; a
    # day_ends at or before day_starts means the working day runs to midnight.
    day_ends: time = time(17, 0)


def _postmortem_due(value: object) -> object:
    """``48h``, ``5 business days`` or ``none``."""
    if not isinstance(value, str):
        return value
    words = value.strip().lower()
    if words in {"none", "off", ""}:
        return None
    match = re.fullmatch(r"(\d{1,3})\s*business\s*days?", words)
    if match:
        if int(match.group(1)) < 1:
            raise ValueError(f"{value!r}: at least 1 business day")
        return BusinessDays(days=int(match.group(1)))
    return _duration(value)


def _reminder_every(value: object) -> object:
    if isinstance(value, str) and value.strip().lower().replace(" ", "_") in {
        "business_day",
        "1_business_day",
    }:
        return BUSINESS_DAY
    return _duration(value)


BUSINESS_DAY: Literal["business_day"] = "business_day"


class BusinessDays(_Strict):
    """A deadline counted in working days of ``[business_hours]``."""

    days: int


PostmortemDue = Annotated[timedelta | BusinessDays | None, BeforeValidator(_postmortem_due)]
ReminderEvery = Annotated[timedelta | Literal["business_day"], BeforeValidator(_reminder_every)]


class Reminders(_Strict):
    """The reminder before a deadline, and how often while it is overdue."""

    remind_before: Duration = timedelta(days=1)
    overdue_every: ReminderEvery = BUSINESS_DAY


class Postmortem(Reminders):
    """When the post-mortem falls due after an incident resolves, per severity key."""

    due: dict[str, PostmortemDue] = {}


class Stability(_Strict):
    """How long a monitored incident must stay quiet before Klaxon asks to close it."""

    period: Duration = timedelta(minutes=30)
    by_severity: dict[str, Duration] = {}
    auto_close: bool = False


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


def _component(value: object) -> object:
    return {"name": value} if isinstance(value, str) else value


def _http_url(value: str) -> str:
    if value and not value.startswith(("https://", "http://")):
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


# The component statuses of hosted status pages (Atlassian Statuspage's names), best first.
COMPONENT_STATUSES = ("operational", "degraded_performance", "partial_outage", "major_outage")


class StatusComponent(_Strict):
    """One thing the public status page reports on, such as "Booking API"."""

    name: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=300)
    # The component's id on Atlassian Statuspage, when posts are mirrored there.
    statuspage_id: str = Field(default="", max_length=64)

    @property
    def id(self) -> str:
        """A stable id for forms and ``/status.json``, from the name."""
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-") or "component"


class StatusPageSettings(_Strict):
    """The public status page (docs/status-page.md): what it shows and who is reminded."""

    enabled: bool = True
    title: str = Field(default="Service status", min_length=1, max_length=100)
    url: Annotated[str, AfterValidator(_http_url)] = ""
    components: tuple[Annotated[StatusComponent, BeforeValidator(_component)], ...] = ()
    # Public incidents resolved longer ago than this leave the page.
    history_days: int = Field(default=90, ge=1, le=3650)
    # How long a render is served before the database is read again (other replicas' posts).
    cache_seconds: float = Field(default=5.0, ge=0.0, le=300.0)
    # The commander and communications lead are reminded when an open incident's public page
    # has not been updated for this long; only for these severities.
    remind_after: Duration = timedelta(minutes=30)
    remind_severities: tuple[str, ...] = ("sev1", "sev2")
    # The runbook's external notices, prefilled in the forms.
    start_title: str = Field(default="Service disruption", min_length=1, max_length=200)
    start_message: str = Field(
        default=(
            "We are investigating reports of a problem affecting some of our services. "
            "We will post an update within 30 minutes."
        ),
        min_length=1,
        max_length=3000,
    )
    resolution_message: str = Field(
        default=(
            "This incident has been resolved and all services are operating normally. "
            "Thank you for your patience."
        ),
        min_length=1,
        max_length=3000,
    )

    @field_validator("components")
    @classmethod
    def _unique_components(
        cls, components: tuple[StatusComponent, ...]
    ) -> tuple[StatusComponent, ...]:
        seen: set[str] = set()
        for component in components:
            if component.id in seen:
                raise ValueError(f"two components are named like {component.name!r}")
            seen.add(component.id)
        return components


def _label_name(value: str) -> str:
    if not _LABEL_NAME.match(value):
        raise ValueError(f"{value!r} is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)")
    return value


def _regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a regular expression: {exc}") from None
    return value


LabelName = Annotated[str, AfterValidator(_label_name)]
LabelRegex = Annotated[str, AfterValidator(_regex)]


class AlertRoute(_Strict):
    """A rule for alert groups, tried in order; the first whose matchers all hold applies.

    ``match`` compares a label for equality, ``match_re`` against a regular expression that
    must match the whole value (as Alertmanager's own matchers do)."""

    match: dict[LabelName, str] = {}
    match_re: dict[LabelName, LabelRegex] = {}
    # A severity key or alias, in place of the one the severity label maps to.
    severity: str | None = None
    # Invited to the war room besides the severity's responders.
    responders: tuple[SlackTarget, ...] = ()
    # Stakeholder channel for these incidents; for notify_only, where the alerts are posted.
    channel: ChannelRef | None = None
    # Post the alerts to ``channel`` and declare nothing.
    notify_only: bool = False
    # "monitoring": when every alert of the group has resolved, the incident moves to
    # monitoring. "nothing": it waits for a person. Klaxon never resolves it on its own.
    on_resolve: Literal["nothing", "monitoring"] = "nothing"

    @model_validator(mode="after")
    def _notify_somewhere(self) -> AlertRoute:
        if self.notify_only and self.channel is None:
            raise ValueError("notify_only needs a channel to post the alerts to")
        return self


class Alerts(_Strict):
    """Incidents from Prometheus Alertmanager and Grafana (docs/alerts.md)."""

    # The alert label whose value picks the severity through ``severity_map``.
    severity_label: LabelName = "severity"
    severity_map: dict[str, str] = {}
    # For alerts whose severity label is missing or not in the map.
    default_severity: str = "sev3"
    # New alerts and resolutions of a group are posted to the war room at most this often.
    notice_interval: Duration = timedelta(seconds=30)
    routes: tuple[AlertRoute, ...] = ()


class KlaxonConfig(_Strict):
    announcements: Announcements = Announcements()
    alerts: Alerts = Alerts()
    templates: TemplateSettings = TemplateSettings()
    war_room: WarRoom = WarRoom()
    business_hours: BusinessHours = BusinessHours()
    permissions: Permissions = Permissions()
    postmortem: Postmortem = Postmortem()
    action_items: Reminders = Reminders()
    stability: Stability = Stability()
    escalation_levels: dict[str, tuple[PagedTarget, ...]] = {}
    rotations: dict[str, RotationSettings] = {}
    severities: dict[str, Severity]
    status_page: StatusPageSettings = StatusPageSettings()

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
        for index, name in enumerate(self.status_page.remind_severities):
            if name not in self.severities:
                raise ValueError(
                    f"status_page.remind_severities.{index}: no severity {name!r}; use the "
                    "keys under [severities]"
                )
        self._alert_severities_exist()
        self._rotations_named()
        return self

    def _alert_severities_exist(self) -> None:
        alerts = self.alerts
        named = [("alerts.default_severity", alerts.default_severity)]
        named += [(f"alerts.severity_map.{k}", v) for k, v in alerts.severity_map.items()]
        named += [
            (f"alerts.routes.{index}.severity", route.severity)
            for index, route in enumerate(alerts.routes)
            if route.severity is not None
        ]
        for key, name in named:
            if self.severity(name) is None:
                raise ValueError(f"{key}: there is no severity {name!r}")

    @model_validator(mode="after")
    def _follow_up_severities(self) -> KlaxonConfig:
        for table, keys in (
            ("postmortem.due", self.postmortem.due),
            ("stability.by_severity", self.stability.by_severity),
        ):
            for key in keys:
                if key not in self.severities:
                    raise ValueError(f"{table}.{key}: no severity {key!r}; see [severities]")
        return self

    def stability_period(self, severity: str) -> timedelta:
        return self.stability.by_severity.get(severity, self.stability.period)

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
