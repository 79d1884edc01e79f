"""Bring the schema to the newest revision. Safe to run again, and from several replicas."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    Connection,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    inspect,
    text,
)
from sqlalchemy import select as select_
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import WRITE_OPTION
from storage.models import Base

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
_LOCKED_ATTEMPTS = 5
# The newest migration's revision (tests/storage/test_schema_matches_models.py checks it):
# a bot starting on a database already there, or on an empty one, never imports Alembic,
# which with Mako and Pygments is about 11 MB of a bot idling at about 95 MB.
HEAD = "0011"

# Alembic's own bookkeeping table, as Alembic creates it.
_VERSION = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

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


def _stored_revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table(_VERSION.name):
        return None
    return connection.execute(select_(_VERSION.c.version_num)).scalar()


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
        if from_models and _is_empty(connection):
            Base.metadata.create_all(connection)
            _VERSION.create(connection)
            connection.execute(_VERSION.insert().values(version_num=HEAD))
            return Migrated(HEAD, (), created=True)
        if _stored_revision(connection) == HEAD:
            return Migrated(HEAD, ())
        from alembic import command
        from alembic.runtime.migration import MigrationContext

        config = alembic_config(connection)
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
    from alembic.runtime.migration import MigrationContext

    def _read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with engine.connect() as connection:
        return await connection.run_sync(_read)
