"""What an alert group means for Klaxon: its route, severity, title and description.

Pure rules over the settings' ``[alerts]`` table and a parsed notification; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.alerts.payload import Alert, Notification
from bot.config import AlertRoute, KlaxonConfig
from bot.domain.declaration import MAX_DESCRIPTION, MAX_TITLE, Declaration, single_line

# Labels that say nothing a reader can tell groups apart by.
_NOT_DISTINGUISHING = frozenset({"alertname", "severity", "prometheus", "job", "instance"})
_MAX_LINKS = 10


@dataclass(frozen=True, slots=True)
class Decision:
    severity: str
    route: AlertRoute | None

    @property
    def notify_only(self) -> bool:
        return self.route is not None and self.route.notify_only

    @property
    def moves_to_monitoring(self) -> bool:
        return self.route is not None and self.route.on_resolve == "monitoring"

    @property
    def responders(self) -> tuple[str, ...]:
        return self.route.responders if self.route is not None else ()

    @property
    def channel(self) -> str | None:
        return self.route.channel if self.route is not None else None


def matches(route: AlertRoute, labels: Mapping[str, str]) -> bool:
    """Every matcher holds; a missing label is the empty string, as in Alertmanager."""
    if any(labels.get(name, "") != value for name, value in route.match.items()):
        return False
    return all(
        re.fullmatch(pattern, labels.get(name, "")) is not None
        for name, pattern in route.match_re.items()
    )


def group_labels(notification: Notification) -> dict[str, str]:
    """The labels every alert in the group shares: what routes and severity look at."""
    return {**notification.group_labels, **notification.common_labels}


def decide(config: KlaxonConfig, notification: Notification) -> Decision:
    settings = config.alerts
    labels = group_labels(notification)
    route = next((r for r in settings.routes if matches(r, labels)), None)
    if route is not None and route.severity is not None:
        name = route.severity
    else:
        value = labels.get(settings.severity_label, "").strip().lower()
        if not value:
            # No common severity: the most severe any alert of the group carries.
            values = {
                a.labels.get(settings.severity_label, "").strip().lower()
                for a in notification.alerts
            }
            mapped = [settings.severity_map[v] for v in values if v in settings.severity_map]
            value = _most_severe(config, mapped) if mapped else ""
            name = value or settings.default_severity
        else:
            name = settings.severity_map.get(value, settings.default_severity)
    severity = config.severity(name)
    assert severity is not None, "checked when the settings were loaded"
    return Decision(severity=severity.key, route=route)


def _most_severe(config: KlaxonConfig, names: list[str]) -> str:
    order = list(config.severities)
    keys = [s.key for s in (config.severity(n) for n in names) if s is not None]
    return min(keys, key=order.index) if keys else ""


def describe_alert(alert: Alert, shared: Mapping[str, str]) -> str:
    """``HighLatency (service=checkout, pod=a-1)``: the name and what sets it apart."""
    extra = [
        f"{name}={value}"
        for name, value in sorted(alert.labels.items())
        if name not in _NOT_DISTINGUISHING and shared.get(name) != value
    ]
    text = alert.name + (f" ({', '.join(extra)})" if extra else "")
    return single_line(text)[:200]


def title(notification: Notification) -> str:
    """The group's summary; else its alert name and the labels its alerts share."""
    summary = single_line(notification.common_annotations.get("summary", ""))
    if any(ch.isalnum() for ch in summary):
        return summary[:MAX_TITLE]
    labels = group_labels(notification)
    name = labels.get("alertname", "")
    if not name:
        # Grafana groups alerts of different names; its own title ("[FIRING:2] ...") goes
        # stale as the group changes.
        names = list(dict.fromkeys(alert.name for alert in notification.alerts))
        name = names[0] + (f" and {len(names) - 1} more" if len(names) > 1 else "")
    extra = [
        f"{key}={value}"
        for key, value in sorted(labels.items())
        if key not in _NOT_DISTINGUISHING and key != "alertname"
    ]
    text = single_line(name + (f" ({', '.join(extra)})" if extra else ""))
    if not any(ch.isalnum() for ch in text):
        text = f"Alert from {notification.source.label}"
    return text[:MAX_TITLE]


def description(notification: Notification) -> str:
    """Plain text (escaped where shown): annotations, then the alerts' links."""
    lines: list[str] = []
    annotations = dict(notification.common_annotations)
    annotations.pop("summary", None)
    if notification.message:
        lines.append(notification.message.strip())
    lines.extend(f"{key}: {value}" for key, value in sorted(annotations.items()))
    links: dict[str, None] = {}
    for alert in notification.alerts:
        for name, url in alert.links:
            links.setdefault(f"{name}: {url}", None)
    lines.extend(list(links)[:_MAX_LINKS])
    if notification.external_url.startswith(("http://", "https://")):
        lines.append(f"{notification.source.label}: {notification.external_url}")
    return "\n".join(lines)[:MAX_DESCRIPTION]


def declaration(notification: Notification, decision: Decision) -> Declaration:
    return Declaration(
        title=title(notification),
        severity=decision.severity,
        description=description(notification),
        service=single_line(group_labels(notification).get("service", ""))[:80],
    )
