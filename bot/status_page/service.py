"""Publishing to the public status page: one transaction per post, then the page re-renders.

A post stores the public incident and its update, records it in the incident's timeline
(a key event, so the report lists it) and moves the stale-page reminder's stored timer, all
in one unit of work. What the public sees is read back from storage by :meth:`snapshot`.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import timedelta

from bot.clock import utcnow
from bot.config import KlaxonConfig, StatusPageSettings
from bot.domain.incident import Incident, TimelineKind
from bot.domain.schedule import TimerKind, TimerPlan, clear
from bot.errors import InvalidInput
from bot.status_page.domain import (
    COMPONENT_LABELS,
    OPERATIONAL,
    PublicIncident,
    PublicStatus,
    PublishDraft,
    draft_problems,
)
from bot.status_page.render import Snapshot
from bot.status_page.statuspage import StatuspageMirror
from message_templates.mrkdwn import escape, truncate
from storage.unit_of_work import UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class Published:
    """A post made: the public incident as it now is, and whether this post created it."""

    incident: PublicIncident
    first: bool
    draft: PublishDraft


def posted_text(public: PublicIncident, draft: PublishDraft, names: dict[str, str]) -> str:
    """The war room's and timeline's line for a post (mrkdwn; the person's text escaped)."""
    lines = [
        f"Posted to the status page: *{escape(draft.title)}* ({draft.status.label})",
        escape(draft.body),
    ]
    changed = [
        f"{escape(names[c])}: {COMPONENT_LABELS[s]}"
        for c, s in draft.components.items()
        if c in names
    ]
    if changed:
        lines.append("Components: " + ", ".join(changed))
    return truncate("\n".join(lines), 3000)


def reminder_plan(config: KlaxonConfig, incident: Incident, public: PublicIncident) -> TimerPlan:
    """When the public page is next stale, while the incident and its public page are open.

    Set whatever the severity: whether to remind is decided when it fires, so an incident
    raised into ``remind_severities`` after its last post is reminded about too.
    """
    settings = config.status_page
    if public.is_resolved or not incident.status.is_open:
        return clear(TimerKind.STATUS_PAGE_REMINDER)
    return TimerPlan(TimerKind.STATUS_PAGE_REMINDER, public.updated_at + settings.remind_after)


class StatusPage:
    def __init__(
        self,
        config: KlaxonConfig,
        unit_of_work: UnitOfWorkFactory,
        mirror: StatuspageMirror | None = None,
    ) -> None:
        self.config = config
        self.settings: StatusPageSettings = config.status_page
        self.mirror = mirror
        self._unit_of_work = unit_of_work
        self._listeners: list[Callable[[], None]] = []
        # One mirror call per incident at a time, in order: a second post must update the
        # Statuspage incident the first one created, not create another.
        self._mirroring: dict[int, asyncio.Lock] = {}
        # The page's "last updated" before anything was ever published.
        self._started = utcnow().replace(microsecond=0)

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    @property
    def component_names(self) -> dict[str, str]:
        return {c.id: c.name for c in self.settings.components}

    async def published(self, incident_id: int) -> PublicIncident | None:
        async with self._unit_of_work(write=False) as work:
            return await work.status_page.for_incident(incident_id)

    async def snapshot(self) -> Snapshot:
        since = utcnow() - timedelta(days=self.settings.history_days)
        async with self._unit_of_work(write=False) as work:
            incidents = await work.status_page.listed(since)
            last_post = await work.status_page.last_post_at()
        return Snapshot(
            settings=self.settings,
            incidents=tuple(incidents),
            updated_at=(last_post or self._started).replace(microsecond=0),
        )

    async def publish(self, incident: Incident, user: str, draft: PublishDraft) -> Published:
        problems = draft_problems(draft, self.settings.components)
        if problems:
            raise InvalidInput(" ".join(problems.values()))
        now = utcnow()
        async with self._unit_of_work() as work:
            before = await work.status_page.for_incident(incident.id)
            draft = touching(draft, before)
            public = await work.status_page.publish(
                incident.id,
                before.public_id if before else secrets.token_hex(6),
                title=draft.title.strip(),
                status=draft.status.value,
                body=draft.body.strip(),
                components=draft.components,
                by=user,
                at=now,
            )
            await work.timeline.append(
                incident.id,
                TimelineKind.STATUS_PAGE,
                occurred_at=now,
                actor=user,
                text=posted_text(public, draft, self.component_names),
                is_key=True,
                details={
                    "public_title": draft.title,
                    "status": draft.status.value,
                    "body": draft.body,
                    "components": dict(draft.components),
                },
            )
            await work.timers.apply(incident.id, reminder_plan(self.config, incident, public))
            await work.commit()
        for listener in self._listeners:
            listener()
        return Published(public, first=before is None, draft=draft)

    @contextlib.asynccontextmanager
    async def mirroring(self, incident_id: int) -> AsyncIterator[str | None]:
        """Hold the incident's turn to call Statuspage; yields its id there, if created."""
        lock = self._mirroring.setdefault(incident_id, asyncio.Lock())
        try:
            async with lock:
                public = await self.published(incident_id)
                yield public.statuspage_id if public else None
        finally:
            if not lock.locked():
                self._mirroring.pop(incident_id, None)

    async def mirrored(self, public: PublicIncident, statuspage_id: str) -> None:
        async with self._unit_of_work() as work:
            await work.status_page.mirrored(public.id, statuspage_id)
            await work.commit()


def touching(draft: PublishDraft, before: PublicIncident | None) -> PublishDraft:
    """Only the components this incident touches: those it marks down now, and those it
    marked down before (so their return to operational is recorded with it)."""
    earlier = before.components if before is not None else {}
    kept = {c: s for c, s in draft.components.items() if s != OPERATIONAL or c in earlier}
    return replace(draft, components=kept)


def resolution_draft(settings: StatusPageSettings, public: PublicIncident) -> PublishDraft:
    """The runbook's resolution notice: every component it touched back to operational."""
    return PublishDraft(
        title=public.title,
        status=PublicStatus.RESOLVED,
        body=settings.resolution_message,
        components=dict.fromkeys(public.components, "operational"),
    )
