"""Alembic environment. Runs on the connection ``storage.migrate`` hands over, or on its own.

Standalone use (for writing new revisions):
``DATABASE_URL=sqlite+aiosqlite:///klaxon.db \\
    alembic -c storage/alembic.ini revision --autogenerate``
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Collection, Mapping
from typing import Any

from alembic import context
from alembic.runtime.migration import MigrationContext, MigrationInfo
from sqlalchemy import Connection, text

from storage.database import create_engine
from storage.migrate import MIGRATION_LOCK_ID
from storage.models import Base


def _run(connection: Connection) -> None:
    # storage.migrate passes a list to learn what this run applied (not what another replica
    # did meanwhile), so `python -m bot migrate` can say it.
    applied: list[tuple[str, str]] | None = context.config.attributes.get("applied")

    def record(
        ctx: MigrationContext,
        step: MigrationInfo,
        heads: Collection[Any],
        run_args: Mapping[str, Any],
    ) -> None:
        if applied is not None and step.is_upgrade and step.up_revision_id is not None:
            doc = str(getattr(step.up_revision, "doc", "") or "")
            applied.append((step.up_revision_id, doc.splitlines()[0] if doc else ""))

    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        on_version_apply=record,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})"))
        context.run_migrations()


async def _run_standalone(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def _main() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from bot.settings import normalize_database_url

    url = normalize_database_url(os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///klaxon.db"))
    asyncio.run(_run_standalone(url))


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run them against a database")
_main()
