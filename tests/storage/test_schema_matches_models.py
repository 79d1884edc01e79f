"""The migrations and the models describe one schema: a column added to one only fails here."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine
from storage.migrate import current_revision, upgrade_to_head
from storage.models import Base


async def test_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    def differences(connection: Any) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return [
            change
            for change in compare_metadata(context, Base.metadata)
            # Alembic's own bookkeeping table is not a model.
            if not (change[0] == "remove_table" and change[1].name == "alembic_version")
        ]

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []


_MIGRATE = """
import asyncio, sys
from storage.database import create_engine
from storage.migrate import upgrade_to_head

async def main() -> None:
    engine = create_engine(sys.argv[1])
    await upgrade_to_head(engine)
    await engine.dispose()

asyncio.run(main())
"""


async def test_replicas_starting_together_on_one_sqlite_file_all_migrate(
    tmp_path: Path,
) -> None:
    # Separate processes, as replicas are: Alembic itself is not safe to run in threads.
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _MIGRATE,
            url,
            cwd=Path(__file__).parents[2],
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    errors = [(await process.communicate())[1].decode() for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], errors
    engine = create_engine(url)
    try:
        assert await current_revision(engine) is not None
    finally:
        await engine.dispose()


async def test_every_migration_runs_in_one_transaction(tmp_path: Path) -> None:
    # Committed a migration at a time, a replica starting beside this one could read the
    # revision half-way and apply the next migration again ("duplicate column name").
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    commits: list[object] = []
    event.listen(engine.sync_engine, "commit", commits.append)
    try:
        await upgrade_to_head(engine)
        assert await current_revision(engine) is not None
    finally:
        await engine.dispose()
    assert len(commits) == 1
