"""The migrations and the models describe one schema: a column added to one only fails here."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

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
