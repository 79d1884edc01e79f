"""At the replay memory's bound a new signed request is refused (503), never let through
unremembered; the refusals and the memory's size show in /metrics."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from slack_bolt.async_app import AsyncApp

from bot.metrics import Metrics
from bot.request_guard import RequestGuard
from bot.server import EVENTS_PATH, build_web_app
from slack_emulator.signing import signed_headers
from storage.database import create_engine

SECRET = "bound-test-secret"


def _challenge(word: str) -> tuple[str, dict[str, str]]:
    # A request Bolt answers without calling Slack: url_verification needs no token check.
    body = json.dumps({"type": "url_verification", "challenge": word, "token": "t"})
    return body, {**signed_headers(SECRET, body), "Content-Type": "application/json"}


async def test_past_the_bound_new_requests_get_503_and_replays_still_401(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'klaxon.db'}")
    bolt = AsyncApp(signing_secret=SECRET, token="xoxb-not-used")
    guard = RequestGuard(SECRET, capacity=1)
    app = build_web_app(engine, bolt, guard=guard, metrics=Metrics())
    try:
        async with TestClient(TestServer(app)) as client:
            first, first_headers = _challenge("first")
            answer = await client.post(EVENTS_PATH, data=first, headers=first_headers)
            assert answer.status == 200
            assert "first" in await answer.text()
            second, second_headers = _challenge("second")
            for _ in range(2):  # refused each time: it was never remembered as accepted
                answer = await client.post(EVENTS_PATH, data=second, headers=second_headers)
                assert answer.status == 503
            answer = await client.post(EVENTS_PATH, data=first, headers=first_headers)
            assert answer.status == 401
            metrics = await (await client.get("/metrics")).text()
    finally:
        await engine.dispose()
    assert 'klaxon_requests_total{kind="unknown",outcome="full"} 2.0' in metrics
    assert "\nklaxon_replay_signatures 1.0\n" in metrics
