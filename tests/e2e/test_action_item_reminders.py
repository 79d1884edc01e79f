"""Owners of action items are reminded by DM before the due date and while it is overdue, and
never once the item is done.

Due dates are dates, so the drill sets ``remind_before`` to end a few seconds from now: the
reminder "before the due date" then falls due during the test, whatever the day and hour.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from slack_emulator import SlackEmulator
from storage.models import ActionItemRow
from tests.e2e.harness import writing
from tests.e2e.scenario import RESPONDER, SRE_1, Scenario, custom_scenario
from tests.e2e.test_lifecycle import Incident, declare
from tests.e2e.test_postmortems import ALWAYS_OPEN
from tests.e2e.test_scheduled_updates import wait_for

LEAD = 4  # seconds from the bot's start to the "day before" reminder


def drill_due_date() -> tuple[date, int]:
    """A due date (UTC) and how many seconds before its start the reminder must be sent for
    it to be due ``LEAD`` seconds from now."""
    now = datetime.now(UTC)
    due = now.date() + timedelta(days=2)
    until = (datetime.combine(due, time(0, 0), UTC) - now).total_seconds()
    return due, int(until) - LEAD


@pytest.fixture
async def drill(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Scenario, date]]:
    due, before = drill_due_date()
    settings = ALWAYS_OPEN + f'\n[action_items]\nremind_before = "{before}s"\n'
    settings += 'overdue_every = "1s"\n'
    async for scenario in custom_scenario(emulator, api_url, tmp_path, settings):
        yield scenario, due


def reminders_to(scenario: Scenario, user: str) -> list[str]:
    dm = scenario.ws.open_im(user).id
    return [m.text for m in scenario.ws.bot_messages(dm) if m.text.startswith("*Action items")]


async def test_reminded_before_the_due_date_but_not_for_a_done_item(
    drill: tuple[Scenario, date],
) -> None:
    scenario, due = drill
    incident: Incident = await declare(scenario)
    await incident.command(f"action Renew certs <@{RESPONDER}|riley> due {due}")
    await incident.command(f"action Rotate keys <@{SRE_1}|sam> due {due}")
    await incident.command("action done 2")
    await wait_for(lambda: reminders_to(scenario, RESPONDER), LEAD + 3)
    [reminder] = reminders_to(scenario, RESPONDER)
    assert "#1 Renew certs" in reminder
    assert "due soon" in reminder
    await asyncio.sleep(1.0)
    assert reminders_to(scenario, SRE_1) == []  # marked done before its reminder
    assert len(reminders_to(scenario, RESPONDER)) == 1  # the next is after the due date


async def test_overdue_items_are_reminded_until_done(drill: tuple[Scenario, date]) -> None:
    scenario, due = drill
    incident = await declare(scenario)
    await incident.command(f"action Renew certs <@{SRE_1}|sam> due {due}")
    # Days go by: the due date is now in the past, and someone else takes the item on.
    async with writing(scenario.bot.klaxon.engine) as connection:
        await connection.execute(
            update(ActionItemRow)
            .where(ActionItemRow.incident_id == incident.id)
            .values(due=datetime.now(UTC).date() - timedelta(days=3))
        )
    await incident.command(f"action owner 1 <@{RESPONDER}|riley>")
    await wait_for(lambda: len(reminders_to(scenario, RESPONDER)) >= 2, 4)
    assert "*overdue*" in reminders_to(scenario, RESPONDER)[0]
    await incident.command("action done 1")
    done = len(reminders_to(scenario, RESPONDER))
    await asyncio.sleep(2.5)
    assert len(reminders_to(scenario, RESPONDER)) == done
