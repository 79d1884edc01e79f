"""Mirroring public posts to Atlassian Statuspage, against a fake of its REST API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.ids import ActionId
from slack_emulator import SlackEmulator
from tests.e2e.fake_statuspage import FakeStatuspage
from tests.e2e.scenario import RESPONDER, Scenario, custom_scenario
from tests.e2e.status_page_scenario import (
    COMPONENTS,
    component_block,
    eventually,
    form_answers,
    page,
    publish_from_card,
    submit,
    the_form,
)
from tests.e2e.test_lifecycle import declare

API_KEY = "sp-key-7f3a0c"
PAGE_ID = "pg123"


@pytest.fixture
def fake() -> FakeStatuspage:
    return FakeStatuspage(api_key=API_KEY, page_id=PAGE_ID)


async def mirrored(
    emulator: SlackEmulator, api_url: str, tmp_path: Path, fake: FakeStatuspage, key: str
) -> AsyncIterator[Scenario]:
    async with fake.run() as statuspage_url:
        async for scenario in custom_scenario(
            emulator,
            api_url,
            tmp_path,
            COMPONENTS,
            statuspage_api_key=key,
            statuspage_page_id=PAGE_ID,
            statuspage_api_url=statuspage_url,
        ):
            yield scenario


@pytest.fixture
async def status(
    emulator: SlackEmulator, api_url: str, tmp_path: Path, fake: FakeStatuspage
) -> AsyncIterator[Scenario]:
    async for scenario in mirrored(emulator, api_url, tmp_path, fake, API_KEY):
        yield scenario


async def test_publish_creates_and_update_patches_the_statuspage_incident(
    status: Scenario, fake: FakeStatuspage
) -> None:
    incident = await declare(status, "sev1 Booking outage")
    await publish_from_card(
        status,
        incident.card,
        RESPONDER,
        title="Bookings unavailable",
        body="Investigating.",
        **{
            component_block("booking-api"): "major_outage",
            component_block("patient-web"): "degraded_performance",
        },
    )
    [created] = fake.calls
    assert created.method == "POST"
    assert created.path == f"/v1/pages/{PAGE_ID}/incidents"
    assert created.authorization == f"OAuth {API_KEY}"
    # Only components configured with a statuspage_id are sent there.
    assert created.body == {
        "incident": {
            "name": "Bookings unavailable",
            "status": "investigating",
            "body": "Investigating.",
            "component_ids": ["sp-booking"],
            "components": {"sp-booking": "major_outage"},
        }
    }

    await incident.command("public", user=RESPONDER)
    await publish_again(status, status="monitoring", body="A fix is out.")
    patched = fake.calls[-1]
    assert patched.method == "PATCH"
    assert patched.path == f"/v1/pages/{PAGE_ID}/incidents/sp0001"
    assert fake.incidents["sp0001"]["status"] == "monitoring"
    assert not any("Could not mirror" in t for t in incident.bot_texts())


async def publish_again(scenario: Scenario, **answers: str) -> None:
    await submit(scenario, await the_form(scenario, RESPONDER), **answers)


async def test_rate_limits_and_server_errors_are_retried(
    status: Scenario, fake: FakeStatuspage
) -> None:
    fake.queued = [
        (429, {"Retry-After": "0"}, {"error": "Rate limit exceeded"}),
        (503, {"Retry-After": "0"}, {"error": "Service unavailable"}),
    ]
    incident = await declare(status, "sev1 Booking outage")
    await publish_from_card(status, incident.card, RESPONDER, title="Bookings unavailable")
    assert [c.method for c in fake.calls] == ["POST", "POST", "POST"]
    assert list(fake.incidents) == ["sp0001"]
    assert not any("Could not mirror" in t for t in incident.bot_texts())


async def test_a_refused_post_is_said_in_the_war_room_and_the_local_page_keeps_it(
    emulator: SlackEmulator, api_url: str, tmp_path: Path, fake: FakeStatuspage
) -> None:
    async for scenario in mirrored(emulator, api_url, tmp_path, fake, "a-wrong-key"):
        incident = await declare(scenario, "sev1 Booking outage")
        await publish_from_card(scenario, incident.card, RESPONDER, title="Bookings unavailable")
        # A wrong key is not retried.
        assert len(fake.calls) == 1
        [said] = [t for t in incident.bot_texts() if "Could not mirror" in t]
        assert "401" in said
        assert "Could not authenticate" in said
        assert "a-wrong-key" not in said
        _, summary, _ = await page(scenario)
        assert [i["name"] for i in summary["incidents"]] == ["Bookings unavailable"]


async def test_server_errors_that_persist_give_up_after_the_attempts(
    status: Scenario, fake: FakeStatuspage
) -> None:
    fake.queued = [(500, {"Retry-After": "0"}, {"error": "Internal error"})] * 4
    incident = await declare(status, "sev1 Booking outage")
    await publish_from_card(status, incident.card, RESPONDER, title="Bookings unavailable")
    assert len(fake.calls) == 4
    [said] = [t for t in incident.bot_texts() if "Could not mirror" in t]
    assert "500" in said


async def test_a_second_post_during_the_first_mirror_updates_the_same_incident(
    status: Scenario, fake: FakeStatuspage
) -> None:
    fake.delay = 0.3
    incident = await declare(status, "sev1 Booking outage")
    for body in ("Investigating.", "Still investigating."):
        answer = await status.slack.press_button(
            incident.card, user_id=RESPONDER, action_id=ActionId.PUBLISH_STATUS_PAGE.value
        )
        assert answer.status == 200
        await eventually(lambda: len(status.ws.open_views(RESPONDER)) == 1)
        [form] = status.ws.open_views(RESPONDER)
        # Submitted without waiting for the mirror of the first post to finish.
        await status.slack.submit_view(
            form, values=form_answers(form, title="Bookings unavailable", body=body)
        )
    assert len(fake.calls) < 2, "the first mirror call should still be under way"
    await status.settle()
    assert [c.method for c in fake.calls] == ["POST", "PATCH"]
    assert list(fake.incidents) == ["sp0001"]
