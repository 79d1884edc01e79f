"""The public status page's tables and repository: what people published, nothing else.

A ``status_incidents`` row exists only once someone has published an incident; its public
title, status and the updates below it are exactly the text they submitted. Component
statuses are stored per update and derived for the page (see :mod:`bot.status_page.domain`),
so a component returns to operational by itself once every public incident touching it is
resolved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.status_page.domain import PublicIncident, PublicUpdate
from storage.models import Base


class StatusIncidentRow(Base):
    __tablename__ = "status_incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # One public incident per incident.
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), unique=True
    )
    # Shown publicly instead of the internal incident id, which reveals counts and dates.
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(index=True)
    resolved_at: Mapped[datetime | None]
    # The mirrored incident on Atlassian Statuspage, once created there.
    statuspage_id: Mapped[str | None] = mapped_column(String(64))


class StatusUpdateRow(Base):
    __tablename__ = "status_updates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status_incident_id: Mapped[int] = mapped_column(
        ForeignKey("status_incidents.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    # Component id -> status, as the person set them with this update.
    components: Mapped[dict[str, Any]]
    posted_by: Mapped[str] = mapped_column(String(32))
    posted_at: Mapped[datetime]


def _to_update(row: StatusUpdateRow) -> PublicUpdate:
    return PublicUpdate(
        id=row.id,
        status=row.status,
        body=row.body,
        components={str(k): str(v) for k, v in (row.components or {}).items()},
        posted_by=row.posted_by,
        posted_at=row.posted_at,
    )


def _to_incident(row: StatusIncidentRow, updates: Sequence[PublicUpdate]) -> PublicIncident:
    return PublicIncident(
        id=row.id,
        incident_id=row.incident_id,
        public_id=row.public_id,
        title=row.title,
        status=row.status,
        created_at=row.created_at,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
        statuspage_id=row.statuspage_id,
        updates=tuple(updates),
    )


class StatusPageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def for_incident(self, incident_id: int) -> PublicIncident | None:
        row = await self._session.scalar(
            select(StatusIncidentRow).where(StatusIncidentRow.incident_id == incident_id)
        )
        if row is None:
            return None
        rows = await self._session.scalars(
            select(StatusUpdateRow)
            .where(StatusUpdateRow.status_incident_id == row.id)
            .order_by(StatusUpdateRow.posted_at.desc(), StatusUpdateRow.id.desc())
        )
        return _to_incident(row, [_to_update(update_row) for update_row in rows])

    async def publish(
        self,
        incident_id: int,
        public_id: str,
        *,
        title: str,
        status: str,
        body: str,
        components: Mapping[str, str],
        by: str,
        at: datetime,
    ) -> PublicIncident:
        """Create the public incident, or post an update to it; returns it as it now is."""
        row = await self._session.scalar(
            select(StatusIncidentRow).where(StatusIncidentRow.incident_id == incident_id)
        )
        resolved_at = at if status == "resolved" else None
        if row is None:
            row = StatusIncidentRow(
                incident_id=incident_id,
                public_id=public_id,
                title=title,
                status=status,
                created_at=at,
                updated_at=at,
                resolved_at=resolved_at,
            )
            self._session.add(row)
        else:
            row.title = title
            row.status = status
            row.updated_at = at
            row.resolved_at = resolved_at if status == "resolved" else None
        await self._session.flush()
        self._session.add(
            StatusUpdateRow(
                status_incident_id=row.id,
                status=status,
                body=body,
                components=dict(components),
                posted_by=by,
                posted_at=at,
            )
        )
        await self._session.flush()
        found = await self.for_incident(incident_id)
        assert found is not None
        return found

    async def mirrored(self, status_incident_id: int, statuspage_id: str) -> None:
        await self._session.execute(
            update(StatusIncidentRow)
            .where(StatusIncidentRow.id == status_incident_id)
            .values(statuspage_id=statuspage_id)
        )

    async def listed(self, since: datetime) -> list[PublicIncident]:
        """Unresolved public incidents, and those resolved since ``since``, newest first."""
        rows = list(
            await self._session.scalars(
                select(StatusIncidentRow)
                .where(
                    StatusIncidentRow.resolved_at.is_(None)
                    | (StatusIncidentRow.resolved_at >= since)
                )
                .order_by(StatusIncidentRow.created_at.desc(), StatusIncidentRow.id.desc())
            )
        )
        if not rows:
            return []
        updates: dict[int, list[PublicUpdate]] = {row.id: [] for row in rows}
        found = await self._session.execute(
            select(StatusUpdateRow)
            .where(StatusUpdateRow.status_incident_id.in_(list(updates)))
            .order_by(StatusUpdateRow.posted_at.desc(), StatusUpdateRow.id.desc())
        )
        for (update_row,) in found:
            updates[update_row.status_incident_id].append(_to_update(update_row))
        return [_to_incident(row, updates[row.id]) for row in rows]

    async def last_post_at(self) -> datetime | None:
        return await self._session.scalar(select(func.max(StatusUpdateRow.posted_at)))
