"""The SQLite writer thread keeps one connection across transactions, and replaces it after a
transaction fails: a connection left broken (inside a transaction whose rollback failed,
say) must not fail every write after it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection

from storage.batch_writer import batch_writer
from storage.database import create_engine
from storage.migrate import upgrade_to_head


def _driver_connection(connection: Connection) -> object:
    return connection.connection.driver_connection


async def test_the_connection_is_kept_and_replaced_after_a_failure(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'klaxon.db'}")
    await upgrade_to_head(engine)
    writer = batch_writer(engine)
    try:
        first = await writer.run(_driver_connection)
        assert await writer.run(_driver_connection) is first

        def broken(connection: Connection) -> None:
            # Leave the connection inside a transaction SQLAlchemy does not know about.
            connection.exec_driver_sql("COMMIT")
            connection.exec_driver_sql("BEGIN")
            raise RuntimeError("the work failed")

        with pytest.raises(RuntimeError, match="the work failed"):
            await writer.run(broken)
        assert await writer.run(_driver_connection) is not first
        assert (
            await writer.run(lambda connection: connection.exec_driver_sql("SELECT 1").scalar())
            == 1
        )
    finally:
        await writer.close()
        await engine.dispose()
