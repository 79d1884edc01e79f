"""The post-incident checklist's "Status page resolved": Klaxon ticks it itself when it can
know, at the close or when the public resolution is posted after it, and says why when the
incident was never published.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.domain.incident import TimelineKind
from slack_emulator import SlackEmulator
from slack_emulator.state import Message
from tests.e2e.scenario import DECLARER, RESPONDER, Scenario, custom_scenario
from tests.e2e.status_page_scenario import (
    COMPONENTS,
    HOSTILE,
    component_block,
    publish_from_card,
    submit,
)
from tests.e2e.test_lifecycle import Incident, declare
from tests.e2e.test_stability import checklists
from tests.e2e.test_status_page import press_public_resolution

NOT_PUBLISHED = "never published, so nothing to resolve"


@pytest.fixture
async def status(emulator: SlackEmulator, api_url: str, tmp_path: Path) -> AsyncIterator[Scenario]:
    async for scenario in custom_scenario(emulator, api_url, tmp_path, COMPONENTS):
        yield scenario


def status_line(checklist: Message) -> str:
    [line] = [
        b["text"]["text"] for b in checklist.blocks if "Status page resolved" in str(b.get("text"))
    ]
    return line


async def status_ticks(incident: Incident) -> list[tuple[str | None, str]]:
    return [
        (e.actor, e.text)
        for e in await incident.entries(TimelineKind.CHECKLIST)
        if "Status page resolved" in e.text
    ]


async def published_and_resolved(scenario: Scenario) -> Incident:
    incident = await declare(scenario, "sev1 Booking outage")
    await publish_from_card(
        scenario,
        incident.card,
        RESPONDER,
        title=HOSTILE,
        **{component_block("booking-api"): "major_outage"},
    )
    await incident.command("resolve Restarted the booking service", user=DECLARER)
    return incident


async def closed(scenario: Scenario, incident: Incident) -> Message:
    assert "You closed" in await incident.command("status closed", user=DECLARER)
    await scenario.settle()
    [checklist] = checklists(scenario, incident)
    return checklist


async def test_public_resolution_before_the_close_is_ticked_by_klaxon_at_close(
    status: Scenario,
) -> None:
    incident = await published_and_resolved(status)
    await submit(status, await press_public_resolution(status, incident.channel))
    assert await status_ticks(incident) == []  # nothing to tick before there is a checklist

    checklist = await closed(status, incident)
    line = status_line(checklist)
    assert line.startswith(":white_check_mark: ~Status page resolved~ · Klaxon, ")
    assert NOT_PUBLISHED not in line
    assert "2 of 5 done" in checklist.text  # post-mortem scheduled too
    assert await status_ticks(incident) == [
        (None, "Klaxon ticked “Status page resolved” on the post-incident checklist")
    ]


async def test_public_resolution_after_the_close_ticks_the_checklist_in_place(
    status: Scenario,
) -> None:
    incident = await published_and_resolved(status)
    checklist = await closed(status, incident)
    # Published, not yet resolved publicly: a person's button, as before.
    assert status_line(checklist) == ":white_square: Status page resolved"
    assert await status_ticks(incident) == []

    await submit(status, await press_public_resolution(status, incident.channel))
    [redrawn] = checklists(status, incident)  # the same message, redrawn, not a new one
    assert redrawn.ts == checklist.ts
    assert status_line(redrawn).startswith(":white_check_mark: ~Status page resolved~ · Klaxon")
    assert "2 of 5 done" in redrawn.text
    shown = str(redrawn.blocks)
    assert "<script>" not in shown
    assert "<!channel>" not in shown
    ticked = [(None, "Klaxon ticked “Status page resolved” on the post-incident checklist")]
    assert await status_ticks(incident) == ticked

    # A second public resolution ticks nothing again, and posts no second checklist.
    await submit(status, await press_public_resolution(status, incident.channel), body="Again.")
    assert await status_ticks(incident) == ticked
    assert len(checklists(status, incident)) == 1


async def test_never_published_is_ticked_with_the_reason_at_close(status: Scenario) -> None:
    incident = await declare(status, "sev2 Search slow")
    await incident.command("resolve Reindexed", user=DECLARER)
    checklist = await closed(status, incident)
    line = status_line(checklist)
    assert line.startswith(":white_check_mark: ~Status page resolved~ · Klaxon, ")
    assert line.endswith(f" · _{NOT_PUBLISHED}_")
    assert await status_ticks(incident) == [
        (
            None,
            "Klaxon ticked “Status page resolved” on the post-incident checklist "
            f"({NOT_PUBLISHED})",
        )
    ]


async def test_with_the_status_page_off_people_tick_it(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    async for scenario in custom_scenario(
        emulator, api_url, tmp_path, "[status_page]\nenabled = false\n"
    ):
        incident = await declare(scenario, "sev2 Search slow")
        await incident.command("resolve Reindexed", user=DECLARER)
        checklist = await closed(scenario, incident)
        assert status_line(checklist) == ":white_square: Status page resolved"
        assert await status_ticks(incident) == []
