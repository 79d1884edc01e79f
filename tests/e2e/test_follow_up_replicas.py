"""Follow-up timers with two bot processes on one database: the stability question is asked
once, and post-mortem reminders are sent once per moment, whichever replica claims them."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import aiohttp

from slack_emulator import SlackEmulator
from tests.e2e.harness import slash_command_body
from tests.e2e.replicas import replicas
from tests.e2e.scenario import DECLARER, seed, settings_toml
from tests.e2e.test_postmortems import ALWAYS_OPEN
from tests.e2e.test_stability import STABLE


async def test_two_replicas_ask_once_and_remind_once_per_moment(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    """Two bot processes on one database: each timer is claimed by one of them."""
    seed(emulator)
    settings_file = tmp_path / "klaxon.toml"
    drill = STABLE + ALWAYS_OPEN + '\n[postmortem]\ndue = { sev1 = "1s" }\n'
    drill += 'remind_before = "1s"\noverdue_every = "1s"\n'
    settings_file.write_text(settings_toml("#incidents", drill))
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    ws = emulator.default_workspace
    async with (
        replicas(
            2,
            emulator=emulator,
            api_url=api_url,
            database_url=database_url,
            settings_file=settings_file,
            folder=tmp_path,
        ) as (first, second),
        aiohttp.ClientSession() as session,
    ):
        body = slash_command_body("declare sev1 Two replicas", user_id=DECLARER)
        assert await first.post(session, body) == 200
        await emulator.wait_until(
            lambda: any(c.name.startswith("inc-") for c in ws.channels_by_id.values()), within=5
        )
        [room] = [c for c in ws.channels_by_id.values() if c.name.startswith("inc-")]
        await emulator.wait_until(lambda: ws.pins(room.id), within=5)
        for replica, text in ((second, "status monitoring"), (first, "resolve Fixed")):
            command = slash_command_body(text, user_id=DECLARER, channel_id=room.id)
            assert await replica.post(session, command) == 200
        await asyncio.sleep(4.5)
        asked = [m for m in ws.bot_messages(room.id) if "Close it now" in m.text]
        dm = ws.open_im(DECLARER).id  # the declarer resolved: the owner without a commander
        reminded = [m for m in ws.bot_messages(dm) if "The post-mortem of" in m.text]
    assert len(asked) == 1
    # One reminder a second from the due time on, however many replicas: never two at once
    # (a timer fired by both would send pairs a few milliseconds apart).
    assert 2 <= len(reminded) <= 5, [m.text for m in reminded]
    sent = [float(m.ts) for m in reminded]
    assert min(b - a for a, b in itertools.pairwise(sent)) > 0.3, sent
