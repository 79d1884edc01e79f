"""The on-call handoff: at each handoff moment, the runbook's checklist by direct message to
the outgoing and incoming people and in the rotation's ``handoff_channel``; and the rotation's
user group set to the incoming person.

A handoff is a stored row (``rotation_handoffs``), planned by every replica (one row results)
and claimed with a conditional UPDATE before it fires, like incident timers
(ARCHITECTURE.md, decision 5). The claim is a lease, renewed while the checklist is posted; a
process killed mid-handoff leaves it to lapse, and whoever takes the handoff over reads each
destination's history for the handoff's key (message metadata) and posts only what is
missing. So each checklist is posted once in each place, across restarts and replicas.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import utcnow
from bot.errors import SlackUnavailable
from bot.oncall.checklist import Checklist
from bot.oncall.rotation import Rotation
from bot.reports import home
from bot.scheduler import CLAIM_LEASE, CLAIM_RENEWAL, is_gone
from bot.services import Services
from message_templates.oncall import handoff_checklist
from storage.database import is_unavailable
from storage.oncall import ClaimedHandoff

logger = logging.getLogger(__name__)

MARKER_EVENT = "klaxon_handoff"
# A handoff found this late (Klaxon was down through it) is recorded, not announced: a
# checklist from yesterday would mislead more than it helps.
STALE_AFTER = timedelta(hours=12)
# Posts of a handoff taken over are looked for from a little before it was due (clock skew).
CLOCK_SKEW = timedelta(seconds=60)
ITEMS_LISTED = 15
_INSTANT = timedelta(microseconds=1)


def handoff_key(handoff: ClaimedHandoff) -> str:
    return f"{handoff.rotation}:{handoff.due_at.isoformat()}"


class Handoffs:
    """Plans, claims and fires rotation handoffs; keeps user groups on the rotation."""

    def __init__(self, services: Services, *, poll_interval: float = 1.0) -> None:
        self._services = services
        self._poll_interval = poll_interval
        self._scheduler: AsyncIOScheduler | None = None
        self._holding: set[int] = set()
        self._ticking = asyncio.Lock()
        self.fired = 0

    @property
    def _rotations(self) -> dict[str, Rotation]:
        return self._services.config.rotation_schedules()

    async def start(self) -> None:
        if not self._rotations:
            return
        await self._release_dead_holders()
        await self.plan(utcnow())
        for name in self._rotations:
            self._services.tasks.spawn(self.sync_usergroup(name), name=f"user group {name}")
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self.tick, "interval", seconds=self._poll_interval, id="klaxon-handoffs",
            max_instances=1, coalesce=True, next_run_time=utcnow(),
        )  # fmt: skip
        self._scheduler.add_job(
            self.renew_claims, "interval", seconds=CLAIM_RENEWAL, id="klaxon-handoff-claims",
            max_instances=1, coalesce=True,
        )  # fmt: skip
        self._scheduler.start()

    async def stop(self) -> None:
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None

    async def _release_dead_holders(self) -> None:
        me = self._services.process_id
        async with self._services.unit_of_work() as work:
            gone = [h for h in await work.handoffs.holders() if is_gone(h, me)]
            if gone:
                await work.handoffs.release_claims_of(gone, utcnow())
            await work.commit()

    async def plan(self, now: datetime) -> None:
        """Store each rotation's next handoff after ``now`` (a no-op where it is stored)."""
        async with self._services.unit_of_work() as work:
            for name, rotation in self._rotations.items():
                current = rotation.on_call(now)
                following = rotation.next_after(now)
                if current.until is not None and following is not None:
                    await work.handoffs.plan(name, current.until, current.person, following.person)
            await work.commit()

    async def tick(self) -> int:
        if self._ticking.locked():
            return 0
        async with self._ticking:
            now = utcnow()
            try:
                # A read first: on SQLite a claim takes the one write lock, every tick.
                async with self._services.unit_of_work(write=False) as reading:
                    if not await reading.handoffs.any_due(now):
                        return 0
                async with self._services.unit_of_work() as work:
                    claimed = await work.handoffs.claim_due(
                        self._services.process_id, now, CLAIM_LEASE
                    )
                    await work.commit()
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                return 0  # the timers' scheduler says so; the next tick tries again
            for handoff in claimed:
                self._holding.add(handoff.id)
                self._services.tasks.spawn(self._fire(handoff), name=f"handoff {handoff.rotation}")
            return len(claimed)

    async def renew_claims(self) -> None:
        holding = list(self._holding)
        if not holding:
            return
        try:
            async with self._services.unit_of_work() as work:
                await work.handoffs.renew(self._services.process_id, holding, utcnow(), CLAIM_LEASE)
                await work.commit()
        except Exception:
            logger.exception("could not renew the claims on %d handoffs", len(holding))

    async def _fire(self, handoff: ClaimedHandoff) -> None:
        try:
            await self.fire(handoff, utcnow())
        except Exception:
            # Unrenewed, the claim lapses and the handoff is taken over (by this process too).
            logger.exception("the %s handoff failed; it will be tried again", handoff.rotation)
        finally:
            self._holding.discard(handoff.id)

    async def fire(self, handoff: ClaimedHandoff, now: datetime) -> None:
        rotation = self._rotations.get(handoff.rotation)
        if rotation is not None:
            await self._checklist(handoff, rotation, now)
            await self.sync_usergroup(handoff.rotation)
        async with self._services.unit_of_work() as work:
            completed = await work.handoffs.complete(self._services.process_id, handoff.id, now)
            await work.commit()
        if completed:
            self.fired += 1
            # Open Home tabs show "On call now".
            home.incidents_changed(self._services)
        await self.plan(max(now, handoff.due_at))

    async def _checklist(self, handoff: ClaimedHandoff, rotation: Rotation, now: datetime) -> None:
        outgoing = rotation.on_call(handoff.due_at - _INSTANT).person
        incoming = rotation.on_call(handoff.due_at).person
        if outgoing == incoming:
            # The settings changed since it was planned: no longer a handoff.
            logger.info("the %s handoff at %s is no longer one", handoff.rotation, handoff.due_at)
        elif now - handoff.due_at > STALE_AFTER:
            logger.warning(
                "the %s handoff due at %s was missed (Klaxon was not running); not announced",
                handoff.rotation,
                handoff.due_at,
            )
        else:
            await self._announce(handoff, rotation, outgoing, incoming)

    async def _announce(
        self, handoff: ClaimedHandoff, rotation: Rotation, outgoing: str, incoming: str
    ) -> None:
        services = self._services
        async with services.unit_of_work(write=False) as work:
            incidents = await work.incidents.list_open()
            items = await work.handoffs.open_items_of(incoming, ITEMS_LISTED + 1)
        checklist = Checklist(
            rotation=handoff.rotation,
            outgoing=outgoing,
            incoming=incoming,
            until=rotation.on_call(handoff.due_at).until,
            zone=rotation.zone,
            open_incidents=incidents,
            action_items=items,
            labels={key: s.label for key, s in services.config.severities.items()},
        )
        message = handoff_checklist(checklist)
        settings = services.config.rotations[handoff.rotation]
        destinations = await asyncio.gather(
            *(self._dm_channel(user) for user in dict.fromkeys((incoming, outgoing)))
        )
        if settings.handoff_channel:
            destinations.append(settings.handoff_channel)
        metadata = {"event_type": MARKER_EVENT, "event_payload": {"handoff": handoff_key(handoff)}}
        posted = await self._posted_already(handoff, destinations) if handoff.taken_over else set()
        # One at a time, the incoming person first: a process that dies part-way leaves the
        # most important posts made, and the rest to whoever takes over.
        for channel in destinations:
            if channel not in posted:
                await services.slack.post_message(
                    channel, message.text, message.blocks, metadata=metadata
                )

    async def _dm_channel(self, user: str) -> str:
        """The DM channel's id, so its history can be read; the user id if Slack won't say
        (the post still arrives, but a takeover cannot see it and posts again)."""
        try:
            return await self._services.slack.open_dm(user)
        except SlackUnavailable as exc:
            logger.warning("could not open a DM with %s: %s", user, exc)
            return user

    async def _posted_already(self, handoff: ClaimedHandoff, channels: list[str]) -> set[str]:
        since = (handoff.due_at - CLOCK_SKEW).timestamp()
        key = handoff_key(handoff)
        found = set()
        for channel in channels:
            if not channel.startswith(("C", "G", "D")):
                continue
            try:
                metadata = await self._services.slack.message_metadata(channel, oldest=since)
            except SlackUnavailable as exc:
                logger.warning("could not read %s for a stopped replica's posts: %s", channel, exc)
                continue
            if any(
                m.get("event_type") == MARKER_EVENT
                and isinstance(m.get("event_payload"), dict)
                and m["event_payload"].get("handoff") == key
                for m in metadata
            ):
                found.add(channel)
        return found

    async def sync_usergroup(self, name: str) -> None:
        """Make the rotation's user group hold exactly whoever is on call now."""
        settings = self._services.config.rotations.get(name)
        rotation = self._rotations.get(name)
        if settings is None or rotation is None or settings.usergroup is None:
            return
        person = rotation.on_call(utcnow()).person
        slack = self._services.slack
        with contextlib.suppress(SlackUnavailable):
            if await slack.usergroup_members(settings.usergroup) == [person]:
                return
        try:
            await slack.set_usergroup_members(settings.usergroup, [person])
        except SlackUnavailable as exc:
            logger.warning(
                "could not set user group %s to %s (%s): is usergroups:write granted?",
                settings.usergroup,
                person,
                exc.error,
            )
        else:
            logger.info(
                "user group %s now holds %s, on call in %s", settings.usergroup, person, name
            )
