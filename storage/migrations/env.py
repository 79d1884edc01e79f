"""Alembic environment. Runs on the connection ``storage.migrate`` hands over, or on its own.

Standalone use (for writing new revisions):
``DATABASE_URL=sqlite+aiosqlite:///klaxon.db \\
    alembic -c storage/alembic.ini revision --autogenerate``
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection, text

from storage.database import create_engine
from storage.migrate import MIGRATION_LOCK_ID
from storage.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
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
