from __future__ import annotations

from aiohttp.test_utils import TestClient, TestServer

from bot.server import build_web_app
from storage.database import create_engine


async def test_healthz_is_503_when_the_database_is_unreachable() -> None:
    # A real engine aimed at a closed loopback port: the database is genuinely unreachable.
    engine = create_engine("postgresql+asyncpg://klaxon@127.0.0.1:1/klaxon")
    try:
        async with TestClient(TestServer(build_web_app(engine, None))) as client:
            response = await client.get("/healthz")
            assert response.status == 503
            assert await response.json() == {"status": "unavailable"}
            assert "127.0.0.1:1" not in await response.text()
    finally:
        await engine.dispose()
