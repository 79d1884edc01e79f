"""The unit of work: the one owner of a transaction. Repositories flush; only this commits."""

from __future__ import annotations

from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.database import WRITE_OPTION
from storage.reports import ReportRepository
from storage.repositories import (
    EventLog,
    IncidentRepository,
    TimelineRepository,
    TimerRepository,
)
from storage.timeline_capture import CaptureRepository


class UnitOfWork:
    """``async with uow_factory() as uow: ...; await uow.commit()``.

    Leaving the block without ``commit()`` (or through an exception) rolls back, so a
    half-done change is never persisted.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, write: bool) -> None:
        self._sessions = sessions
        self._write = write
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        self._session = self._sessions()
        if self._write:
            await self._session.connection(execution_options={WRITE_OPTION: True})
        self.incidents = IncidentRepository(self._session)
        self.timeline = TimelineRepository(self._session)
        self.events = EventLog(self._session)
        self.timers = TimerRepository(self._session)
        self.capture = CaptureRepository(self._session)
        self.reports = ReportRepository(self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        session = self._require_session()
        try:
            await session.rollback()
        finally:
            await session.close()
            self._session = None

    @property
    def session(self) -> AsyncSession:
        return self._require_session()

    async def commit(self) -> None:
        await self._require_session().commit()

    def _require_session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside 'async with'")
        return self._session


class UnitOfWorkFactory:
    def __init__(self, sessions: async_sessionmaker[Any]) -> None:
        self._sessions = sessions

    def __call__(self, *, write: bool = True) -> UnitOfWork:
        """``write=False`` for units that only read: on SQLite they do not take the write lock."""
        return UnitOfWork(self._sessions, write=write)
