"""The unit of work: the one owner of a transaction. Repositories flush; only this commits."""

from __future__ import annotations

import contextlib
from types import TracebackType
from typing import Any, Self

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.database import WRITE_OPTION, WriteGate, write_gate
from storage.oncall import HandoffRepository
from storage.reports import ReportRepository
from storage.repositories import (
    EventLog,
    IncidentRepository,
    TimelineRepository,
    TimerRepository,
)
from storage.status_page import StatusPageRepository
from storage.timeline_capture import CaptureRepository


class UnitOfWork:
    """``async with uow_factory() as uow: ...; await uow.commit()``.

    Leaving the block without ``commit()`` (or through an exception) rolls back, so a
    half-done change is never persisted.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        write: bool,
        gate: WriteGate | None = None,
    ) -> None:
        self._sessions = sessions
        self._write = write
        self._gate = gate if write else None
        self._turn: contextlib.AbstractAsyncContextManager[None] | None = None
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> Self:
        if self._gate is not None:
            self._turn = self._gate.turn(urgent=False)
            await self._turn.__aenter__()
        try:
            self._session = self._sessions()
            if self._write:
                await self._session.connection(execution_options={WRITE_OPTION: True})
        except BaseException:
            await self._leave()
            raise
        self.incidents = IncidentRepository(self._session)
        self.timeline = TimelineRepository(self._session)
        self.events = EventLog(self._session)
        self.timers = TimerRepository(self._session)
        self.capture = CaptureRepository(self._session)
        self.reports = ReportRepository(self._session)
        self.status_page = StatusPageRepository(self._session)
        self.handoffs = HandoffRepository(self._session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._leave()

    async def _leave(self) -> None:
        try:
            if self._session is not None:
                try:
                    await self._session.rollback()
                finally:
                    await self._session.close()
        finally:
            self._session = None
            turn, self._turn = self._turn, None
            if turn is not None:
                await turn.__aexit__(None, None, None)

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
        bind = sessions.kw.get("bind")
        self._gate = write_gate(bind) if isinstance(bind, AsyncEngine) else None

    def __call__(self, *, write: bool = True) -> UnitOfWork:
        """``write=False`` for units that only read: on SQLite they do not take the write lock."""
        return UnitOfWork(self._sessions, write=write, gate=self._gate)
