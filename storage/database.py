"""Engine construction: SQLite tuned for a bot (WAL, busy timeout) or PostgreSQL via asyncpg."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import sqlite3
import time
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import StaticPool

from storage.storable import guard, storable_json

SQLITE_BUSY_TIMEOUT_MS = 5000
# Execution option a writing unit of work sets on its connection (see _begin).
WRITE_OPTION = "klaxon_write"
HEALTH_CHECK_TIMEOUT = 2.0

logger = logging.getLogger(__name__)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling begins only before DML and breaks SAVEPOINTs;
    # switch it off and let the "begin" hook below start every transaction.
    dbapi_connection.isolation_level = None
    # WAL lets readers (health checks, timelines) run beside the single writer; the busy
    # timeout makes a second writer wait instead of failing with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    # Switching a new file to WAL needs a moment of exclusive access, and SQLite answers
    # "database is locked" at once (no busy wait) while another process is creating the
    # schema: replicas starting together retry for up to the busy timeout.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _begin(connection: Any) -> None:
    # A deferred transaction that reads and then writes fails at once with SQLITE_BUSY when
    # another writer committed in between (the busy timeout does not apply), so a writing unit
    # of work takes the write lock at BEGIN and queues; readers stay deferred and run beside it.
    if connection.get_execution_options().get(WRITE_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def create_engine(url: str, **options: Any) -> AsyncEngine:
    """An async engine for ``url``; a SQLite file's folder is created on first start."""
    parsed = make_url(url)
    options.setdefault("json_serializer", storable_json)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **options)
        event.listen(engine.sync_engine, "connect", _tune_sqlite)
        event.listen(engine.sync_engine, "begin", _begin)
        guard(engine.sync_engine)
        return engine
    options.setdefault("pool_pre_ping", True)
    engine = create_async_engine(url, **options)
    guard(engine.sync_engine)
    return engine


def create_sqlite_writer_engine(url: URL) -> Engine:
    """A synchronous engine on the same SQLite file, tuned the same, for a writer thread
    (:mod:`storage.batch_writer`)."""
    # One thread, one connection, kept open; every transaction ends in commit or rollback,
    # so the pool has nothing to reset when the connection comes back.
    engine = create_sync_engine(
        url.set(drivername="sqlite+pysqlite"),
        poolclass=StaticPool,
        pool_reset_on_return=None,
        json_serializer=storable_json,
    )
    guard(engine)
    event.listen(engine, "connect", _tune_sqlite)
    event.listen(engine, "begin", _begin_writing)
    return engine


def _begin_writing(connection: Any) -> None:
    # Every transaction of the writer thread writes. Straight to the driver: this runs for
    # every batch, and SQLAlchemy's statement machinery costs more than the BEGIN itself.
    connection.connection.driver_connection.execute("BEGIN IMMEDIATE")


class WriteGate:
    """SQLite's single writer, taken in turns inside this process: see :func:`write_gate`.

    Two lanes. ``urgent`` is for transactions a request waits on before Slack gets its answer
    (a declare, a batch of channel events); ``background`` for everything else. An urgent
    writer goes first, but never twice in a row while a background one waits, so it waits for
    at most one background transaction and background work still gets half the turns.
    """

    def __init__(self) -> None:
        self._held = False
        self._urgent: collections.deque[asyncio.Future[None]] = collections.deque()
        self._background: collections.deque[asyncio.Future[None]] = collections.deque()
        self._last_was_urgent = False

    @contextlib.asynccontextmanager
    async def turn(self, *, urgent: bool) -> AsyncIterator[None]:
        if self._held:
            waiter = asyncio.get_running_loop().create_future()
            (self._urgent if urgent else self._background).append(waiter)
            try:
                await waiter
            except BaseException:
                if waiter.done() and not waiter.cancelled():
                    self._pass_on()  # granted as it was cancelled: hand the turn on
                else:
                    with contextlib.suppress(ValueError):
                        (self._urgent if urgent else self._background).remove(waiter)
                raise
        else:
            self._held = True
        self._last_was_urgent = urgent
        try:
            yield
        finally:
            self._pass_on()

    def _pass_on(self) -> None:
        lanes = (self._background, self._urgent)
        if not self._last_was_urgent:
            lanes = (self._urgent, self._background)
        for lane in lanes:
            while lane:
                waiter = lane.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # still held: ownership passes to the waiter
                    return
        self._held = False


_write_gates: weakref.WeakKeyDictionary[Engine, WriteGate] = weakref.WeakKeyDictionary()


def write_gate(engine: AsyncEngine) -> WriteGate | None:
    """For a SQLite file, the gate every writing transaction of this process passes first.

    SQLite has one writer at a time. Left to itself, a connection that finds the write lock
    taken sleeps in SQLite's busy handler, up to 100 ms a try, while other connections keep
    taking the lock: in a flood of declares a declare's transaction waited 700 ms (p50)
    behind the war rooms' own. Queued at one gate instead, the writers of a process take
    turns in order, and the busy timeout is left to what it is for: other processes.
    PostgreSQL locks rows, not the database, and needs no gate.
    """
    if engine.url.get_backend_name() != "sqlite":
        return None
    return _write_gates.setdefault(engine.sync_engine, WriteGate())


# PostgreSQL error classes that mean "not now": 08 connection exceptions, and 57P01-57P03
# (the server shutting down, crashing or starting up).
_UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03")


def is_unavailable(error: BaseException) -> bool:
    """Whether ``error`` means the database could not be reached (down, restarting, refusing
    connections, or a SQLite file locked past the busy timeout) rather than that a statement
    was wrong. Such failures pass: retry later."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionError | TimeoutError):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str) and state.startswith(_UNAVAILABLE_STATES):
            return True
        # SQLite still locked by another process after the busy timeout.
        if isinstance(current, sqlite3.OperationalError) and "locked" in str(current):
            return True
        current = current.__cause__ or getattr(current, "orig", None)
    return False


def session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def is_reachable(engine: AsyncEngine) -> bool:
    """True when a trivial query succeeds in time; used by ``/healthz``."""
    try:
        async with asyncio.timeout(HEALTH_CHECK_TIMEOUT), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not reachable" to a health check
        logger.warning("database health check failed: %s", type(exc).__name__)
        return False
    return True
