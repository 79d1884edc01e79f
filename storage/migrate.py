"""Bring the schema to the newest revision. Safe to run again, and from several replicas."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import WRITE_OPTION
from storage.models import Base

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCKED_ATTEMPTS = 5


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


# Shared with migrations/env.py: replicas migrating one PostgreSQL queue on it.
MIGRATION_LOCK_ID = 0x4B4C58  # "KLX"


@dataclass(frozen=True, slots=True)
class Migrated:
    """What one upgrade did: the revision it reached and the migrations it applied, in order
    (revision id, first line of its description); none when the schema was already at head.
    ``created``: the database was empty and got the newest schema in one step."""

    revision: str | None
    applied: tuple[tuple[str, str], ...]
    created: bool = False


def _is_empty(connection: Connection) -> bool:
    if connection.dialect.name == "postgresql":
        # Held to the end of the transaction, like env.py's (re-entrant in one session): two
        # replicas starting on an empty database do not both create the schema.
        connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})"))
    return not inspect(connection).get_table_names()


async def upgrade_to_head(engine: AsyncEngine, *, from_models: bool = True) -> Migrated:
    """``from_models``: an empty database gets the newest schema from the models in one step
    and is stamped at head (Alembic's recipe for new databases), instead of replaying every
    migration; SQLite's table rebuilds made that most of a fresh start.
    ``tests/storage/test_schema_matches_models.py`` checks both ways give one schema."""

    def _upgrade(connection: Connection) -> Migrated:
        # Begun here, before Alembic looks, the transaction is Alembic's "external" one: the
        # revision it reads and every migration run in it, committed once below. Left to
        # itself on SQLite (where it assumes DDL is not transactional), Alembic commits each
        # migration on its own, releasing the write lock in between; a second replica then
        # read the revision half-way and applied the next migration as well ("duplicate
        # column name: summary", seen under load).
        connection.begin()
        config = alembic_config(connection)
        if from_models and _is_empty(connection):
            Base.metadata.create_all(connection)
            command.stamp(config, "head")
            revision = MigrationContext.configure(connection).get_current_revision()
            return Migrated(revision, (), created=True)
        applied: list[tuple[str, str]] = []
        config.attributes["applied"] = applied
        command.upgrade(config, "head")
        revision = MigrationContext.configure(connection).get_current_revision()
        return Migrated(revision, tuple(applied))

    for attempt in range(1, _LOCKED_ATTEMPTS + 1):
        try:
            async with engine.connect() as connection:
                # On SQLite the migration runs under the write lock (BEGIN IMMEDIATE), so a
                # second process starting at the same moment waits, then finds the schema at
                # head. PostgreSQL takes an advisory lock instead (migrations/env.py).
                await connection.execution_options(**{WRITE_OPTION: True})
                migrated = await connection.run_sync(_upgrade)
                await connection.commit()
            return migrated
        except OperationalError as exc:
            # A replica migrating for longer than SQLite's busy timeout (a loaded machine)
            # makes the others give up waiting; the migration is transactional, so trying
            # again is safe and finds the schema at head.
            if "locked" not in str(exc) or attempt == _LOCKED_ATTEMPTS:
                raise
            await asyncio.sleep(0.2 * attempt)
    raise AssertionError("the last attempt returns or raises")


async def current_revision(engine: AsyncEngine) -> str | None:
    def _read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_read)
