"""The page's "Send a test alert": what Prometheus Alertmanager would send Klaxon.

Each press posts Alertmanager's webhook notification (version 4) over real HTTP to Klaxon's
real ``POST /alerts/alertmanager``, with the sandbox's own bearer token. Alertmanager sends a
group's whole current state every time, so each press sends the same group with every
alert sent so far plus one new one: the first press opens an incident, the next ones join it
("1 more alert firing") instead of opening another.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp

from bot.alerts.http import PATHS
from bot.alerts.payload import Source
from slack_emulator.state import JSON

ALERT_NAME = "HighErrorRate"
SERVICE = "checkout"
# "error" maps to SEV2 by default (docs/alerts.md): a real incident without a SEV1's pages.
SEVERITY = "error"
RECEIVER = "klaxon"
SUMMARY = "Checkout error rate above 5%"
GROUP_LABELS = {"alertname": ALERT_NAME, "service": SERVICE}
# As Alertmanager writes a group key for its root route: the route's matchers, then the
# group_by labels.
GROUP_KEY = '{}:{alertname="HighErrorRate", service="checkout"}'
EXTERNAL_URL = "http://alertmanager.sandbox.invalid:9093"
# Alertmanager's zero time: the alert has not ended.
NOT_ENDED = "0001-01-01T00:00:00Z"
_TIMEOUT = aiohttp.ClientTimeout(total=10)


class AlertNotSent(Exception):
    """Klaxon could not be reached; the message says why."""


@dataclass(frozen=True)
class FiringAlert:
    instance: str
    fingerprint: str
    starts_at: datetime


@dataclass(frozen=True)
class Sent:
    status: int
    answer: JSON | None
    alerts: int


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SandboxAlerts:
    """The sandbox's one alert group, grown by an alert on each :meth:`send`."""

    def __init__(self, klaxon_url: str, token: str) -> None:
        self.url = klaxon_url.rstrip("/") + PATHS[Source.ALERTMANAGER]
        self._token = token
        self.firing: list[FiringAlert] = []

    def notification(self) -> JSON:
        """The webhook body for the alerts firing now (version 4, as Alertmanager sends)."""
        common = {**GROUP_LABELS, "severity": SEVERITY}
        annotations = {
            "summary": SUMMARY,
            "description": "More than 5% of checkout requests answered 5xx for 5 minutes.",
            "runbook_url": "https://runbooks.sandbox.invalid/checkout/high-error-rate",
        }
        return {
            "version": "4",
            "groupKey": GROUP_KEY,
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": RECEIVER,
            "groupLabels": dict(GROUP_LABELS),
            "commonLabels": common,
            "commonAnnotations": annotations,
            "externalURL": EXTERNAL_URL,
            "alerts": [
                {
                    "status": "firing",
                    "labels": {**common, "instance": alert.instance},
                    "annotations": annotations,
                    "startsAt": _rfc3339(alert.starts_at),
                    "endsAt": NOT_ENDED,
                    "generatorURL": "http://prometheus.sandbox.invalid:9090/graph?g0.expr="
                    "job%3Acheckout_errors%3Aratio5m+%3E+0.05",
                    "fingerprint": alert.fingerprint,
                }
                for alert in self.firing
            ],
        }

    async def send(self) -> Sent:
        # Random fingerprints, 16 hex digits as Alertmanager's: a kept sandbox (--db) that
        # restarts sends new alerts, never an earlier run's again.
        number = len(self.firing) + 1
        self.firing.append(
            FiringAlert(f"checkout-{number}:9090", secrets.token_hex(8), datetime.now(UTC))
        )
        body = json.dumps(self.notification()).encode()
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self._token}"}
        try:
            async with (
                aiohttp.ClientSession(timeout=_TIMEOUT) as session,
                session.post(self.url, data=body, headers=headers) as response,
            ):
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise AlertNotSent(f"Klaxon did not answer: {type(exc).__name__}") from None
        try:
            answer = json.loads(text)
        except ValueError:
            answer = None
        return Sent(response.status, answer if isinstance(answer, dict) else None, number)
