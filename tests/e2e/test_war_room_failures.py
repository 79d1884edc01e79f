"""A war room that cannot open: the declarer is told why, the incident says so everywhere,
and a person retries it (``/incident retry``, or the Retry button)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.domain.incident import TimelineKind
from bot.errors import SlackUnavailable
from bot.ids import ActionId
from bot.incidents import war_room_channel
from slack_emulator import SlackEmulator
from slack_emulator.faults import Fault
from slack_emulator.state import EphemeralMessage
from tests.e2e.harness import SIGNING_SECRET
from tests.e2e.scenario import DECLARER, RESPONDER, Scenario, custom_scenario, today
from tests.e2e.test_app_home import incident_sections, open_home

FAILED = "war room failed to open"


def failure_notice(scenario: Scenario) -> EphemeralMessage:
    [notice] = [e for e in scenario.ws.ephemerals(user=DECLARER) if FAILED in e.text]
    return notice


async def shows_failure_everywhere(scenario: Scenario, public_id: str) -> None:
    listed = await scenario.command("list", user=RESPONDER)
    [entry] = [b["text"]["text"] for b in listed["blocks"] if public_id in str(b)]
    assert FAILED in entry
    assert f"/incident retry {public_id}" in entry
    [home_entry] = [s for s in incident_sections(await open_home(scenario)) if public_id in s]
    assert FAILED in home_entry


async def test_a_reset_workspace_fails_the_war_room_visibly_and_a_retry_opens_it(
    tmp_path: Path,
) -> None:
    # The first run: an incident whose war room is channel N of a fresh workspace.
    first_emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    async with first_emulator.run() as server:
        async for scenario in custom_scenario(first_emulator, server.api_url, tmp_path):
            await scenario.declare("sev2 Search is slow")
            [first] = await scenario.incidents()
            assert first.channel_id is not None

    # The emulator restarts with an empty workspace; Klaxon keeps its database. Slack hands
    # out channel N again, which the database says is the first incident's war room.
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    async with emulator.run() as server:
        async for scenario in custom_scenario(emulator, server.api_url, tmp_path):
            await scenario.declare("sev1 Checkout down")
            _, second = await scenario.incidents()
            public_id = f"INC-{today()}-002"
            assert second.channel_id is None
            assert second.war_room_error is not None
            assert f"INC-{today()}-001" in second.war_room_error

            notice = failure_notice(scenario)
            assert f"INC-{today()}-001" in notice.text  # what failed, in words
            assert f"/incident retry {public_id}" in notice.text
            kinds = await scenario.timeline_kinds(second.id)
            assert TimelineKind.WAR_ROOM_FAILED in kinds
            await shows_failure_everywhere(scenario, public_id)

            # Nothing retries behind anyone's back: the setup is over until a person asks.
            assert not emulator.default_workspace.calls("conversations.create")[1:]

            reply = await scenario.command(f"retry {public_id}")
            assert "again" in reply["text"]
            await scenario.settle()
            _, second = await scenario.incidents()
            assert second.channel_id is not None
            assert second.war_room_error is None
            assert scenario.ws.channel(second.channel_name or "") is not None
            kinds = await scenario.timeline_kinds(second.id)
            assert kinds.index(TimelineKind.WAR_ROOM_RETRIED) < kinds.index(
                TimelineKind.WAR_ROOM_OPENED
            )
            assert any(
                "is ready" in note and public_id in note for note in scenario.notes_to(DECLARER)
            )
            listed = await scenario.command("list", user=RESPONDER)
            assert FAILED not in str(listed)


async def test_slack_refusing_the_channel_offers_a_retry_button(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    async for scenario in custom_scenario(emulator, api_url, tmp_path):
        emulator.faults.inject(
            "conversations.create", Fault.refused("restricted_action"), times=None
        )
        await scenario.declare("sev1 Checkout down")
        [incident] = await scenario.incidents()
        assert incident.channel_id is None
        assert incident.war_room_error == "Slack refused to create the channel (restricted_action)"
        notice = failure_notice(scenario)
        assert "restricted_action" in notice.text

        emulator.faults.clear()
        answer = await scenario.slack.press_button(
            notice, user_id=DECLARER, action_id=ActionId.RETRY_WAR_ROOM.value
        )
        assert answer.status == 200
        await scenario.settle()
        [incident] = await scenario.incidents()
        assert incident.channel_id is not None
        assert incident.war_room_error is None

        # A second press, on the stale notice, opens nothing twice: it says where the room is.
        await scenario.slack.press_button(
            notice, user_id=DECLARER, action_id=ActionId.RETRY_WAR_ROOM.value
        )
        await scenario.settle()
        creates = emulator.default_workspace.calls("conversations.create")
        assert sum(call.ok for call in creates) == 1
        assert sum("is ready" in note for note in scenario.notes_to(DECLARER)) == 2


def test_the_reason_says_whether_slack_refused_or_kept_failing() -> None:
    # Failing past every retry (5xx, timeouts) takes the client's back-off, seconds; the path
    # is the refusal's, only the words differ.
    refused = SlackUnavailable("conversations.create", "restricted_action")
    failing = SlackUnavailable("conversations.create", "fatal_error", retryable=True)
    assert war_room_channel.refusal(refused) == (
        "Slack refused to create the channel (restricted_action)"
    )
    assert war_room_channel.refusal(failing).startswith(
        "Slack kept failing to create the channel (fatal_error)"
    )


async def test_retry_refuses_what_it_cannot_retry(scenario: Scenario) -> None:
    await scenario.declare("sev1 Checkout down")
    public_id = f"INC-{today()}-001"
    usage = await scenario.command("retry")
    assert "Which incident?" in usage["text"]
    missing = await scenario.command(f"retry INC-{today()}-042")
    assert "There is no incident" in missing["text"]
    opened = await scenario.command(f"retry {public_id}")
    assert "is ready" in opened["text"]  # it has its war room: nothing to retry
    [incident] = await scenario.incidents()
    assert TimelineKind.WAR_ROOM_RETRIED not in await scenario.timeline_kinds(incident.id)


ONCALL_NOW = f"""escalation = [{{ after = "0s", notify = "oncall" }}]

[escalation_levels]
oncall = ["{RESPONDER}"]
"""


def pages(emulator: SlackEmulator) -> list[str]:
    ws = emulator.default_workspace
    return [m.text for m in ws.bot_messages(ws.open_im(RESPONDER).id) if "escalated" in m.text]


async def test_a_sev1_without_a_war_room_still_pages_the_on_call_person_once(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    async for scenario in custom_scenario(emulator, api_url, tmp_path, ONCALL_NOW):
        emulator.faults.inject("conversations.create", Fault.refused("restricted_action"), times=1)
        await scenario.declare("sev1 Checkout down")

        await emulator.wait_until(lambda: pages(emulator), within=10)
        [incident] = await scenario.incidents()
        assert incident.channel_id is None

        # The retry opens the room; the step that already paged is not paged again.
        await scenario.command(f"retry INC-{today()}-001")
        await scenario.settle()
        await asyncio.sleep(1.5)  # the scheduler's next ticks, had it reset the chain
        [incident] = await scenario.incidents()
        assert incident.channel_id is not None
        assert len(pages(emulator)) == 1
