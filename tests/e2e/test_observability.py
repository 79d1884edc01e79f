"""What an operator sees: /metrics counts requests, acks, Slack calls and retries and open
incidents; every log line written for a request names the request and the incident."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.ids import BlockId
from bot.logging_setup import log_handler
from tests.e2e.harness import SIGNING_SECRET
from tests.e2e.robustness import form_headers
from tests.e2e.scenario import DECLARER, RESPONDER, Scenario


async def scrape(scenario: Scenario) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    answer = await scenario.bot.get("/metrics")
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.body)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str
) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_count_requests_slack_calls_retries_and_open_incidents(
    scenario: Scenario,
) -> None:
    before = await scrape(scenario)
    assert value(before, "klaxon_open_incidents", severity="sev1") == 0
    scenario.emulator.faults.ratelimit("pins.add", retry_after=0)
    scenario.emulator.faults.http_error("bookmarks.add", 500)
    await scenario.declare("sev1 Checkout down")
    channel = (await scenario.incidents())[-1].channel_id
    assert channel is not None
    card = scenario.ws.pins(channel)[0]
    await scenario.slack.press_button(card, user_id=RESPONDER, label="Post update")
    await scenario.settle()
    form = scenario.ws.open_views(RESPONDER)[-1]
    await scenario.slack.submit_view(form, values={BlockId.UPDATE_SUMMARY.value: "Rolling back"})
    await scenario.slack.user_posts(channel, DECLARER, "looking at the logs")
    forged = "command=/incident&text=help"
    await scenario.bot.post(forged, form_headers(forged, secret="not-" + SIGNING_SECRET))
    await scenario.declare("sev3 Slow search")
    await scenario.settle()

    after = await scrape(scenario)
    moved = {
        ("command", "ok"): 2,
        ("action", "ok"): 1,
        ("view", "ok"): 1,
        ("event", "ok"): 1,
        ("unknown", "refused"): 1,
    }
    for (kind, outcome), at_least in moved.items():
        grew = value(after, "klaxon_requests_total", kind=kind, outcome=outcome) - value(
            before, "klaxon_requests_total", kind=kind, outcome=outcome
        )
        assert grew >= at_least, (kind, outcome, grew)
    assert value(after, "klaxon_ack_latency_seconds_count", kind="command") >= 2
    assert value(after, "klaxon_ack_latency_seconds_bucket", kind="command", le="3.0") >= 2
    assert (
        value(after, "klaxon_slack_api_calls_total", method="conversations.create", outcome="ok")
        == 2
    )
    assert (
        value(after, "klaxon_slack_api_calls_total", method="chat.postMessage", outcome="ok") >= 2
    )
    assert (
        value(after, "klaxon_slack_api_retries_total", method="pins.add", reason="ratelimited") == 1
    )
    assert value(after, "klaxon_open_incidents", severity="sev1") == 1
    assert value(after, "klaxon_open_incidents", severity="sev3") == 1
    assert value(after, "klaxon_open_incidents", severity="sev2") == 0

    await scenario.command("resolve Rolled back", channel=channel)
    await scenario.settle()
    assert value(await scrape(scenario), "klaxon_open_incidents", severity="sev1") == 0


async def test_slack_errors_are_counted_by_their_code(scenario: Scenario) -> None:
    # More 500s than Klaxon retries: the call fails for good, and the retries are counted.
    scenario.emulator.faults.http_error("conversations.setTopic", 500, times=10)
    scenario.emulator.faults.ratelimit("chat.update", retry_after=0, times=1)
    await scenario.declare("sev2 Topics fail")
    channel = (await scenario.incidents())[-1].channel_id
    await scenario.command("ack", channel=channel or "")
    await scenario.settle()
    samples = await scrape(scenario)
    topic_failures = {
        dict(labels)["outcome"]: count
        for (name, labels), count in samples.items()
        if name == "klaxon_slack_api_calls_total"
        and dict(labels)["method"] == "conversations.setTopic"
        and dict(labels)["outcome"] != "ok"
    }
    assert topic_failures, samples
    assert (
        value(
            samples,
            "klaxon_slack_api_retries_total",
            method="conversations.setTopic",
            reason="server_error",
        )
        >= 1
    )
    assert (
        value(samples, "klaxon_slack_api_retries_total", method="chat.update", reason="ratelimited")
        == 1
    )


@pytest.fixture(params=["text", "json"])
def log_lines(request: pytest.FixtureRequest) -> Iterator[tuple[str, io.StringIO]]:
    """What Klaxon writes, in each format, with its real handler."""
    stream = io.StringIO()
    handler = log_handler([SIGNING_SECRET], request.param, stream)
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield request.param, stream
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def parse(log_format: str, line: str) -> dict[str, str]:
    if log_format == "json":
        return dict(json.loads(line))
    fields = {"message": line}
    if line.endswith("]") and " [" in line:
        tags = line.rsplit(" [", 1)[1].rstrip("]")
        fields.update(tag.split("=", 1) for tag in tags.split())
    return fields


async def test_log_lines_of_a_request_carry_its_request_id_and_incident(
    scenario: Scenario, log_lines: tuple[str, io.StringIO]
) -> None:
    log_format, stream = log_lines
    # Problems while opening the war room are logged by background work the request started.
    # More 500s than Klaxon retries: the call fails for good, and the retries are counted.
    scenario.emulator.faults.http_error("conversations.setTopic", 500, times=10)
    scenario.emulator.faults.http_error("chat.postMessage", 500, times=None)
    await scenario.declare("sev2 Logging check")
    public_id = (
        f"INC-{(row := (await scenario.incidents())[-1]).declared_on:%Y%m%d}-{row.number:03d}"
    )
    channel = row.channel_id or ""
    await scenario.command("update Still broken", channel=channel)
    await scenario.settle()
    scenario.emulator.faults.clear()
    forged = "command=/incident&text=help"
    await scenario.bot.post(forged, form_headers(forged, secret="wrong"))

    entries = [parse(log_format, line) for line in stream.getvalue().splitlines() if line]
    about_incident = [
        e for e in entries if public_id in e["message"] or "could not" in e["message"]
    ]
    assert about_incident, stream.getvalue()
    for entry in about_incident:
        assert entry.get("incident") == public_id, entry
        assert len(entry.get("request_id", "")) == 12, entry
    # The declare and the update were two requests, each with its own id.
    assert len({e["request_id"] for e in about_incident}) >= 2
    [refusal] = [e for e in entries if "refused a forged request" in e["message"]]
    assert refusal.get("request_id")
    assert "incident" not in refusal
    assert SIGNING_SECRET not in stream.getvalue()


async def test_every_answer_to_slack_says_how_long_klaxon_took(scenario: Scenario) -> None:
    general = scenario.ws.get_channel("general").id
    declared = await scenario.slack.slash_command(
        "/incident", "declare sev2 Timed", user_id=DECLARER, channel_id=general
    )
    await scenario.settle()
    card = scenario.ws.pins((await scenario.incidents())[-1].channel_id or "")[0]
    pressed = await scenario.slack.press_button(card, user_id=DECLARER, label="Acknowledge")
    for answer in (declared, pressed):
        assert answer.ok
        name, _, duration = answer.headers["Server-Timing"].partition(";dur=")
        assert name == "app"
        assert 0 < float(duration) < 3000  # milliseconds, inside Slack's three seconds
