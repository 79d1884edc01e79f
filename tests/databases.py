"""A PostgreSQL database of a test's own, for bot processes that only take a ``DATABASE_URL``
(a per-test schema needs connection options a URL cannot carry)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.database import create_engine


@contextlib.asynccontextmanager
async def fresh_postgres_database(server_url: str) -> AsyncIterator[str]:
    """CREATE an empty database on the server of ``server_url``; yield its URL; DROP it after,
    whoever is still connected (a bot process killed with SIGKILL, for instance)."""
    name = f"klaxon_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await admin.dispose()
