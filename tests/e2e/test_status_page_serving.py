"""How the status page is served: the stale-page reminder, caching, the database failing,
its own port, and turning it off."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select, text

from bot.config import load_config
from bot.errors import ConfigError
from bot.ids import ActionId
from slack_emulator import SlackEmulator
from storage.models import TimerRow
from tests.e2e.harness import free_port, writing
from tests.e2e.scenario import DECLARER, RESPONDER, SRE_1, Scenario, custom_scenario
from tests.e2e.status_page_scenario import COMPONENTS, eventually, page, publish_from_card
from tests.e2e.test_lifecycle import buttons, declare

REMINDER = "has not been updated"


def direct_messages(scenario: Scenario, user: str) -> list[str]:
    return [m.text for m in scenario.ws.bot_messages(scenario.ws.open_im(user).id)]


@pytest.fixture
async def reminding(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> AsyncIterator[Scenario]:
    extra = COMPONENTS + 'remind_after = "1s"\ncache_seconds = 0\n'
    async for scenario in custom_scenario(emulator, api_url, tmp_path, extra):
        yield scenario


async def reminder_timers(scenario: Scenario) -> list[int]:
    async with scenario.bot.klaxon.engine.connect() as connection:
        rows = await connection.execute(
            select(TimerRow.incident_id).where(TimerRow.kind == "status_page_reminder")
        )
        return [row[0] for row in rows]


async def test_stale_public_page_reminds_commander_and_communications_lead(
    reminding: Scenario,
) -> None:
    sev1 = await declare(reminding, "sev1 Booking outage")
    sev3 = await declare(reminding, "sev3 Slow exports")
    await sev1.press("Acknowledge", RESPONDER)
    await sev1.command(f"role cl <@{SRE_1}>", user=RESPONDER)
    await publish_from_card(reminding, sev1.card, RESPONDER)
    await publish_from_card(reminding, sev3.card, RESPONDER)
    assert sorted(await reminder_timers(reminding)) == [sev1.id, sev3.id]

    await eventually(lambda: any(REMINDER in t for t in direct_messages(reminding, SRE_1)))
    await eventually(lambda: any(REMINDER in t for t in direct_messages(reminding, RESPONDER)))
    [first] = [t for t in direct_messages(reminding, SRE_1) if REMINDER in t][:1]
    assert "Booking outage" in first
    # Only the SEV1's page is watched: SEV3 is not among remind_severities.
    reminders = direct_messages(reminding, SRE_1) + direct_messages(reminding, RESPONDER)
    assert not any("Slow exports" in t for t in reminders)
    assert not any(REMINDER in t for t in direct_messages(reminding, DECLARER))

    # Resolved: the timer goes and the reminders stop.
    await sev1.command("resolve Fixed", user=DECLARER)
    # The next firing (within remind_after) finds the incident resolved and drops its timer.
    for _ in range(200):
        if sev1.id not in await reminder_timers(reminding):
            break
        await asyncio.sleep(0.05)
    assert await reminder_timers(reminding) == [sev3.id]
    sent = len(direct_messages(reminding, SRE_1))
    await reminding.settle()
    assert len(direct_messages(reminding, SRE_1)) == sent


async def test_an_incident_raised_to_sev1_after_its_post_is_watched_too(
    reminding: Scenario,
) -> None:
    incident = await declare(reminding, "sev3 Slow exports")
    await publish_from_card(reminding, incident.card, RESPONDER, title="Slow exports")
    await incident.command("severity sev1", user=DECLARER)
    # Nobody holds the commander or communications roles: the declarer is reminded.
    await eventually(lambda: any("Slow exports" in t for t in direct_messages(reminding, DECLARER)))


async def test_cached_answers_revalidate_and_survive_the_database_failing(
    reminding: Scenario,
) -> None:
    incident = await declare(reminding, "sev2 Web errors")
    await publish_from_card(reminding, incident.card, RESPONDER, title="Portal errors")
    first = await reminding.bot.get("/status")
    assert first.status == 200
    # HTTP header names are case-insensitive (aiohttp sends "Etag").
    headers = {name.lower(): value for name, value in first.headers.items()}
    etag = headers["etag"]
    assert headers["cache-control"] == "public, max-age=0"
    assert headers["last-modified"].endswith(" GMT")

    async with reminding.bot.session.get(
        reminding.bot.base_url + "/status", headers={"If-None-Match": etag}
    ) as response:
        assert response.status == 304
        assert await response.read() == b""

    # The page's tables become unreadable: it answers from its last good render.
    async with writing(reminding.bot.klaxon.engine) as connection:
        await connection.execute(text("ALTER TABLE status_updates RENAME TO status_updates_gone"))
    again = await reminding.bot.get("/status")
    assert again.status == 200
    assert again.body == first.body
    assert "Portal errors" in again.body
    async with writing(reminding.bot.klaxon.engine) as connection:
        await connection.execute(text("ALTER TABLE status_updates_gone RENAME TO status_updates"))


async def test_status_port_serves_the_page_from_its_own_process(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    port = free_port()
    page_url = f"http://127.0.0.1:{port}"
    async for scenario in custom_scenario(
        emulator, api_url, tmp_path, COMPONENTS, status_port=port
    ):
        assert (await scenario.bot.get("/status")).status == 404
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{page_url}/slack/events") as response:
                assert response.status in {404, 405}

            async def names() -> list[str]:
                async with session.get(f"{page_url}/status.json") as response:
                    assert response.status == 200
                    return [i["name"] for i in (await response.json())["incidents"]]

            assert await names() == []
            # Cached for cache_seconds (5), yet a post shows at once: the bot tells the worker.
            incident = await declare(scenario, "sev2 Web errors")
            await publish_from_card(scenario, incident.card, RESPONDER, title="Portal errors")
            assert await names() == ["Portal errors"]

            # A worker that dies is started again.
            worker = scenario.bot.klaxon.status_worker
            assert worker is not None
            first_pid = worker.pid
            assert first_pid is not None
            os.kill(first_pid, signal.SIGKILL)
            for _ in range(200):
                if worker.pid != first_pid:
                    break
                await asyncio.sleep(0.05)
            assert worker.pid != first_pid
            assert await names() == ["Portal errors"]


async def test_turned_off_there_is_no_page_and_no_button(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> None:
    extra = COMPONENTS + "enabled = false\n"
    async for scenario in custom_scenario(emulator, api_url, tmp_path, extra):
        incident = await declare(scenario, "sev1 Booking outage")
        for path in ("/status", "/status.json", "/status/feed.atom"):
            assert (await scenario.bot.get(path)).status == 404
        assert ActionId.PUBLISH_STATUS_PAGE not in buttons(incident.card)
        reply = await incident.command("public", user=RESPONDER)
        assert "turned off" in reply


async def test_page_with_nothing_configured_still_answers(scenario: Scenario) -> None:
    html, summary, _ = await page(scenario)
    assert summary["components"] == []
    assert "All Systems Operational" in html


def test_invalid_settings_stop_startup_naming_the_key(tmp_path: Path) -> None:
    settings = tmp_path / "klaxon.toml"
    settings.write_text('[status_page]\nremind_severities = ["sev9"]\n')
    with pytest.raises(ConfigError, match=r"status_page\.remind_severities\.0"):
        load_config(settings)
    settings.write_text('[status_page]\ncomponents = ["API", "api"]\n')
    with pytest.raises(ConfigError, match=r"status_page\.components"):
        load_config(settings)
    settings.write_text('[status_page]\nurl = "javascript:alert(1)"\n')
    with pytest.raises(ConfigError, match=r"status_page\.url"):
        load_config(settings)
