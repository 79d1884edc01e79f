"""What post-incident reports, action items, stats and the App Home read and write."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, desc, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.action_items import ActionItem, ActionItemDraft, ActionItemState
from bot.domain.incident import Incident
from storage.models import ActionItemRow, ChecklistTickRow, IncidentRow, StatsChartRow
from storage.repositories import insert_ignoring_duplicates, to_incident

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
        done_at=row.done_at,
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

    # -- after the all-clear (bot.follow_up) ---------------------------------------------------

    async def change_action_item(self, item_id: int, **values: Any) -> None:
        await self._session.execute(
            update(ActionItemRow).where(ActionItemRow.id == item_id).values(**values)
        )

    async def open_items_owned_by(self, user_id: str) -> list[tuple[Incident, int, ActionItem]]:
        """The user's open items across incidents, each with its incident and number."""
        incident_ids = await self._session.scalars(
            select(ActionItemRow.incident_id)
            .where(
                ActionItemRow.owner == user_id,
                ActionItemRow.state == ActionItemState.OPEN.value,
            )
            .distinct()
        )
        found: list[tuple[Incident, int, ActionItem]] = []
        for incident_id in sorted(incident_ids.all()):
            incident_row = await self._session.get(IncidentRow, incident_id)
            if incident_row is None:
                continue
            incident = to_incident(incident_row)
            for number, item in enumerate(await self.action_items(incident_id), start=1):
                if item.owner == user_id and item.is_open:
                    found.append((incident, number, item))
        return found

    async def items_of(self, incident_ids: Sequence[int]) -> dict[int, list[ActionItem]]:
        rows = await self._session.scalars(
            select(ActionItemRow)
            .where(ActionItemRow.incident_id.in_(list(incident_ids)))
            .order_by(ActionItemRow.id)
        )
        items: dict[int, list[ActionItem]] = {}
        for row in rows:
            items.setdefault(row.incident_id, []).append(_to_item(row))
        return items

    async def set_postmortem(self, incident_id: int, **values: Any) -> None:
        """Post-mortem fields are not lifecycle changes: the version stays, as for reports."""
        await self._session.execute(
            update(_INCIDENTS).where(_INCIDENTS.c.id == incident_id).values(**values)
        )

    async def tick(self, incident_id: int, item: str, by: str | None, at: datetime) -> bool:
        """Tick a checklist item; False when it was ticked already."""
        values = {"incident_id": incident_id, "item": item, "ticked_by": by, "ticked_at": at}
        return await insert_ignoring_duplicates(self._session, ChecklistTickRow, values)

    async def ticks(self, incident_id: int) -> dict[str, tuple[str | None, datetime]]:
        rows = await self._session.execute(
            select(
                ChecklistTickRow.item, ChecklistTickRow.ticked_by, ChecklistTickRow.ticked_at
            ).where(ChecklistTickRow.incident_id == incident_id)
        )
        return {item: (by, at) for item, by, at in rows}

    async def postmortems_resolved_between(
        self, since: datetime, until: datetime
    ) -> Sequence[Incident]:
        rows = await self._session.scalars(
            select(IncidentRow)
            .where(
                IncidentRow.postmortem_due_at.is_not(None),
                IncidentRow.resolved_at >= since,
                IncidentRow.resolved_at <= until,
            )
            .order_by(IncidentRow.postmortem_due_at)
        )
        return [to_incident(row) for row in rows]

    async def pending_postmortems(self, limit: int) -> Sequence[Incident]:
        rows = await self._session.scalars(
            select(IncidentRow)
            .where(
                IncidentRow.postmortem_due_at.is_not(None),
                IncidentRow.postmortem_held_at.is_(None),
            )
            .order_by(IncidentRow.postmortem_due_at)
            .limit(limit)
        )
        return [to_incident(row) for row in rows]

    async def add_chart(self, file_id: str, permalink: str, by: str, at: datetime) -> None:
        self._session.add(
            StatsChartRow(file_id=file_id, permalink=permalink, created_by=by, created_at=at)
        )
        await self._session.flush()

    async def latest_chart(self) -> str | None:
        return await self._session.scalar(
            select(StatsChartRow.permalink).order_by(desc(StatsChartRow.created_at)).limit(1)
        )
