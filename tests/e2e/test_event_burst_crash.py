"""SIGKILL during a burst of channel events: nothing Slack was told is stored is lost.

The bot runs as a real process on a SQLite file. A burst of war-room messages is delivered
16 at a time and the process is killed once some have been answered 200. With the bot dead,
every event that got its 200 must already be in the database, once. After a restart Slack
redelivers the ones that got no 200 (and, as it may, a few that did): then every event of the
burst is stored exactly once.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
from sqlalchemy import select

from slack_emulator import SlackEmulator
from slack_emulator.events import Delivery
from slack_emulator.web_api.chat import message_event
from storage.database import create_engine
from storage.models import IncidentRow, TimelineEntryRow
from tests.e2e.bot_process import Bot, slack
from tests.e2e.scenario import DECLARER, RESPONDER

__all__ = ["slack"]

BURST = 300
AT_ONCE = 16
KILL_AFTER_ACKS = 60


async def _stored_message_ts(folder: Path) -> list[str]:
    """The ts of every captured message entry, duplicates included."""
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'klaxon.db'}")
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(TimelineEntryRow.slack_ts)
                .join(IncidentRow, IncidentRow.id == TimelineEntryRow.incident_id)
                .where(TimelineEntryRow.kind == "message")
            )
            return [ts for (ts,) in rows if ts is not None]
    finally:
        await engine.dispose()


async def test_sigkill_mid_burst_loses_no_acknowledged_event_and_redelivery_fills_the_rest(
    slack: tuple[SlackEmulator, str, aiohttp.ClientSession], tmp_path: Path
) -> None:
    emulator, api_url, session = slack
    ws = emulator.default_workspace
    emulator.events.config.retry_delays = ()  # redeliveries are sent by the test, after restart
    bot = Bot(emulator, api_url, tmp_path)
    await bot.start(session)
    url = f"http://127.0.0.1:{bot.port}/slack/events"
    try:
        await bot.declare(session, "sev2 Search is slow", DECLARER)
        await emulator.wait_until(
            lambda: any(ws.pins(c.id) for c in ws.channels if c.name.startswith("inc-")),
            within=10,
        )
        room = next(c for c in ws.channels if c.name.startswith("inc-"))
        if RESPONDER not in room.members:
            room.members.append(RESPONDER)
        envelopes = [
            emulator.envelope(
                ws,
                message_event(
                    room, ws.add_message(room, user=RESPONDER, text=f"burst message {n}")
                ),
            )
            for n in range(BURST)
        ]
        deliveries: list[Delivery] = []
        gate = asyncio.Semaphore(AT_ONCE)
        killed = asyncio.Event()

        async def deliver(envelope: dict[str, object]) -> None:
            async with gate:
                delivery = await emulator.events.deliver(url, envelope)
                deliveries.append(delivery)
                if sum(d.succeeded for d in deliveries) >= KILL_AFTER_ACKS and not killed.is_set():
                    killed.set()
                    await bot.stop(signal.SIGKILL)

        await asyncio.gather(*(deliver(e) for e in envelopes))
    finally:
        await bot.stop(signal.SIGKILL)

    acknowledged = {d.event["ts"] for d in deliveries if d.succeeded}
    unanswered = [d for d in deliveries if not d.succeeded]
    assert KILL_AFTER_ACKS <= len(acknowledged) < BURST  # killed mid-burst
    assert unanswered
    stored = await _stored_message_ts(tmp_path)
    assert acknowledged <= set(stored), "an event answered 200 was not stored"
    assert len(stored) == len(set(stored)), "an event was stored twice"

    restarted = Bot(emulator, api_url, tmp_path)
    await restarted.start(session)
    try:
        url = f"http://127.0.0.1:{restarted.port}/slack/events"
        resend = unanswered + [d for d in deliveries if d.succeeded][:10]
        for delivery in resend:
            delivery.url = url
        attempts = await asyncio.gather(*(emulator.events.redeliver(d) for d in resend))
        assert all(attempt.status == 200 for attempt in attempts)
    finally:
        await restarted.stop()
    stored = await _stored_message_ts(tmp_path)
    assert sorted(stored) == sorted(e["event"]["ts"] for e in envelopes)
