"""What post-incident reports, action items, stats and the App Home read and write."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.action_items import ActionItem, ActionItemDraft, ActionItemState
from bot.domain.incident import Incident
from storage.models import ActionItemRow, IncidentRow
from storage.repositories import to_incident

_INCIDENTS = cast("Table", IncidentRow.__table__)


def _to_item(row: ActionItemRow) -> ActionItem:
    return ActionItem(
        id=row.id,
        incident_id=row.incident_id,
        text=row.text,
        owner=row.owner,
        due=row.due,
        state=ActionItemState(row.state),
        created_by=row.created_by,
        created_at=row.created_at,
    )


class ReportRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_action_item(
        self, incident_id: int, draft: ActionItemDraft, *, by: str, at: datetime
    ) -> ActionItem:
        row = ActionItemRow(
            incident_id=incident_id,
            text=draft.text,
            owner=draft.owner,
            due=draft.due,
            state=ActionItemState.OPEN.value,
            created_by=by,
            created_at=at,
        )
        self._session.add(row)
        await self._session.flush()
        return _to_item(row)

    async def action_items(self, incident_id: int) -> list[ActionItem]:
        rows = await self._session.scalars(
            select(ActionItemRow)
            .where(ActionItemRow.incident_id == incident_id)
            .order_by(ActionItemRow.id)
        )
        return [_to_item(row) for row in rows]

    async def attach_report(self, incident_id: int, file_id: str, permalink: str) -> None:
        """Where the report is. Not a lifecycle change, so the version stays: a resolve or an
        update racing with the upload must not be refused because of it."""
        values: dict[str, Any] = {"report_file_id": file_id, "report_permalink": permalink}
        await self._session.execute(
            update(_INCIDENTS).where(_INCIDENTS.c.id == incident_id).values(**values)
        )

    async def declared_between(self, since: datetime, until: datetime) -> Sequence[Incident]:
        rows = await self._session.scalars(
            select(IncidentRow)
            .where(IncidentRow.declared_at >= since, IncidentRow.declared_at <= until)
            .order_by(IncidentRow.declared_at)
        )
        return [to_incident(row) for row in rows]
