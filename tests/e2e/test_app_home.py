"""The App Home tab: open incidents, a Declare button and metrics, within Slack's limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.clock import utcnow
from bot.ids import BlockId, CallbackId
from message_templates.home import MAX_HOME_BLOCKS, MAX_HOME_INCIDENTS
from storage.database import session_factory
from storage.unit_of_work import UnitOfWorkFactory
from tests.e2e.scenario import DECLARER, RESPONDER, Scenario


async def open_home(scenario: Scenario, user: str = DECLARER) -> list[dict[str, Any]]:
    delivery = await scenario.slack.open_app_home(user)
    assert delivery is not None
    assert delivery.attempts[-1].status == 200
    await scenario.settle()
    home = scenario.ws.home_view(user)
    assert home is not None, "no Home tab was published"
    blocks: list[dict[str, Any]] = home.definition["blocks"]
    return blocks


def incident_sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [
        block["text"]["text"]
        for block in blocks
        if block["type"] == "section" and "*INC-" in block["text"]["text"]
    ]


async def test_home_lists_open_incidents_and_declares_from_its_button(scenario: Scenario) -> None:
    await scenario.declare("sev1 Checkout <!channel> down")
    await scenario.declare("sev2 Search slow")
    [first, second] = await scenario.incidents()
    await scenario.command("ack", user=RESPONDER, channel=second.channel_id or "")
    await scenario.settle()

    blocks = await open_home(scenario)
    assert len(blocks) <= MAX_HOME_BLOCKS
    assert "*2 open incidents*" in str(blocks)
    assert "*Last 30 days*: 2 declared" in str(blocks)
    newest, oldest = incident_sections(blocks)
    assert "*SEV2*" in newest
    assert f"acknowledged by <@{RESPONDER}>" in newest
    assert f"IC <@{RESPONDER}>" in newest
    assert "Checkout &lt;!channel&gt; down" in oldest
    assert "<!channel>" not in str(blocks)
    assert "*not acknowledged*" in oldest
    assert f"<#{first.channel_id}>" in oldest

    home = scenario.ws.home_view(DECLARER)
    assert home is not None
    answer = await scenario.slack.press_button(home, user_id=DECLARER, label="Declare incident")
    assert answer.status == 200
    await scenario.settle()
    [form] = scenario.ws.open_views(DECLARER)
    assert form.definition["callback_id"] == CallbackId.DECLARE_MODAL.value
    submitted = await scenario.slack.submit_view(
        form,
        values={
            BlockId.DECLARE_TITLE.value: "Payments failing",
            BlockId.DECLARE_SEVERITY.value: "sev2",
        },
    )
    assert submitted.status == 200
    await scenario.settle()
    assert [row.title for row in await scenario.incidents()][-1] == "Payments failing"
    # Opening the Home again shows the new incident.
    assert "Payments failing" in incident_sections(await open_home(scenario))[0]


async def test_home_stays_within_slack_limits_with_120_open_incidents(scenario: Scenario) -> None:
    uow = UnitOfWorkFactory(session_factory(scenario.bot.klaxon.engine))
    start = utcnow() - timedelta(hours=3)
    async with uow() as work:
        for n in range(120):
            await work.incidents.add(
                title=f"Incident {n:03d} " + "x" * 200,
                severity="sev3",
                declared_by=DECLARER,
                declared_at=start + timedelta(minutes=n),
            )
        await work.commit()

    blocks = await open_home(scenario, RESPONDER)
    assert len(blocks) <= MAX_HOME_BLOCKS
    shown = incident_sections(blocks)
    assert len(shown) == MAX_HOME_INCIDENTS
    assert "Incident 119" in shown[0]  # newest first
    assert f"…and {120 - MAX_HOME_INCIDENTS} more open" in str(blocks)
    assert "*120 open incidents*" in str(blocks)
    assert "*SEV3*: 120 declared, 120 open now" in str(blocks)


async def test_an_open_home_is_refreshed_when_incidents_change(scenario: Scenario) -> None:
    await scenario.declare("sev2 First problem")
    assert len(incident_sections(await open_home(scenario))) == 1
    await scenario.declare("sev1 Second problem")
    await scenario.emulator.wait_until(
        lambda: len(incident_sections(scenario.ws.home_view(DECLARER).definition["blocks"])) == 2,
        within=5,
    )
    [row] = [r for r in await scenario.incidents() if "Second" in r.title]
    await scenario.command("resolve Done", channel=row.channel_id or "")
    await scenario.emulator.wait_until(
        lambda: len(incident_sections(scenario.ws.home_view(DECLARER).definition["blocks"])) == 1,
        within=5,
    )
