"""Wakes the bot for due timers (ARCHITECTURE.md, decision 5).

APScheduler calls :meth:`TimerScheduler.tick` every ``poll_interval`` seconds. A tick claims
the due timers nobody holds, with a conditional UPDATE, and fires each in a tracked
background task. Timers live in the database, so a restarted bot finds the ones it missed
(and posts one catch-up update each, see :func:`bot.domain.schedule.next_update`), and
several bots on one database fire each timer once.

A claim is a lease: :meth:`TimerScheduler.renew_claims` extends the claims of the timers being
fired every :data:`CLAIM_RENEWAL` seconds, so a live process keeps them however slow Slack
is, and the timers of a process that was killed are free again :data:`CLAIM_LEASE` after its
last renewal, for another replica to take over (see :mod:`bot.incidents.timers`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import utcnow
from bot.domain.schedule import TimerKind
from bot.incidents.timers import fire_batch
from bot.incidents.war_room import resume_setup
from bot.metrics import Metrics
from bot.services import Services
from bot.status_page.reminders import fire_reminders
from storage.database import is_unavailable
from storage.repositories import ClaimedTimer

logger = logging.getLogger(__name__)

# A process that dies holding claims frees them after this; a live one renews them.
CLAIM_LEASE = timedelta(seconds=15)
# Three renewals per lease: a process must stall for ten seconds before it loses a claim.
CLAIM_RENEWAL = 5.0
CLAIM_BATCH = 200
# Batches being fired at once; each posts its updates concurrently.
MAX_FIRING = 8
# Timers fired by their own feature rather than bot.incidents.timers.fire_batch.
_FIRED_APART = frozenset({TimerKind.WAR_ROOM, TimerKind.STATUS_PAGE_REMINDER})
# While the database is unreachable, ticks keep trying but say so this often.
UNAVAILABLE_REPORT_EVERY = 30.0


def process_id() -> str:
    """Who holds a claim: host, pid and a random part, so a restarted process is new."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def is_gone(holder: str, me: str) -> bool:
    """A claim holder on this host that no longer runs: its pid is dead, or its pid is ours
    (a container restarted with the same pid) under an earlier incarnation."""
    host, _, rest = holder.partition(":")
    pid_text, _, _ = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit() or holder == me:
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class TimerScheduler:
    def __init__(
        self, services: Services, metrics: Metrics, *, poll_interval: float = 0.25
    ) -> None:
        self._services = services
        self._metrics = metrics
        self._poll_interval = poll_interval
        self.owner = services.process_id
        self._scheduler: AsyncIOScheduler | None = None
        self._firing = asyncio.Semaphore(MAX_FIRING)
        self._ticking = asyncio.Lock()
        # Timers claimed and not yet completed: their claims are renewed until then.
        self._holding: set[int] = set()
        self.fired = 0
        self._quiet_until = 0.0

    def start(self) -> None:
        # APScheduler logs every job run and every skipped overlapping run; neither is news.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
        logging.getLogger("apscheduler.executors").setLevel(logging.ERROR)
        self._scheduler = AsyncIOScheduler(timezone="UTC")
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=self._poll_interval,
            id="klaxon-timers",
            max_instances=1,
            coalesce=True,
            next_run_time=utcnow(),
        )
        self._scheduler.add_job(
            self.renew_claims,
            "interval",
            seconds=CLAIM_RENEWAL,
            id="klaxon-claims",
            max_instances=1,
            coalesce=True,
        )
        self._scheduler.start()

    async def stop(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a deadline
        """No new ticks; and wait for one under way, which the caller's database outlives."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout), self._ticking:
                pass

    async def release_dead_holders(self) -> None:
        """Claims of processes on this host that died (a restart, say) need not wait for their
        lease to lapse: the interrupted war room or update is taken over at once."""
        async with self._services.unit_of_work() as work:
            gone = [h for h in await work.timers.holders() if is_gone(h, self.owner)]
            if gone:
                await work.timers.release_claims_of(gone, utcnow())
            await work.commit()
        if gone:
            logger.info("took over the timers of %d stopped process(es)", len(gone))

    async def tick(self) -> int:
        """Claim and start firing every due timer; how many were claimed."""
        try:
            return await self._tick()
        except asyncio.CancelledError:
            # Shutdown cancels a tick still waiting on the database. Claims not yet committed
            # were never made, and the others lapse after CLAIM_LEASE: nothing is lost, and
            # APScheduler would log the cancellation as a job failure, with a traceback.
            logger.info("timer tick interrupted by shutdown")
            return 0

    async def _tick(self) -> int:
        if self._ticking.locked():
            return 0
        async with self._ticking:
            claimed_total = 0
            while True:
                now = utcnow()
                try:
                    async with self._services.unit_of_work() as work:
                        claimed = await work.timers.claim_due(
                            self.owner, now, CLAIM_LEASE, CLAIM_BATCH
                        )
                        await work.commit()
                except Exception as exc:
                    if not is_unavailable(exc):
                        raise
                    # Down or restarting: the next tick tries again; say so now and then.
                    if time.monotonic() >= self._quiet_until:
                        self._quiet_until = time.monotonic() + UNAVAILABLE_REPORT_EVERY
                        logger.warning(
                            "timers wait: the database is unavailable (%s)", type(exc).__name__
                        )
                    return claimed_total
                setups = [t for t in claimed if t.kind is TimerKind.WAR_ROOM]
                reminders = [t for t in claimed if t.kind is TimerKind.STATUS_PAGE_REMINDER]
                due = [t for t in claimed if t.kind not in _FIRED_APART]
                if reminders:
                    self._holding.update(timer.id for timer in reminders)
                    self._services.tasks.spawn(
                        self._remind(reminders), name="status page reminders"
                    )
                for setup in setups:
                    # The setup renews its own claim (see war_room.open_war_room).
                    self._services.tasks.spawn(
                        self._resume(setup), name=f"resume war room {setup.incident_id}"
                    )
                if due:
                    self._holding.update(timer.id for timer in due)
                    await self._firing.acquire()
                    self._services.tasks.spawn(self._fire(due), name="fire timers")
                claimed_total += len(claimed)
                if len(claimed) < CLAIM_BATCH:
                    return claimed_total

    async def _remind(self, timers: list[ClaimedTimer]) -> None:
        try:
            await fire_reminders(self._services, timers, self.owner, utcnow())
        except Exception:
            # The claims lapse and a tick retries them, as for any timer.
            logger.exception("firing %d status page reminders failed", len(timers))
        finally:
            self._holding.difference_update(timer.id for timer in timers)

    async def _resume(self, setup: ClaimedTimer) -> None:
        try:
            await resume_setup(self._services, setup.incident_id)
        except Exception:
            # The claim lapses and the setup is tried again; after an hour it is given up.
            logger.exception("resuming the war room of incident %s failed", setup.incident_id)

    async def renew_claims(self) -> None:
        """Keep the claims of the timers being fired; how many are still held is logged."""
        holding = set(self._holding)
        if not holding:
            return
        try:
            async with self._services.unit_of_work() as work:
                kept = await work.timers.renew(self.owner, holding, utcnow(), CLAIM_LEASE)
                await work.commit()
        except asyncio.CancelledError:
            logger.info("claim renewal interrupted by shutdown")  # the claims lapse instead
            return
        except Exception:
            logger.exception("could not renew the claims on %d timers", len(holding))
            return
        # Timers completed meanwhile are not lost; the others were moved by a change to their
        # incident, or (after a stall longer than the lease) taken over by another replica.
        lost = (holding & self._holding) - kept
        if lost:
            logger.info("no longer holding %d of the timers being fired", len(lost))

    async def _fire(self, timers: list[ClaimedTimer]) -> None:
        try:
            for fired in await fire_batch(self._services, timers, self.owner, utcnow()):
                self._metrics.observe_timer_lateness(fired.lateness)
                if fired.posted:
                    self.fired += 1
        except Exception:
            # No longer renewed, the claims lapse after CLAIM_LEASE and a tick (of this
            # process or another) retries these timers, as a takeover.
            logger.exception("firing %d timers failed", len(timers))
        finally:
            self._holding.difference_update(timer.id for timer in timers)
            self._firing.release()
