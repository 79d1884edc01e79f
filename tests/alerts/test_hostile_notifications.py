"""What a stranger, a broken sender or a hostile alert can do to the alert endpoints: nothing.

Every refusal changes nothing stored; alert text with mentions pings nobody anywhere."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from slack_emulator import SlackEmulator
from tests.alerts.helpers import (
    TOKEN,
    alert,
    alertmanager_payload,
    incidents,
    notifications,
    post_alerts,
    timeline_texts,
)
from tests.e2e.harness import RunningBot, bot_settings, running_bot
from tests.e2e.scenario import Scenario

FIRING = alertmanager_payload([alert("HighLatency", service="checkout")])


async def assert_nothing_stored(scenario: Scenario) -> None:
    await scenario.settle()
    assert await notifications(scenario.bot) == []
    assert await incidents(scenario.bot) == []


@pytest.fixture
async def no_token_bot(
    emulator: SlackEmulator, api_url: str, tmp_path: Path
) -> AsyncIterator[RunningBot]:
    async with running_bot(bot_settings(emulator, api_url, tmp_path)) as running:
        yield running


async def test_endpoints_are_off_without_a_token(no_token_bot: RunningBot) -> None:
    for path in ("/alerts/alertmanager", "/alerts/grafana"):
        answer = await post_alerts(no_token_bot, FIRING, path=path)
        assert answer.status == 404


@pytest.mark.parametrize("token", [None, "", "alerts-token-8c1d6e2f9a7b4c3X", TOKEN + "x"])
async def test_missing_or_wrong_token_is_refused_and_never_logged(
    alerting: Scenario, token: str | None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        answer = await post_alerts(alerting.bot, FIRING, token=token)
    assert answer.status == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")
    assert "refused a notification to /alerts/alertmanager" in caplog.text
    for secret in (TOKEN, token or TOKEN):
        assert secret not in caplog.text
    await assert_nothing_stored(alerting)


async def test_token_is_checked_before_the_body_is_read(alerting: Scenario) -> None:
    # A stranger announcing a huge body hears 401 at once, without sending it.
    url = alerting.bot.base_url + "/alerts/alertmanager"
    headers = {"Content-Length": str(50 * 1024 * 1024), "Content-Type": "application/json"}

    async def trickle() -> AsyncIterator[bytes]:
        yield b"{"
        raise AssertionError("the body was read")

    async with aiohttp.ClientSession() as session:
        try:
            async with session.post(url, data=trickle(), headers=headers) as response:
                assert response.status == 401
        except aiohttp.ClientError:
            pass  # the server answered and closed before the client finished sending
    await assert_nothing_stored(alerting)


async def test_methods_other_than_post_get_405(alerting: Scenario) -> None:
    for method in ("GET", "PUT", "DELETE"):
        answer = await post_alerts(alerting.bot, b"", method=method)
        assert answer.status == 405
        assert answer.headers["Allow"] == "POST"


async def test_a_body_over_one_megabyte_gets_413(alerting: Scenario) -> None:
    big = alertmanager_payload(
        [alert("HighLatency", service="checkout")],
        common_annotations={"description": "x" * (1024 * 1024)},
    )
    answer = await post_alerts(alerting.bot, big)
    assert answer.status == 413
    await assert_nothing_stored(alerting)


async def test_a_chunked_body_over_one_megabyte_gets_413(alerting: Scenario) -> None:
    url = alerting.bot.base_url + "/alerts/alertmanager"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 65536  # no Content-Length: the limit holds while reading

    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with aiohttp.ClientSession() as session:
        try:
            async with session.post(url, data=chunks(), headers=headers) as response:
                assert response.status == 413
        except aiohttp.ClientError:
            pass
    await assert_nothing_stored(alerting)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "the body is not JSON"),
        (b"[1, 2]", "not a Alertmanager notification (a JSON object)"),
        (json.dumps({**FIRING, "alerts": []}).encode(), "alerts: List should have at least 1"),
        (json.dumps({**FIRING, "status": "exploded"}).encode(), "status: String should match"),
        (
            json.dumps({**FIRING, "alerts": [{**FIRING["alerts"][0], "startsAt": "yesterday"}]}),
            "alerts.0.startsAt: 'yesterday' is not an RFC 3339 time",
        ),
        (json.dumps({k: v for k, v in FIRING.items() if k != "groupKey"}).encode(), "groupKey"),
    ],
)
async def test_wrong_shape_gets_400_with_the_reason(
    alerting: Scenario, body: bytes | str, reason: str
) -> None:
    data = body.encode() if isinstance(body, str) else body
    answer = await post_alerts(alerting.bot, data)
    assert answer.status == 400
    assert reason in answer.json()["error"]
    await assert_nothing_stored(alerting)


HOSTILE = "<!channel> <!here> <@U0DECLARER> <#C0GENERAL> <https://evil.example|click>"


async def test_mentions_in_labels_and_annotations_stay_inert_everywhere(
    alerting: Scenario,
) -> None:
    first = alert("Pwn<!channel>", fingerprint="fp-1", service=HOSTILE, severity="critical")
    second = alert("Pwn<!channel>", fingerprint="fp-2", service=HOSTILE, pod=HOSTILE)
    annotations = {"summary": f"Outage {HOSTILE}", "description": HOSTILE, "runbook_url": HOSTILE}
    labels = {"alertname": "Pwn<!channel>", "service": HOSTILE, "severity": "critical"}
    await post_alerts(
        alerting.bot,
        alertmanager_payload([first], common_labels=labels, common_annotations=annotations),
    )
    await post_alerts(
        alerting.bot,
        alertmanager_payload([first, second], common_labels=labels, common_annotations=annotations),
    )
    await post_alerts(
        alerting.bot,
        alertmanager_payload(
            [{**first, "status": "resolved"}, {**second, "status": "resolved"}],
            common_labels=labels,
            common_annotations=annotations,
        ),
    )
    await alerting.settle()
    [incident] = await incidents(alerting.bot)
    shown: list[str] = []
    for channel in alerting.ws.channels:
        for message in alerting.ws.messages(channel.id, include_replies=True):
            shown.append(message.text)
            shown.append(json.dumps(message.blocks))
        shown.append(alerting.ws.topic(channel.id))
    shown.extend(text for _, text in await timeline_texts(alerting.bot, incident.id))
    everything = "\n".join(shown)
    assert "Outage" in everything  # the alert's text is shown, escaped
    assert "&lt;!channel&gt;" in everything
    for markup in ("<!channel>", "<!here>", "<@U0DECLARER>", "<#C0GENERAL>", "<https://evil"):
        assert markup not in everything
