"""Fixtures shared by every test layer: databases (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine
from storage.migrate import upgrade_to_head

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
NO_POSTGRES = "TEST_POSTGRES_URL is not set (.ci/run sets it when PostgreSQL answers on 127.0.0.1)"


_ENVIRONMENT = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "DATABASE_URL",
    "PORT",
    "KLAXON_CONFIG",
    "KLAXON_ALERTS_TOKEN",
    "KLAXON_HOST",
    "KLAXON_LOG_LEVEL",
    "KLAXON_LOG_FORMAT",
)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """One worker more than the cores: most end-to-end tests spend their time waiting on the
    bot, the emulator or a timer, so a third worker on two cores took the suite with
    PostgreSQL from 257 s to 186 s (same machine, nothing else running)."""
    return (os.cpu_count() or 1) + 1


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Hostile-input tests capture logs holding lone surrogates, which pytest-xdist cannot
    send from a worker (only UTF-8 crosses): escape them in the report's captured output."""
    outcome = yield
    report = outcome.get_result()
    report.sections = [
        (title, content.encode("utf-8", "backslashreplace").decode())
        for title, content in report.sections
    ]


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A developer's exported Slack variables or .env file must not change what tests see."""
    for name in _ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty database of each kind; PostgreSQL gets a schema of its own per test.
    Marked ``replay_migrations``, the schema is built by every migration in turn instead of
    from the models."""
    from_models = request.node.get_closest_marker("replay_migrations") is None
    if request.param == "sqlite":
        sqlite_engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'klaxon.db'}")
        await upgrade_to_head(sqlite_engine, from_models=from_models)
        yield sqlite_engine
        await sqlite_engine.dispose()
        return
    if not POSTGRES_URL:
        pytest.skip(NO_POSTGRES)
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as connection:
        await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    pg_engine = create_engine(
        POSTGRES_URL, connect_args={"server_settings": {"search_path": schema}}
    )
    try:
        await upgrade_to_head(pg_engine, from_models=from_models)
        yield pg_engine
    finally:
        await pg_engine.dispose()
        async with admin.begin() as connection:
            await connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
