"""A declare that reaches the bot twice opens one incident: whether the guard refuses the
copy (the same signature) or lets it through (a fresh signature, as if the guard had
forgotten), the declaration is stored once and the copy is told about the same incident."""

from __future__ import annotations

import copy

from bot.ids import BlockId
from slack_emulator.ids import new_trigger_id
from tests.e2e.harness import signed, slash_command_body
from tests.e2e.scenario import DECLARER, Scenario, today


def _declare_body(scenario: Scenario, text: str, trigger_id: str) -> str:
    general = scenario.ws.get_channel("general").id
    response_url = scenario.emulator.issue_response_url(
        scenario.ws, user_id=DECLARER, channel_id=general, source="slash_command"
    )
    return slash_command_body(
        f"declare {text}",
        user_id=DECLARER,
        channel_id=general,
        trigger_id=trigger_id,
        response_url=response_url,
    )


def _war_rooms(scenario: Scenario) -> list[str]:
    return [channel.name for channel in scenario.ws.channels if channel.name.startswith("inc-")]


async def test_the_same_signed_declare_sent_again_is_refused_and_opens_nothing(
    scenario: Scenario,
) -> None:
    body = _declare_body(scenario, "sev1 Checkout API returning 500s", new_trigger_id())
    headers = signed(body)
    first = await scenario.bot.post(body, headers)
    assert first.status == 200
    assert first.json()["text"].startswith(f"Declaring *INC-{today()}-001*")
    again = await scenario.bot.post(body, headers)
    assert again.status == 401
    await scenario.settle()
    assert await scenario.incident_count() == 1
    assert len(_war_rooms(scenario)) == 1
    # The declare's signature and those of the events the emulated Slack sent about its war
    # room, for operators to watch against the memory's capacity.
    metrics = await scenario.bot.get("/metrics")
    [remembered] = [
        line for line in metrics.body.splitlines() if line.startswith("klaxon_replay_signatures ")
    ]
    assert float(remembered.split()[1]) >= 1


async def test_a_declare_with_the_same_trigger_and_a_fresh_signature_names_the_same_incident(
    scenario: Scenario,
) -> None:
    body = _declare_body(scenario, "sev1 Checkout API returning 500s", new_trigger_id())
    first = await scenario.bot.post(body, signed(body))
    await scenario.settle()
    # Another timestamp, so another signature: the guard cannot tell it from a new request.
    again = await scenario.bot.post(body, signed(body, age_seconds=1))
    await scenario.settle()
    assert (first.status, again.status) == (200, 200)
    assert first.json()["text"].startswith(f"Declaring *INC-{today()}-001*")
    assert again.json()["text"] == first.json()["text"]
    assert await scenario.incident_count() == 1
    assert len(_war_rooms(scenario)) == 1
    # A new invocation (its own trigger) is a new incident, of course.
    other = _declare_body(scenario, "sev1 Checkout API returning 500s", new_trigger_id())
    third = await scenario.bot.post(other, signed(other))
    assert third.json()["text"].startswith(f"Declaring *INC-{today()}-002*")
    await scenario.settle()
    assert await scenario.incident_count() == 2


async def test_the_declare_form_submitted_twice_opens_one_incident(scenario: Scenario) -> None:
    await scenario.command("declare")
    await scenario.settle()
    [view] = scenario.ws.open_views(DECLARER)
    # Slack's copy of the form as it was submitted, to send again after the bot replaced it.
    resubmitted = copy.deepcopy(view)
    values = {
        BlockId.DECLARE_TITLE.value: "Payments failing",
        BlockId.DECLARE_SEVERITY.value: "sev2",
    }
    first = await scenario.slack.submit_view(view, values=values)
    await scenario.settle()
    again = await scenario.slack.submit_view(resubmitted, values=values)
    await scenario.settle()
    assert (first.status, again.status) == (200, 200)
    assert f"INC-{today()}-001" in str(again.json()["view"])
    assert await scenario.incident_count() == 1
    assert len(_war_rooms(scenario)) == 1
