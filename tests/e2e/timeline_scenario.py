"""A declared incident with its war room, the real bot over HTTP, and the timeline it keeps."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot.domain.incident import TimelineEntry, TimelineKind
from slack_emulator import SlackClient, SlackEmulator
from slack_emulator.events import Delivery
from slack_emulator.state import Channel, Message
from slack_emulator.web_api.chat import message_event
from storage.database import session_factory
from storage.unit_of_work import UnitOfWorkFactory
from tests.e2e.harness import RunningBot, bot_settings, running_bot

DECLARER = "U0DECLARER"
RESPONDER = "U0RESPONDER1"
BYSTANDER = "U0BYSTANDR"

SETTINGS = f"""
[announcements]
channel = "#incidents"

[severities.sev1]
responders = ["{RESPONDER}"]
"""


def seed(emulator: SlackEmulator) -> None:
    ws = emulator.default_workspace
    for user_id, name in ((DECLARER, "dana"), (RESPONDER, "riley"), (BYSTANDER, "bo")):
        ws.add_user(name, user_id=user_id)
    ws.create_channel("general", bot_is_member=True, members=[DECLARER, BYSTANDER, RESPONDER])
    ws.create_channel("incidents", bot_is_member=True)


class WarRoom:
    """One declared SEV1 whose war room is ready; events sent now go to the bot over HTTP."""

    def __init__(self, emulator: SlackEmulator, bot: RunningBot) -> None:
        self.emulator = emulator
        self.ws = emulator.default_workspace
        self.bot = bot
        self.slack = SlackClient(emulator, request_url=bot.events_url)
        self.uow = UnitOfWorkFactory(session_factory(bot.klaxon.engine))
        self.incident_id = 0
        self.channel: Channel

    async def open(self, title: str = "Checkout API returning 500s") -> None:
        answer = await self.slack.slash_command(
            "/incident", f"declare sev1 {title}", user_id=DECLARER, channel_id="general"
        )
        assert answer.status == 200, answer.text
        await self.settle()
        async with self.uow(write=False) as work:
            [incident] = await work.incidents.list_open()
        assert incident.channel_id is not None
        self.incident_id = incident.id
        self.channel = self.ws.get_channel(incident.channel_id)

    async def settle(self) -> None:
        """The bot's background work done, and the events it caused delivered back to it."""
        assert await self.bot.klaxon.tasks.wait_idle(15)
        await self.emulator.wait_for_events()

    async def entries(self, *, incident_id: int | None = None) -> list[TimelineEntry]:
        async with self.uow(write=False) as work:
            return await work.capture.entries(incident_id or self.incident_id)

    async def captured(self, kind: TimelineKind = TimelineKind.MESSAGE) -> list[TimelineEntry]:
        return [entry for entry in await self.entries() if entry.kind is kind]

    async def message_entry(self, ts: str) -> TimelineEntry:
        [entry] = [e for e in await self.captured() if e.slack_ts == ts]
        return entry

    async def post(self, text: str, *, user: str = DECLARER, **kwargs: Any) -> Message:
        return await self.slack.user_posts(self.channel.id, user, text, **kwargs)

    async def send(self, event: dict[str, Any]) -> Delivery:
        """An event built by the test (late, early or odd), delivered like Slack does."""
        delivery = await self.slack.send_event(event)
        assert delivery.attempts[-1].status == 200, delivery.attempts
        return delivery

    def posted_event(self, message: Message) -> dict[str, Any]:
        """The ``message`` event Slack sends for ``message`` as it was first posted."""
        return message_event(self.ws.get_channel(message.channel), message)


async def open_war_room(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> AsyncIterator[WarRoom]:
    seed(emulator)
    settings_file = tmp_path / "klaxon.toml"
    settings_file.write_text(SETTINGS)
    settings = bot_settings(emulator, api_url, tmp_path, klaxon_config=str(settings_file))
    async with running_bot(settings) as bot:
        room = WarRoom(emulator, bot)
        await room.open()
        yield room
