"""The [alerts] settings and the pure rules: severity, routes, title, and when two
notifications are the same one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.alerts import rules
from bot.alerts.payload import PayloadError, Source, parse_notification
from bot.config import KlaxonConfig, load_config
from bot.domain.incident import Incident, IncidentStatus
from bot.errors import ConfigError
from bot.reports.document import _detection

STARTED = "2026-03-29T00:30:00.123456789Z"


def config(tmp_path: Path, text: str = "") -> KlaxonConfig:
    path = tmp_path / "klaxon.toml"
    path.write_text(text)
    return load_config(path)


def notification(
    labels: dict[str, str],
    *,
    status: str = "firing",
    starts_at: str = STARTED,
    receiver: str = "klaxon",
    annotations: dict[str, str] | None = None,
    fingerprint: str = "abc",
) -> Any:
    body = {
        "version": "4",
        "receiver": receiver,
        "status": status,
        "groupKey": "{}:{}",
        "commonLabels": labels,
        "commonAnnotations": annotations or {},
        "alerts": [
            {
                "status": status,
                "labels": labels,
                "startsAt": starts_at,
                "endsAt": "0001-01-01T00:00:00Z",
                "fingerprint": fingerprint,
            }
        ],
    }
    return parse_notification(Source.ALERTMANAGER, json.dumps(body).encode())


@pytest.mark.parametrize(
    ("severity", "expected"),
    [
        ("critical", "sev1"),
        ("error", "sev2"),
        ("HIGH", "sev2"),
        ("warning", "sev3"),
        ("info", "sev4"),
        ("page-me", "sev3"),
        ("", "sev3"),
    ],
)
def test_severity_label_maps_to_a_severity(tmp_path: Path, severity: str, expected: str) -> None:
    labels = {"alertname": "X", "severity": severity} if severity else {"alertname": "X"}
    assert rules.decide(config(tmp_path), notification(labels)).severity == expected


def test_first_matching_route_applies_with_equality_and_whole_value_regex(tmp_path: Path) -> None:
    settings = config(
        tmp_path,
        """
[[alerts.routes]]
match = { team = "payments" }
match_re = { service = "check.*" }
severity = "p1"
responders = ["U0PAYMENTS"]

[[alerts.routes]]
match_re = { service = "check" }
severity = "sev4"
""",
    )
    chosen = rules.decide(settings, notification({"team": "payments", "service": "checkout"}))
    assert (chosen.severity, chosen.responders) == ("sev1", ("U0PAYMENTS",))
    # "check" must match the whole value, as in Alertmanager: "checkout" is no match.
    other = rules.decide(settings, notification({"team": "search", "service": "checkout"}))
    assert other.route is None
    exact = rules.decide(settings, notification({"service": "check"}))
    assert exact.severity == "sev4"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[alerts]\ndefault_severity = "sev9"', "alerts.default_severity"),
        ('[alerts.severity_map]\npage = "urgent"', "alerts.severity_map.page"),
        ('[[alerts.routes]]\nseverity = "nope"', "alerts.routes.0.severity"),
        ('[[alerts.routes]]\nmatch_re = { a = "(" }', "alerts.routes.0.match_re.a"),
        ('[[alerts.routes]]\nmatch = { "bad-label" = "x" }', "alerts.routes.0.match"),
        ("[[alerts.routes]]\nnotify_only = true", "alerts.routes.0"),
        ('[[alerts.routes]]\non_resolve = "resolved"', "alerts.routes.0.on_resolve"),
        ('[[alerts.routes]]\nresponders = ["bob"]', "alerts.routes.0.responders.0"),
        ('[alerts]\nnotice_interval = "soon"', "alerts.notice_interval"),
    ],
)
def test_invalid_alert_settings_stop_startup_naming_the_key(
    tmp_path: Path, text: str, named: str
) -> None:
    with pytest.raises(ConfigError) as error:
        config(tmp_path, text)
    assert named in str(error.value)


def test_copies_of_one_notification_share_a_key_and_a_new_firing_does_not() -> None:
    labels = {"alertname": "HighLatency"}
    first = notification(labels)
    assert notification(labels).dedup_key == first.dedup_key
    assert notification(labels, status="resolved").dedup_key != first.dedup_key
    fired_again = notification(labels, starts_at="2026-03-29T01:30:00Z")
    assert fired_again.dedup_key != first.dedup_key
    assert fired_again.group_id == first.group_id
    assert notification(labels, receiver="other").group_id != first.group_id


def test_nanosecond_times_from_go_are_read() -> None:
    parsed = notification({"alertname": "X"})
    assert parsed.alerts[0].starts_at == datetime(2026, 3, 29, 0, 30, 0, 123456, tzinfo=UTC)


def test_title_is_the_summary_or_the_alert_and_its_labels() -> None:
    labels = {"alertname": "HighLatency", "service": "checkout", "severity": "critical"}
    assert rules.title(notification(labels)) == "HighLatency (service=checkout)"
    summarized = notification(labels, annotations={"summary": "  Checkout\nslow "})
    assert rules.title(summarized) == "Checkout slow"
    assert rules.title(notification({"alertname": "!!!"})) == "Alert from Alertmanager"


def test_a_body_of_the_wrong_shape_says_what_is_wrong() -> None:
    with pytest.raises(PayloadError, match="alerts: Field required"):
        parse_notification(Source.GRAFANA, b'{"status": "firing", "groupKey": "x"}')


def test_mtta_counts_from_the_alert_and_the_report_shows_both_times() -> None:
    fired = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    incident = Incident(
        id=1,
        public_id="INC-20260329-001",
        title="t",
        severity="sev1",
        status=IncidentStatus.INVESTIGATING,
        declared_by="Alertmanager (receiver klaxon)",
        declared_at=fired + timedelta(seconds=30),
        acknowledged_at=fired + timedelta(minutes=4),
        detected_at=fired,
    )
    assert incident.time_to_acknowledge == timedelta(minutes=4)
    assert not incident.declared_by_person
    detected, declared = _detection(incident)
    assert "Detected (alert firing) | 2026-03-29 00:30:00 UTC" in detected
    assert "Declared | 2026-03-29 00:30:30 UTC" in declared
