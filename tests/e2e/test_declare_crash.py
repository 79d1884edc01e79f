"""SIGKILL in the middle of a declare: after a restart the war room is finished, once; and
SIGTERM in the middle of one: the war room is finished before the process exits.

The bot runs as a real process. Slowing ``usergroups.users.list`` (expanded alongside
``conversations.create``) holds the flow after the channel exists but before it is recorded,
the worst moment: a naive retry would leave that channel orphaned and open a second one.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import aiohttp

from slack_emulator import SlackEmulator
from tests.e2e.bot_process import Bot, slack, stored
from tests.e2e.scenario import DECLARER, RESPONDER, SRE_1

__all__ = ["slack"]  # the fixture, shared with the other crash tests


async def test_killed_after_the_channel_exists_the_restart_adopts_it_and_finishes(
    slack: tuple[SlackEmulator, str, aiohttp.ClientSession], tmp_path: Path
) -> None:
    emulator, api_url, session = slack
    ws = emulator.default_workspace
    emulator.faults.latency("usergroups.users.list", 6)
    bot = Bot(emulator, api_url, tmp_path)
    await bot.start(session)
    try:
        await bot.declare(session, "sev1 Payments down", DECLARER)
        await emulator.wait_until(
            lambda: any(c.name.startswith("inc-") for c in ws.channels_by_id.values()),
            within=10,
        )
        await bot.stop(signal.SIGKILL)
    finally:
        await bot.stop(signal.SIGKILL)
    [row] = await stored(tmp_path)
    assert row.channel_id is None  # killed before the channel was recorded

    emulator.faults.clear()
    restarted = Bot(emulator, api_url, tmp_path)
    await restarted.start(session)
    try:
        await emulator.wait_until(
            lambda: any("is ready" in m.text for m in ws.bot_messages(ws.open_im(DECLARER).id)),
            within=15,
        )
    finally:
        await restarted.stop()

    rooms = [c for c in ws.channels_by_id.values() if c.name.startswith("inc-")]
    assert len(rooms) == 1, [c.name for c in rooms]  # adopted, not orphaned
    [row] = await stored(tmp_path)
    assert row.channel_id == rooms[0].id
    assert row.card_ts is not None
    assert len(ws.pins(rooms[0].id)) == 1
    assert {DECLARER, RESPONDER, SRE_1} <= set(ws.members(rooms[0].id))
    notices = [m for m in ws.bot_messages("incidents") if "Payments down" in m.text]
    assert len(notices) == 1


async def test_sigterm_mid_declare_finishes_the_war_room_and_exits_within_ten_seconds(
    slack: tuple[SlackEmulator, str, aiohttp.ClientSession], tmp_path: Path
) -> None:
    emulator, api_url, session = slack
    ws = emulator.default_workspace
    emulator.faults.latency("*", 0.4)  # a slow Slack: the war room takes a couple of seconds
    bot = Bot(emulator, api_url, tmp_path)
    await bot.start(session)
    assert bot.process is not None
    try:
        await bot.declare(session, "sev1 Payments down", DECLARER)
        started = time.monotonic()
        bot.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(bot.process.wait(), timeout=12)
        assert time.monotonic() - started < 10
        assert bot.process.returncode == 0
    finally:
        await bot.stop(signal.SIGKILL)
    [room] = [c for c in ws.channels_by_id.values() if c.name.startswith("inc-")]
    assert len(ws.pins(room.id)) == 1  # the war room was finished before exiting
    [row] = await stored(tmp_path)
    assert row.channel_id == room.id
    assert row.card_ts is not None
