"""Scheduled status updates and escalation, on second-level cadences, against the emulator.

Timing assertions leave room for a loaded machine: a timer fires within the scheduler's
0.25 s poll, and counts are checked against windows, not instants.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from slack_emulator import SlackEmulator
from tests.e2e.harness import (
    SIGNING_SECRET,
    bot_settings,
    free_port,
    running_bot,
    signed,
    slash_command_body,
    wait_until_healthy,
)
from tests.e2e.scenario import (
    DECLARER,
    RESPONDER,
    SRE_1,
    SRE_2,
    SRE_GROUP,
    Scenario,
    custom_scenario,
    seed,
    settings_toml,
)
from tests.e2e.test_lifecycle import declare

REPO = Path(__file__).parents[2]

FAST = f"""update_cadence = "1s"
escalation = [
    {{ after = "0s", notify = "oncall" }},
    {{ after = "1s", notify = "secondary" }},
    {{ after = "2s", notify = "director" }},
]

[severities.sev2]
update_cadence = "30m"

[escalation_levels]
oncall = ["{SRE_1}"]
secondary = ["{SRE_GROUP}"]
director = ["{RESPONDER}"]
"""


def scheduled_updates(scenario: Scenario, channel: str) -> list[str]:
    return [
        m.text
        for m in scenario.ws.bot_messages(channel)
        if "update #" in m.text and "SEV" in m.text
    ]


def escalations(scenario: Scenario, channel: str) -> list[str]:
    return [m.text for m in scenario.ws.bot_messages(channel) if "*Escalation" in m.text]


@pytest.fixture
async def fast(emulator: SlackEmulator, api_url: str, tmp_path: Path) -> AsyncIterator[Scenario]:
    async for scenario in custom_scenario(emulator, api_url, tmp_path, FAST):
        yield scenario


# The suite runs one test per core; a busy machine may add seconds to a cadence of one.
# Bounds only cap waiting for what must come, so they are doubled, not the cadences.
LOADED_MACHINE = 2.0


async def wait_for(condition: object, within: float) -> None:
    deadline = time.monotonic() + within * LOADED_MACHINE
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_sev1_posts_on_its_cadence_and_sev4_not_at_all(fast: Scenario) -> None:
    sev1 = await declare(fast, "sev1 Checkout down")
    sev4 = await declare(fast, "sev4 Typo on the status page")
    await asyncio.sleep(3.6)
    posted = scheduled_updates(fast, sev1.channel)
    assert 2 <= len(posted) <= 4, posted
    numbers = [text.split("update #")[1].split(" ")[0] for text in posted]
    assert numbers == [str(n) for n in range(1, len(posted) + 1)]  # in order, none twice
    to_stakeholders = [t for t in scheduled_updates(fast, "incidents") if sev1.public_id in t]
    assert len(to_stakeholders) >= len(posted) - 1
    assert scheduled_updates(fast, sev4.channel) == []
    assert (await sev1.row()).update_count >= len(posted)
    metrics = await fast.bot.get("/metrics")
    fired = re.search(r"^klaxon_timer_lateness_seconds_count (\S+)$", metrics.body, re.MULTILINE)
    assert fired is not None
    assert float(fired.group(1)) >= len(posted)


async def test_no_news_is_said_and_the_commander_nudged(fast: Scenario) -> None:
    incident = await declare(fast)
    await incident.command("ack", user=RESPONDER)
    await wait_for(lambda: scheduled_updates(fast, incident.channel), 3)
    assert "No news since the last update" in str(fast.ws.bot_messages(incident.channel)[-1].blocks)
    await wait_for(lambda: any("no news" in n for n in fast.notes_to(RESPONDER)), 2)

    await incident.command("update Replica promoted, errors dropping", user=RESPONDER)
    before = len(scheduled_updates(fast, incident.channel))
    await wait_for(lambda: len(scheduled_updates(fast, incident.channel)) > before, 3)
    latest = [m for m in fast.ws.bot_messages(incident.channel) if "update #" in m.text][-1]
    assert "Replica promoted" in str(latest.blocks)
    assert "No news" not in str(latest.blocks)


async def test_severity_change_reschedules_and_resolve_stops(fast: Scenario) -> None:
    incident = await declare(fast, "sev2 Search is slow")
    await asyncio.sleep(1.5)
    assert scheduled_updates(fast, incident.channel) == []  # SEV2: every 30 minutes
    await incident.command("severity sev1", user=RESPONDER)
    await wait_for(lambda: scheduled_updates(fast, incident.channel), 2.5)

    await incident.command("resolve Index rebuilt")
    stopped_at = len(scheduled_updates(fast, incident.channel))
    await asyncio.sleep(2.5)
    assert len(scheduled_updates(fast, incident.channel)) == stopped_at


async def test_escalation_fires_in_order_and_stops_on_acknowledge(fast: Scenario) -> None:
    incident = await declare(fast)
    await wait_for(lambda: len(escalations(fast, incident.channel)) >= 2, 4)
    await incident.command("ack", user=SRE_2)
    first, second = escalations(fast, incident.channel)[:2]
    assert f"<@{SRE_1}>" in first
    assert "*Escalation 1*" in first
    assert f"<!subteam^{SRE_GROUP}>" in second
    assert "*Escalation 2*" in second
    members = fast.ws.members(incident.channel)
    assert {SRE_1, SRE_2} <= set(members)
    dm = [m for m in fast.ws.bot_messages(fast.ws.open_im(SRE_1).id) if "escalated" in m.text]
    assert dm
    assert any(b["type"] == "actions" for b in dm[0].blocks)  # the card, with Acknowledge

    await asyncio.sleep(2.5)
    assert len(escalations(fast, incident.channel)) == 2  # director was never paged
    steps = [e.details["step"] for e in await incident.entries() if e.kind == "escalated"]
    assert steps == [0, 1]


async def test_restart_posts_one_catch_up_update_then_continues(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    seed(emulator)
    settings_file = tmp_path / "klaxon.toml"
    settings_file.write_text(settings_toml("#incidents", FAST))
    settings = bot_settings(emulator, api_url, tmp_path, klaxon_config=str(settings_file))
    async with running_bot(settings) as bot:
        scenario = Scenario(emulator, bot)
        incident = await declare(scenario)
        await wait_for(lambda: scheduled_updates(scenario, incident.channel), 3)
    before = len(scheduled_updates(scenario, incident.channel))

    await asyncio.sleep(3.5)  # three periods missed while down
    async with running_bot(settings) as bot:
        scenario = Scenario(emulator, bot)
        await wait_for(lambda: len(scheduled_updates(scenario, incident.channel)) > before, 2)
        await asyncio.sleep(0.5)
        assert len(scheduled_updates(scenario, incident.channel)) == before + 1
        await wait_for(lambda: len(scheduled_updates(scenario, incident.channel)) > before + 1, 2)


async def test_two_bot_processes_post_each_update_exactly_once(tmp_path: Path) -> None:
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    seed(emulator)
    settings_file = tmp_path / "klaxon.toml"
    settings_file.write_text(settings_toml("#incidents", FAST))
    ports = [free_port(), free_port()]
    processes = []
    async with emulator.run() as server, aiohttp.ClientSession() as session:
        for port in ports:
            env = {
                "PATH": os.environ.get("PATH", ""),
                "PYTHONPATH": str(REPO),
                "SLACK_BOT_TOKEN": emulator.default_workspace.bot_token,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": server.api_url,
                "PORT": str(port),
                "KLAXON_HOST": "127.0.0.1",
                "KLAXON_CONFIG": str(settings_file),
            }
            processes.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "bot",
                    cwd=tmp_path,
                    env=env,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=(tmp_path / f"bot-{port}.log").open("w"),
                )
            )
        try:
            for port in ports:
                await wait_until_healthy(session, f"http://127.0.0.1:{port}")
            body = slash_command_body("declare sev1 Two replicas", user_id=DECLARER)
            async with session.post(
                f"http://127.0.0.1:{ports[0]}/slack/events",
                data=body.encode(),
                headers=signed(body),
            ) as answer:
                assert answer.status == 200
            await emulator.wait_until(
                lambda: any(
                    c.name.startswith("inc-")
                    for c in emulator.default_workspace.channels_by_id.values()
                ),
                within=5,
            )
            [room] = [
                c
                for c in emulator.default_workspace.channels_by_id.values()
                if c.name.startswith("inc-")
            ]
            await asyncio.sleep(4.5)
            posted = [
                m.text
                for m in emulator.default_workspace.bot_messages(room.id)
                if "update #" in m.text
            ]
            escalated = [
                m.text
                for m in emulator.default_workspace.bot_messages(room.id)
                if "*Escalation" in m.text
            ]
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                await asyncio.wait_for(process.wait(), timeout=15)
    numbers = [text.split("update #")[1].split(" ")[0] for text in posted]
    assert len(numbers) >= 3
    assert numbers == [str(n) for n in range(1, len(numbers) + 1)], numbers
    assert [text.split("*Escalation ")[1][0] for text in escalated] == ["1", "2", "3"]
