"""Shared by the bad-input and security tests: raw signed requests, what is stored, what was logged.

One bot serves a whole test module (``module_scenario``): property tests send it hundreds of
requests, and starting a bot per example would cost more than the requests themselves.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, settings
from sqlalchemy import func, select

from bot.domain.incident import IncidentStatus, TimelineKind
from slack_emulator import SlackEmulator
from slack_emulator.signing import signed_headers
from storage.models import IncidentRoleRow, IncidentRow, TimelineEntryRow
from tests.e2e.harness import SIGNING_SECRET, HttpAnswer
from tests.e2e.scenario import Scenario, custom_scenario

# Reproducible in CI: the same examples every run, no deadline (an HTTP round trip varies).
FUZZ = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    # The bot is shared on purpose; the autouse environment fixture is harmless to share.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

UNHANDLED = "Something went wrong inside Klaxon"
_sent = itertools.count()


async def module_scenario(tmp_path: Path, extra_settings: str = "") -> AsyncIterator[Scenario]:
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    async with emulator.run() as server:
        async for scenario in custom_scenario(emulator, server.api_url, tmp_path, extra_settings):
            yield scenario


# -- raw requests, signed like Slack signs them -------------------------------------------------


def form_headers(body: str, *, secret: str = SIGNING_SECRET, age: int = 0) -> dict[str, str]:
    headers = signed_headers(secret, body, int(time.time()) - age)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return headers


def json_headers(body: str, *, secret: str = SIGNING_SECRET, age: int = 0) -> dict[str, str]:
    headers = signed_headers(secret, body, int(time.time()) - age)
    headers["Content-Type"] = "application/json"
    return headers


def interaction_body(payload: Any) -> str:
    # Slack's payloads differ at least in their trigger ids; a nonce keeps generated ones apart.
    return urlencode({"payload": json.dumps(payload), "nonce": next(_sent)})


async def post_interaction(scenario: Scenario, payload: Any) -> HttpAnswer:
    body = interaction_body(payload)
    return await scenario.bot.post(body, form_headers(body))


async def post_event(scenario: Scenario, envelope: Any) -> HttpAnswer:
    body = envelope if isinstance(envelope, str) else json.dumps(envelope)
    # Slack signs every delivery afresh; leading whitespace (which JSON ignores) keeps two
    # generated bodies from looking like one replayed request.
    body = format(next(_sent), "b").replace("0", " ").replace("1", "\t") + body
    return await scenario.bot.post(body, json_headers(body))


def assert_not_a_crash(answer: HttpAnswer) -> None:
    assert answer.status < 500, (answer.status, answer.body[:500])
    assert "Traceback" not in answer.body
    assert UNHANDLED not in answer.body, answer.body[:500]


# -- what is stored -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    incidents: int
    entries: int
    roles: int


async def snapshot(scenario: Scenario) -> Snapshot:
    async with scenario.bot.klaxon.engine.connect() as connection:

        async def count(column: Any) -> int:
            return int((await connection.execute(select(func.count(column)))).scalar_one())

        return Snapshot(
            await count(IncidentRow.id),
            await count(TimelineEntryRow.id),
            await count(IncidentRoleRow.id),
        )


async def assert_consistent(scenario: Scenario) -> None:
    """Every stored incident is whole: declared once, and its status matches its fields."""
    async with scenario.bot.klaxon.engine.connect() as connection:
        incidents = (await connection.execute(select(IncidentRow.__table__))).all()
        kinds = (
            await connection.execute(select(TimelineEntryRow.incident_id, TimelineEntryRow.kind))
        ).all()
    by_incident: dict[int, list[str]] = {}
    for incident_id, kind in kinds:
        by_incident.setdefault(incident_id, []).append(kind)
    for row in incidents:
        entries = by_incident.get(row.id, [])
        assert entries.count(TimelineKind.DECLARED.value) == 1, (row.id, entries)
        status = IncidentStatus(row.status)
        if status.is_open:
            assert row.resolved_at is None, row
            assert row.resolved_by is None, row
        else:
            assert row.resolved_at is not None, row
            assert row.resolved_by is not None, row
            assert TimelineKind.RESOLVED.value in entries, entries
        assert (row.acknowledged_by is None) == (row.acknowledged_at is None), row
        if row.acknowledged_by is not None:
            assert TimelineKind.ACKNOWLEDGED.value in entries, entries
        assert (status is IncidentStatus.CLOSED) == (row.closed_at is not None), row


# -- what is logged -----------------------------------------------------------------------------


class LogRecorder(logging.Handler):
    """Every record that reaches the root logger, formatted; nothing is filtered out."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def errors(self) -> list[str]:
        return [self.format(r) for r in self.records if r.levelno >= logging.ERROR]

    def text(self) -> str:
        return "\n".join(self.format(record) for record in self.records)

    def clear(self) -> None:
        self.records.clear()


@contextmanager
def recording_logs(level: int = logging.WARNING) -> Iterator[LogRecorder]:
    recorder = LogRecorder()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(recorder)
    root.setLevel(level)
    try:
        yield recorder
    finally:
        root.removeHandler(recorder)
        root.setLevel(previous)
