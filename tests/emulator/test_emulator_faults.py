"""Fault injection and rate-limit tiers, observed through slack_sdk over HTTP."""

from __future__ import annotations

import contextlib
import time

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator import EmulatorServer, Fault, RateLimit, SlackEmulator
from slack_emulator.seed import Seeded


async def test_injected_429_has_slack_body_and_integer_retry_after(
    web_client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    emulator.faults.ratelimit("auth.test", retry_after=7)
    with pytest.raises(SlackApiError) as exc:
        await web_client.auth_test()
    assert exc.value.response.status_code == 429
    assert exc.value.response.data == {"ok": False, "error": "ratelimited"}
    assert exc.value.response.headers["Retry-After"] == "7"
    # times=1: the next call goes through
    assert (await web_client.auth_test())["ok"] is True
    assert [c.fault for c in emulator.calls("auth.test")] == ["ratelimited", None]


async def test_rate_limit_retry_handler_recovers_from_injected_429(
    server: EmulatorServer, emulator: SlackEmulator, seeded: Seeded
) -> None:
    # Retry-After 0 keeps the test fast; the handler still waits and retries.
    emulator.faults.ratelimit("chat.postMessage", retry_after=0)
    client = AsyncWebClient(
        token=emulator.default_workspace.bot_token,
        base_url=server.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    resp = await client.chat_postMessage(channel=seeded.incidents.id, text="after backoff")
    assert resp["ok"] is True
    assert [c.status for c in emulator.calls("chat.postMessage")] == [429, 200]
    assert [m.text for m in emulator.default_workspace.messages("incidents")] == ["after backoff"]


@pytest.mark.parametrize(("status", "error"), [(500, "fatal_error"), (503, "service_unavailable")])
async def test_http_errors(
    web_client: AsyncWebClient, emulator: SlackEmulator, status: int, error: str
) -> None:
    emulator.faults.http_error("auth.test", status)
    with pytest.raises(SlackApiError) as exc:
        await web_client.auth_test()
    assert exc.value.response.status_code == status
    assert exc.value.response["error"] == error


async def test_server_error_retry_handler_recovers(
    server: EmulatorServer, emulator: SlackEmulator
) -> None:
    emulator.faults.http_error("auth.test", 503)
    client = AsyncWebClient(
        token=emulator.default_workspace.bot_token,
        base_url=server.api_url,
        retry_handlers=[AsyncServerErrorRetryHandler(max_retry_count=1)],
    )
    assert (await client.auth_test())["ok"] is True


async def test_connection_reset_closes_without_answer(
    server: EmulatorServer, emulator: SlackEmulator, seeded: Seeded
) -> None:
    emulator.faults.connection_reset("chat.postMessage", times=None)
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await http.post(
                f"{server.api_url}chat.postMessage",
                json={"channel": seeded.incidents.id, "text": "x"},
                headers={"Authorization": f"Bearer {emulator.default_workspace.bot_token}"},
            )
    # a faulted call never changes state
    assert emulator.default_workspace.messages("incidents") == []


async def test_default_client_retries_one_connection_reset(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    emulator.faults.connection_reset("chat.postMessage")
    resp = await web_client.chat_postMessage(channel=seeded.incidents.id, text="x")
    assert resp["ok"] is True
    assert [c.fault for c in emulator.calls("chat.postMessage")] == ["connection_reset", None]


async def test_latency_is_added_per_call(
    web_client: AsyncWebClient, emulator: SlackEmulator
) -> None:
    emulator.faults.latency("auth.test", 0.2)
    started = time.monotonic()
    await web_client.auth_test()
    assert time.monotonic() - started >= 0.2
    emulator.faults.clear("auth.test")
    started = time.monotonic()
    await web_client.auth_test()
    assert time.monotonic() - started < 0.2


async def _fault_pattern(seed: int, calls: int) -> list[bool]:
    emulator = SlackEmulator(fault_seed=seed)
    emulator.faults.random_fault("auth.test", Fault.ratelimited(), probability=0.2)
    async with emulator.run() as server:
        client = AsyncWebClient(token=emulator.default_workspace.bot_token, base_url=server.api_url)
        for _ in range(calls):
            with contextlib.suppress(SlackApiError):
                await client.auth_test()
    return [c.status == 429 for c in emulator.calls("auth.test")]


async def test_probabilistic_faults_are_deterministic_per_seed() -> None:
    first = await _fault_pattern(seed=42, calls=60)
    assert first == await _fault_pattern(seed=42, calls=60)
    assert 4 <= sum(first) <= 24  # about 20% of 60
    assert first != await _fault_pattern(seed=7, calls=60)


async def test_tier_rate_limit_sliding_window(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    emulator.faults.enable_slack_rate_limits()  # setTopic is Tier 2: ~20 per minute
    for i in range(20):
        await web_client.conversations_setTopic(channel=seeded.incidents.id, topic=str(i))
    with pytest.raises(SlackApiError) as exc:
        await web_client.conversations_setTopic(channel=seeded.incidents.id, topic="21st")
    assert exc.value.response.status_code == 429
    assert 1 <= int(exc.value.response.headers["Retry-After"]) <= 60
    # other methods and other workspaces have their own windows
    assert (await web_client.auth_test())["ok"]
    emulator.clock.advance(61)
    assert (await web_client.conversations_setTopic(channel=seeded.incidents.id, topic="ok"))["ok"]


async def test_rate_limits_are_off_by_default(web_client: AsyncWebClient, seeded: Seeded) -> None:
    for _ in range(25):
        await web_client.conversations_setTopic(channel=seeded.incidents.id, topic="t")


async def test_post_message_limit_is_per_channel(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    emulator.faults.set_rate_limit("chat.postMessage", RateLimit(1, window=1.0, per_channel=True))
    await web_client.chat_postMessage(channel=seeded.incidents.id, text="1")
    with pytest.raises(SlackApiError) as exc:
        await web_client.chat_postMessage(channel=seeded.incidents.id, text="2")
    assert exc.value.response.status_code == 429
    assert (await web_client.chat_postMessage(channel=seeded.general.id, text="other"))["ok"]
    emulator.clock.advance(1.01)
    assert (await web_client.chat_postMessage(channel=seeded.incidents.id, text="3"))["ok"]


async def test_wildcard_fault_applies_to_every_method(
    web_client: AsyncWebClient, emulator: SlackEmulator, seeded: Seeded
) -> None:
    emulator.faults.http_error("*", 500, times=2)
    for call in (web_client.auth_test(), web_client.users_info(user=seeded.alice.id)):
        with pytest.raises(SlackApiError):
            await call
    assert (await web_client.auth_test())["ok"]
