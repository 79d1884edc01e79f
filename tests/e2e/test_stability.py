"""Stable, then closed: a two-second stability period after monitoring (or resolving), the
question to the commander, its answers, the close checklist, and what interrupts the period.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.incident import TimelineKind
from bot.ids import ActionId
from slack_emulator import SlackEmulator
from slack_emulator.state import Message
from tests.e2e.harness import bot_settings, running_bot
from tests.e2e.scenario import DECLARER, RESPONDER, Scenario, custom_scenario, seed, settings_toml
from tests.e2e.test_lifecycle import Incident, declare
from tests.e2e.test_scheduled_updates import wait_for

STABLE = """
[stability]
period = "2s"
by_severity = { sev3 = "1h" }
"""


@pytest.fixture
async def drill(emulator: SlackEmulator, api_url: str, tmp_path: Path) -> AsyncIterator[Scenario]:
    async for scenario in custom_scenario(emulator, api_url, tmp_path, STABLE):
        yield scenario


def questions(scenario: Scenario, incident: Incident) -> list[Message]:
    return [m for m in scenario.ws.bot_messages(incident.channel) if "Close it now" in m.text]


def checklists(scenario: Scenario, incident: Incident) -> list[Message]:
    return [
        m
        for m in scenario.ws.bot_messages(incident.channel)
        if m.text.startswith("Post-incident checklist")
    ]


async def monitoring(scenario: Scenario, text: str = "sev1 Checkout down") -> Incident:
    incident = await declare(scenario, text)
    await incident.command("ack", user=RESPONDER)
    await incident.command("status monitoring")
    return incident


async def test_commander_is_asked_after_the_period_and_close_now_closes(drill: Scenario) -> None:
    incident = await monitoring(drill)
    await incident.command("action Add a canary")
    await asyncio.sleep(1.0)
    assert questions(drill, incident) == []  # not before the period ends
    await wait_for(lambda: questions(drill, incident), 3)
    [question] = questions(drill, incident)
    assert f"<@{RESPONDER}>" in question.text  # the commander
    await incident.press("Close now", DECLARER, source=question)
    row = await incident.row()
    assert row.status == "closed"
    assert row.resolved_by == DECLARER
    [checklist] = checklists(drill, incident)
    shown = str(checklist.blocks)
    # Klaxon ticked what it knows: the post-mortem is scheduled, an action item exists.
    assert "~Post-mortem scheduled~ · Klaxon" in shown
    assert "~Action items created~ · Klaxon" in shown
    assert "~Status page resolved~ · Klaxon" in shown
    assert "~Ticket updated~" not in shown

    # Two people press the first open item's button ("Ticket updated") at once: one tick.
    answers = await asyncio.gather(
        *(
            drill.slack.press_button(
                checklist, user_id=user, action_id=ActionId.CHECKLIST_TICK.value
            )
            for user in (RESPONDER, RESPONDER)
        )
    )
    assert [a.status for a in answers] == [200, 200]
    await drill.settle()
    redrawn = checklists(drill, incident)[0]
    assert f"~Ticket updated~ · <@{RESPONDER}>" in str(redrawn.blocks)
    ticks = [(e.actor, e.text) for e in await incident.entries(TimelineKind.CHECKLIST)]
    assert ticks[-1] == (
        RESPONDER,
        f"<@{RESPONDER}> ticked “Ticket updated” on the post-incident checklist",
    )
    # Klaxon's three: the post-mortem, the action items, and the status page, never published.
    assert [actor for actor, _ in ticks] == [None, None, None, RESPONDER]
    assert "was ticked already" in str(drill.notes_to(RESPONDER))


async def test_keep_monitoring_asks_again_after_another_period(drill: Scenario) -> None:
    incident = await monitoring(drill)
    await wait_for(lambda: questions(drill, incident), 4)
    await incident.press("Keep monitoring", RESPONDER, source=questions(drill, incident)[0])
    assert (await incident.row()).status == "monitoring"
    await asyncio.sleep(1.0)
    assert len(questions(drill, incident)) == 1
    await wait_for(lambda: len(questions(drill, incident)) == 2, 3)
    [entry] = await incident.entries(TimelineKind.STABILITY)
    assert entry.actor == RESPONDER


async def test_a_reopen_or_a_status_change_interrupts_the_period(drill: Scenario) -> None:
    reopened = await declare(drill, "sev1 Checkout down")
    await reopened.command("resolve Rolled back")  # resolving starts a period too
    await reopened.command("status investigating")  # reopened before it ended
    moved = await monitoring(drill, "sev1 Search slow")
    await moved.command("status identified")
    await asyncio.sleep(3.0)
    assert questions(drill, reopened) == []
    assert questions(drill, moved) == []
    # Back to monitoring starts a new period, which runs to its end.
    await moved.command("status monitoring")
    await wait_for(lambda: questions(drill, moved), 4)


async def test_a_severity_change_restarts_the_period_with_the_new_severitys_length(
    drill: Scenario,
) -> None:
    incident = await monitoring(drill)
    await asyncio.sleep(1.2)
    await incident.command("severity sev3", user=DECLARER)  # SEV3 waits an hour
    await asyncio.sleep(2.5)
    assert questions(drill, incident) == []
    await incident.command("severity sev2", user=DECLARER)
    await wait_for(lambda: questions(drill, incident), 4)


async def test_close_now_after_a_reopen_changes_nothing(drill: Scenario) -> None:
    incident = await monitoring(drill)
    await wait_for(lambda: questions(drill, incident), 4)
    await incident.command("status investigating")
    await incident.press("Close now", DECLARER, source=questions(drill, incident)[0])
    assert (await incident.row()).status == "investigating"
    assert "investigating now, so it was not closed" in drill.notes_to(DECLARER)[-1]


async def test_auto_close_closes_a_stable_incident_on_its_own(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    extra = STABLE.replace('period = "2s"', 'period = "1s"\nauto_close = true')
    async for scenario in custom_scenario(emulator, api_url, tmp_path, extra):
        incident = await monitoring(scenario)
        for _ in range(60):
            if (await incident.row()).status == "closed":
                break
            await asyncio.sleep(0.1)
        await scenario.settle()
        row = await incident.row()
        assert row.status == "closed"
        assert row.closed_by == RESPONDER  # on behalf of the commander
        assert questions(scenario, incident) == []
        assert checklists(scenario, incident)


async def test_a_restart_mid_period_asks_once_when_it_ends(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    seed(emulator)
    settings_file = tmp_path / "klaxon.toml"
    settings_file.write_text(settings_toml("#incidents", STABLE))
    settings = bot_settings(emulator, api_url, tmp_path, klaxon_config=str(settings_file))
    async with running_bot(settings) as bot:
        scenario = Scenario(emulator, bot)
        incident = await monitoring(scenario)
        await asyncio.sleep(0.5)
    assert questions(scenario, incident) == []
    async with running_bot(settings) as bot:
        scenario = Scenario(emulator, bot)
        incident.scenario = scenario
        await wait_for(lambda: questions(scenario, incident), 4)
        await asyncio.sleep(1.5)
        assert len(questions(scenario, incident)) == 1
