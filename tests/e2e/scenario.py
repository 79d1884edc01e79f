"""A Slack workspace with people and channels, the real bot, and helpers to drive both.

Shared by the end-to-end tests that act like responders (declare, lifecycle, ...).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import utcnow
from slack_emulator import SlackClient, SlackEmulator
from storage.models import IncidentRow, TimelineEntryRow
from tests.e2e.harness import RunningBot, bot_settings, running_bot

DECLARER = "U0DECLARER"
RESPONDER = "U0RESPONDER1"
SRE_1, SRE_2 = "U0SRE00001", "U0SRE00002"
SRE_GROUP = "S0SRETEAM1"
# A test that declared just before midnight UTC and checked just after would look for the
# wrong day's ids; scenarios start clear of midnight (``clear_of_midnight``) instead.
MIDNIGHT_MARGIN = timedelta(seconds=45)


def today() -> str:
    """The day in incident ids and war-room names (UTC), as the bot numbers them now."""
    return utcnow().strftime("%Y%m%d")


async def clear_of_midnight() -> None:
    now = utcnow()
    midnight = datetime.combine(now.date() + timedelta(days=1), time(), tzinfo=UTC)
    if midnight - now < MIDNIGHT_MARGIN:
        await asyncio.sleep((midnight - now).total_seconds() + 1)


def settings_toml(announcements: str = "#incidents", extra: str = "") -> str:
    return f"""
[announcements]
channel = "{announcements}"

[severities.sev1]
responders = ["{RESPONDER}", "{SRE_GROUP}"]
{extra}
"""


class Scenario:
    def __init__(self, emulator: SlackEmulator, bot: RunningBot) -> None:
        self.emulator = emulator
        self.ws = emulator.default_workspace
        self.bot = bot
        self.slack = SlackClient(emulator, request_url=bot.events_url)

    async def command(self, text: str, *, user: str = DECLARER, channel: str = "general") -> Any:
        answer = await self.slack.slash_command("/incident", text, user_id=user, channel_id=channel)
        assert answer.status == 200, answer.text
        return answer.data

    async def settle(self) -> None:
        """Wait for the bot's background work (the war room) to finish."""
        assert await self.bot.klaxon.tasks.wait_idle(15), "background work did not finish"

    async def declare(self, text: str, **kwargs: Any) -> Any:
        reply = await self.command(f"declare {text}", **kwargs)
        await self.settle()
        return reply

    async def incidents(self) -> list[IncidentRow]:
        async with AsyncSession(self.bot.klaxon.engine) as session:
            return list(await session.scalars(select(IncidentRow).order_by(IncidentRow.id)))

    async def timeline_kinds(self, incident_id: int) -> list[str]:
        async with self.bot.klaxon.engine.connect() as connection:
            rows = await connection.execute(
                select(TimelineEntryRow.kind)
                .where(TimelineEntryRow.incident_id == incident_id)
                .order_by(TimelineEntryRow.id)
            )
            return [row[0] for row in rows]

    async def incident_count(self) -> int:
        async with self.bot.klaxon.engine.connect() as connection:
            return int((await connection.execute(select(func.count(IncidentRow.id)))).scalar_one())

    def notes_to(self, user: str) -> list[str]:
        """Everything the user was told privately: acks and response_url posts."""
        return [e.text for e in self.ws.ephemerals(user=user)]


def seed(emulator: SlackEmulator) -> None:
    ws = emulator.default_workspace
    for user_id, name in (
        (DECLARER, "dana"),
        (RESPONDER, "riley"),
        (SRE_1, "sam"),
        (SRE_2, "sasha"),
        ("U0BYSTANDR", "bo"),
    ):
        ws.add_user(name, user_id=user_id)
    ws.add_usergroup("sre", [SRE_1, SRE_2], usergroup_id=SRE_GROUP)
    ws.create_channel("general", bot_is_member=True, members=[DECLARER, "U0BYSTANDR"])
    ws.create_channel("incidents", bot_is_member=True)


async def custom_scenario(
    emulator: SlackEmulator,
    api_url: str,
    tmp_path: Path,
    extra_settings: str = "",
    announcements: str = "#incidents",
    **environment: Any,
) -> AsyncIterator[Scenario]:
    """``environment``: other settings, as the environment would give them."""
    await clear_of_midnight()
    seed(emulator)
    settings_file = tmp_path / "klaxon.toml"
    settings_file.write_text(settings_toml(announcements, extra_settings))
    settings = bot_settings(
        emulator, api_url, tmp_path, klaxon_config=str(settings_file), **environment
    )
    async with running_bot(settings) as bot:
        yield Scenario(emulator, bot)


def war_room_name(slug: str, number: int = 1) -> str:
    return f"inc-{today()}-{number:03d}-{slug}"
