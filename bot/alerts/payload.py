"""Reading a webhook notification into a :class:`Notification`, or saying why it is not one.

Alertmanager's webhook payload is version 4; Grafana Alerting's webhook contact point sends
the same core plus its own fields (``orgId``, ``state``, ``title``, ``message``, and per
alert ``dashboardURL``, ``panelURL``, ``silenceURL``, ``values``). Everything in it is text
from the alerting side, kept raw here and escaped wherever it is shown.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

# Go writes nanoseconds (RFC 3339 "Nano"); Python keeps microseconds.
_FRACTION = re.compile(r"(\.\d{6})\d+")
# Alertmanager's "not ended yet".
_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)
MAX_ALERTS = 1000


class Source(enum.StrEnum):
    ALERTMANAGER = "alertmanager"
    GRAFANA = "grafana"

    @property
    def label(self) -> str:
        return "Alertmanager" if self is Source.ALERTMANAGER else "Grafana"


class PayloadError(ValueError):
    """The body is not a notification of the expected shape; the message says why."""


def _timestamp(value: object) -> object:
    if not isinstance(value, str):
        return value
    text = _FRACTION.sub(r"\1", value.strip()).replace("Z", "+00:00").replace("z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{value[:40]!r} is not an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise ValueError(f"{value[:40]!r} has no time zone")
    return moment.astimezone(UTC) if moment.year > 1 else _ZERO_TIME


class _Shape(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)


class _Alert(_Shape):
    status: str = Field(pattern="^(firing|resolved)$")
    labels: dict[str, str]
    annotations: dict[str, str] = {}
    starts_at: datetime = Field(alias="startsAt")
    ends_at: datetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")
    fingerprint: str = ""
    dashboard_url: str = Field(default="", alias="dashboardURL")
    panel_url: str = Field(default="", alias="panelURL")
    silence_url: str = Field(default="", alias="silenceURL")

    _times = field_validator("starts_at", "ends_at", mode="before")(_timestamp)


class _Payload(_Shape):
    receiver: str = Field(default="", max_length=200)
    status: str = Field(pattern="^(firing|resolved)$")
    alerts: list[_Alert] = Field(min_length=1, max_length=MAX_ALERTS)
    group_key: str = Field(alias="groupKey", min_length=1, max_length=10_000)
    group_labels: dict[str, str] = Field(default={}, alias="groupLabels")
    common_labels: dict[str, str] = Field(default={}, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default={}, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL")
    truncated_alerts: int = Field(default=0, alias="truncatedAlerts", ge=0)
    # Grafana's own.
    title: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class Alert:
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    fingerprint: str
    links: tuple[tuple[str, str], ...]

    @property
    def firing(self) -> bool:
        return self.status == "firing"

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "") or "alert"


@dataclass(frozen=True, slots=True)
class Notification:
    source: Source
    receiver: str
    status: str
    group_key: str
    group_labels: dict[str, str]
    common_labels: dict[str, str]
    common_annotations: dict[str, str]
    alerts: tuple[Alert, ...]
    truncated_alerts: int
    external_url: str
    title: str
    message: str
    # The body as received, kept with the notification in storage.
    body: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def firing(self) -> tuple[Alert, ...]:
        return tuple(alert for alert in self.alerts if alert.firing)

    @property
    def group_id(self) -> str:
        """One alert group: the same group key from the same receiver of the same source."""
        return _digest(self.source.value, self.receiver, self.group_key)

    @property
    def dedup_key(self) -> str:
        """The same for every copy of one notification: an HA peer's, a retry's, a repeat's.

        A repeat (``repeat_interval``) says nothing new and is stored once with the first; an
        alert that fires again later has a new ``startsAt`` and so makes a new notification.
        """
        alerts = sorted(
            f"{a.fingerprint}/{a.status}/{a.starts_at.isoformat(timespec='seconds')}"
            for a in self.alerts
        )
        return _digest(self.group_id, self.status, *alerts)

    @property
    def actor(self) -> str:
        """Who declared, as the card and the timeline name it."""
        return f"{self.source.label} (receiver {self.receiver or 'unnamed'})"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _fingerprint(alert: _Alert) -> str:
    if alert.fingerprint:
        return alert.fingerprint[:64]
    # Alertmanager always sends one; otherwise the labels identify the alert.
    return _digest(json.dumps(alert.labels, sort_keys=True))[:16]


def _links(alert: _Alert) -> tuple[tuple[str, str], ...]:
    candidates = (
        ("Runbook", alert.annotations.get("runbook_url", "")),
        ("Source", alert.generator_url),
        ("Dashboard", alert.dashboard_url),
        ("Panel", alert.panel_url),
        ("Silence", alert.silence_url),
    )
    return tuple((name, url) for name, url in candidates if url.startswith(("http://", "https://")))


def _where(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "body"
    return f"{location}: {first['msg'].removeprefix('Value error, ')}"


def parse_notification(source: Source, body: bytes) -> Notification:
    """Raise :class:`PayloadError` with the reason for anything but a well-formed payload."""
    try:
        data: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise PayloadError(f"the body is not a {source.label} notification (a JSON object)")
    try:
        payload = _Payload.model_validate(data)
    except ValidationError as exc:
        raise PayloadError(f"not a {source.label} notification: {_where(exc)}") from None
    alerts = tuple(
        Alert(
            status=alert.status,
            labels=alert.labels,
            annotations=alert.annotations,
            starts_at=alert.starts_at,
            fingerprint=_fingerprint(alert),
            links=_links(alert),
        )
        for alert in payload.alerts
    )
    return Notification(
        source=source,
        receiver=payload.receiver,
        status=payload.status,
        group_key=payload.group_key,
        group_labels=payload.group_labels,
        common_labels=payload.common_labels,
        common_annotations=payload.common_annotations,
        alerts=alerts,
        truncated_alerts=payload.truncated_alerts,
        external_url=payload.external_url,
        title=payload.title,
        message=payload.message,
        body=data,
    )
