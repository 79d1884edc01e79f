"""Telling "the database is not there right now" from "the statement was wrong"."""

from __future__ import annotations

import sqlite3

from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from storage.database import is_unavailable


class _PostgresError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _wrapped(orig: Exception, kind: type[DBAPIError] = DBAPIError) -> DBAPIError:
    return kind("SELECT 1", {}, orig)


def test_refused_and_dropped_connections_are_unavailability() -> None:
    assert is_unavailable(ConnectionRefusedError(111, "Connect call failed"))
    assert is_unavailable(TimeoutError())
    chained = RuntimeError("pool")
    chained.__cause__ = ConnectionResetError()
    assert is_unavailable(chained)


def test_postgres_shutting_down_or_starting_up_is_unavailability() -> None:
    for state in ("08006", "08001", "57P01", "57P03"):
        assert is_unavailable(_wrapped(_PostgresError(state))), state


def test_sqlite_still_locked_after_the_busy_timeout_is_unavailability() -> None:
    locked = sqlite3.OperationalError("database is locked")
    assert is_unavailable(_wrapped(locked, OperationalError))


def test_a_wrong_statement_is_not() -> None:
    assert not is_unavailable(_wrapped(_PostgresError("23505"), IntegrityError))
    assert not is_unavailable(_wrapped(sqlite3.OperationalError("no such table: x")))
    assert not is_unavailable(ValueError("bad input"))
