"""``/incident stats`` uploads a PNG chart into the channel where it was typed: incidents per
week by severity with the weekly median MTTA and MTTR, for an empty period, one incident, or
many; the Home tab links the latest."""

from __future__ import annotations

import io
from datetime import timedelta

from matplotlib import image
from sqlalchemy import select, update

from slack_emulator.state import UploadedFile
from storage.models import IncidentRow
from tests.e2e.harness import writing
from tests.e2e.scenario import DECLARER, RESPONDER, Scenario
from tests.e2e.test_lifecycle import declare


def charts(scenario: Scenario) -> list[UploadedFile]:
    return [f for f in scenario.ws.files if f.filename.endswith(".png")]


async def stats(scenario: Scenario, period: str = "30d") -> str:
    reply = await scenario.command(f"stats {period}", channel="general")
    await scenario.settle()
    return str(reply["text"])


def opens_as_png(chart: UploadedFile) -> tuple[int, int]:
    content = chart.content or b""
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    pixels = image.imread(io.BytesIO(content), format="png")
    height, width = pixels.shape[:2]
    return width, height


async def test_an_empty_period_is_charted(scenario: Scenario) -> None:
    reply = await stats(scenario, "7d")
    assert "chart of incidents per week is being uploaded" in reply
    [chart] = charts(scenario)
    assert opens_as_png(chart) == (900, 480)
    assert scenario.ws.get_channel("general").id in chart.channels


async def test_one_incident_then_many_are_charted_and_home_links_the_latest(
    scenario: Scenario,
) -> None:
    incident = await declare(scenario, "sev1 Checkout down")
    await incident.command("ack", user=RESPONDER)
    await incident.command("resolve Rolled back")
    await stats(scenario)
    [single] = charts(scenario)
    assert opens_as_png(single) == (900, 480)

    for title in ("sev2 Search slow", "sev3 Typo", "sev1 Login errors"):
        await declare(scenario, title)
    async with writing(scenario.bot.klaxon.engine) as connection:
        rows = (await connection.execute(select(IncidentRow.id, IncidentRow.declared_at))).all()
        for weeks_ago, (incident_id, declared) in enumerate(rows):
            await connection.execute(
                update(IncidentRow)
                .where(IncidentRow.id == incident_id)
                .values(declared_at=declared - timedelta(weeks=weeks_ago))
            )
    await stats(scenario, "8w")
    latest = charts(scenario)[-1]
    assert opens_as_png(latest) == (900, 480)
    assert latest.content != single.content

    await scenario.slack.open_app_home(DECLARER)
    await scenario.settle()
    home = scenario.ws.home_view(DECLARER)
    assert home is not None
    assert "The latest stats chart" in str(home.definition["blocks"])
    assert latest.id in str(home.definition["blocks"])
