"""The migrations and the models describe one schema: a column added to one only fails here."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import create_engine
from storage.migrate import HEAD, alembic_config, current_revision, upgrade_to_head
from storage.models import Base


def _differences(connection: Any) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [
        change
        for change in compare_metadata(context, Base.metadata)
        # Alembic's own bookkeeping table is not a model.
        if not (change[0] == "remove_table" and change[1].name == "alembic_version")
    ]


@pytest.mark.replay_migrations
async def test_migrated_schema_matches_the_models(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []
    assert await current_revision(engine) == _head()


async def test_a_new_database_built_from_the_models_is_at_head(engine: AsyncEngine) -> None:
    # New databases skip the migrations (storage.migrate): the schema they get must be the
    # one the migrations build (the test above), stamped so the next migration applies.
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []
    assert await current_revision(engine) == _head()


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_the_head_revision_klaxon_knows_is_the_newest_migration() -> None:
    # A bot on a database at HEAD skips Alembic: a stale HEAD would skip a new migration.
    assert _head() == HEAD


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


@pytest.mark.parametrize("from_models", [False, True], ids=["replayed", "from_models"])
async def test_every_migration_runs_in_one_transaction(tmp_path: Path, from_models: bool) -> None:
    # Committed a migration at a time, a replica starting beside this one could read the
    # revision half-way and apply the next migration again ("duplicate column name").
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")
    commits: list[object] = []
    event.listen(engine.sync_engine, "commit", commits.append)
    try:
        await upgrade_to_head(engine, from_models=from_models)
        assert await current_revision(engine) is not None
    finally:
        await engine.dispose()
    assert len(commits) == 1


async def test_incidents_left_without_a_war_room_are_marked_failed_by_the_upgrade(
    tmp_path: Path,
) -> None:
    from alembic import command
    from sqlalchemy import text

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")

    def before_0006(connection: Any) -> None:
        command.upgrade(alembic_config(connection), "0005")
        for number, status in ((1, "investigating"), (2, "investigating"), (3, "resolved")):
            connection.execute(
                text(
                    "INSERT INTO incidents (id, declared_on, number, title, description, "
                    "service, severity, status, declared_by, declared_at, summary, "
                    "update_count, resolution, root_cause, version, updated_at) VALUES "
                    "(:number, '2026-11-22', :number, 't', '', '', 'sev1', :status, "
                    "'U0DECLARER', '2026-11-22 03:14:00', '', 0, '', '', 1, "
                    "'2026-11-22 03:14:00')"
                ),
                {"number": number, "status": status},
            )
        # Incident 2's setup is still in progress (another process holds it).
        connection.execute(
            text(
                "INSERT INTO timers (incident_id, kind, due_at, step) "
                "VALUES (2, 'war_room_setup', '2026-11-22 03:14:00', 0)"
            )
        )

    try:
        async with engine.begin() as connection:
            await connection.run_sync(before_0006)
        await upgrade_to_head(engine)
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT id, war_room_error FROM incidents ORDER BY id")
            )
            marked = {row[0]: row[1] is not None for row in rows}
    finally:
        await engine.dispose()
    assert marked == {1: True, 2: False, 3: False}
