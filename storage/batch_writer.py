"""Transactions for the hottest write path: one trip to the database thread per transaction.

aiosqlite runs every driver call (cursor, execute, fetch, close, begin, commit) as a trip to
its thread and back through the event loop. Under load each trip waits for the loop to come
round, so capturing a batch of events took a dozen trips and ~10 ms where SQLite itself
needed ~1 ms. A :class:`BatchWriter` runs a whole transaction as one synchronous function:
on a SQLite file in a dedicated writer thread with its own connection (the same pragmas as
:mod:`storage.database`), one trip per transaction; elsewhere (PostgreSQL's asyncpg has no
thread to spare trips to) through ``AsyncConnection.run_sync``.

Like the unit of work, the writer owns its transactions: ``work`` writes, the writer commits,
or rolls back when ``work`` raises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Protocol, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import WRITE_OPTION, WriteGate, create_sqlite_writer_engine, write_gate

Result = TypeVar("Result")
Work = Callable[[Connection], Result]


class BatchWriter(Protocol):
    async def run(self, work: Work[Result], *, urgent: bool = True) -> Result:
        """Run ``work`` in one transaction, commit it and return what ``work`` returned.

        ``urgent``: a request waits on it (:class:`storage.database.WriteGate`'s lanes)."""

    async def close(self) -> None: ...


class ThreadedSqliteWriter:
    def __init__(self, engine: Engine, gate: WriteGate | None) -> None:
        self._engine = engine
        self._gate = gate or WriteGate()
        # One thread: SQLite has one writer anyway, and its connection never changes thread.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="klaxon-writer")
        # Kept open between transactions (only ever touched on the thread): checking it out
        # of the pool for each one took 0.14 ms of a 2.8 ms declare ack.
        self._connection: Connection | None = None

    async def run(self, work: Work[Result], *, urgent: bool = True) -> Result:
        loop = asyncio.get_running_loop()
        async with self._gate.turn(urgent=urgent):
            return await loop.run_in_executor(self._thread, self._transaction, work)

    def _transaction(self, work: Work[Result]) -> Result:
        if self._connection is None:
            connection = self._engine.connect()
            self._connection = connection.execution_options(**{WRITE_OPTION: True})
        try:
            with self._connection.begin():
                return work(self._connection)
        except BaseException:
            # A connection that failed may be broken (still inside a transaction whose
            # rollback failed, say): the next transaction gets a new one.
            self._close()
            raise

    def _close(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            connection.close()
        # The pool is static: disposing of it is what closes the SQLite connection itself.
        self._engine.dispose()

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown(wait=True)


class AsyncEngineWriter:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._gate = write_gate(engine)

    async def run(self, work: Work[Result], *, urgent: bool = True) -> Result:
        if self._gate is None:
            return await self._transaction(work)
        async with self._gate.turn(urgent=urgent):
            return await self._transaction(work)

    async def _transaction(self, work: Work[Result]) -> Result:
        async with self._engine.connect() as connection:
            writing = await connection.execution_options(**{WRITE_OPTION: True})
            async with writing.begin():
                return await writing.run_sync(work)

    async def close(self) -> None:
        return None


def batch_writer(engine: AsyncEngine) -> BatchWriter:
    url = engine.url
    database = url.database or ""
    on_a_file = database not in {"", ":memory:"} and not database.startswith("file:")
    if url.get_backend_name() == "sqlite" and on_a_file:
        return ThreadedSqliteWriter(create_sqlite_writer_engine(url), write_gate(engine))
    return AsyncEngineWriter(engine)
