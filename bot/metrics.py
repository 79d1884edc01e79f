"""Prometheus metrics, served at ``GET /metrics``.

Each bot has its own :class:`CollectorRegistry` (never the process-global default), so several
bots in one process, as in the tests, count separately.

- ``klaxon_requests_total``: Slack requests by ``kind`` (command, action, view, shortcut,
  event, ...) and ``outcome`` (ok, refused, malformed, unhandled, error);
- ``klaxon_ack_latency_seconds``: from receiving a Slack request to answering it, by kind;
- ``klaxon_slack_api_calls_total``: Web API calls by ``method`` and ``outcome`` (``ok``,
  Slack's error code, ``ratelimited``, or the connection error's name);
- ``klaxon_slack_api_retries_total``: retries by ``method`` and ``reason`` (ratelimited,
  connection);
- ``klaxon_timer_lateness_seconds``: how late a stored timer fired
  (observed by the timer scheduler);
- ``klaxon_open_incidents``: open incidents by ``severity``, counted in the database at
  scrape time.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

# Slack wants an answer within 3 s; Klaxon aims for about a millisecond.
_ACK_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)
_LATENESS_BUCKETS = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "klaxon_requests",
            "Slack requests received, by kind and outcome.",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.ack_latency = Histogram(
            "klaxon_ack_latency_seconds",
            "Time from receiving a Slack request to answering it.",
            ["kind"],
            buckets=_ACK_BUCKETS,
            registry=self.registry,
        )
        self.slack_calls = Counter(
            "klaxon_slack_api_calls",
            "Slack Web API calls, by method and outcome (ok, Slack's error code, ratelimited).",
            ["method", "outcome"],
            registry=self.registry,
        )
        self.slack_retries = Counter(
            "klaxon_slack_api_retries",
            "Slack Web API calls retried, by method and reason.",
            ["method", "reason"],
            registry=self.registry,
        )
        self.timer_lateness = Histogram(
            "klaxon_timer_lateness_seconds",
            "How long after its due time a stored timer fired.",
            buckets=_LATENESS_BUCKETS,
            registry=self.registry,
        )
        self.open_incidents = Gauge(
            "klaxon_open_incidents",
            "Open incidents by severity, read from the database when scraped.",
            ["severity"],
            registry=self.registry,
        )

        self.replay_signatures = Gauge(
            "klaxon_replay_signatures",
            "Signatures remembered for replay protection, read when scraped; at the capacity "
            "new requests are refused (outcome full).",
            registry=self.registry,
        )

    def request(self, kind: str, outcome: str, seconds: float) -> None:
        self.requests.labels(kind=kind, outcome=outcome).inc()
        self.ack_latency.labels(kind=kind).observe(seconds)

    def slack_call(self, method: str, outcome: str) -> None:
        self.slack_calls.labels(method=method, outcome=outcome).inc()

    def slack_retry(self, method: str, reason: str) -> None:
        self.slack_retries.labels(method=method, reason=reason).inc()

    def observe_timer_lateness(self, seconds: float) -> None:
        self.timer_lateness.observe(max(seconds, 0.0))

    def set_open_incidents(self, by_severity: Mapping[str, int]) -> None:
        self.open_incidents.clear()
        for severity, count in by_severity.items():
            self.open_incidents.labels(severity=severity).set(count)

    def exposition(self) -> bytes:
        """The Prometheus text format of everything above."""
        return generate_latest(self.registry)
