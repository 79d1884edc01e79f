"""Replica benchmark: scheduled updates on PostgreSQL fired by one Klaxon, then by three.

    python -m bench.replicas [--incidents 2000] [--cadence 10] [--duration 40]
                             [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test]

The same load as ``bench.timers`` (open SEV1 incidents, each with a war room in the emulator
and its first update due at a random moment of the first cadence), on a PostgreSQL database
made for each run and dropped after it, fired by one bot process and then by three sharing
it. Prints, for each, the updates fired per second, their lateness (from the due moment to
the firing's timeline entry) and how many were posted twice. The PostgreSQL server defaults
to ``TEST_POSTGRES_URL`` or the loopback one; when it does not answer, the benchmark says so
and measures nothing (exit status 0: skipped).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.common import REPO, SIGNING_SECRET, free_port, summary_ms, wait_healthy
from bench.timers import _schedule, _seed, _settings, fired_updates
from slack_emulator import SlackEmulator
from storage.database import create_engine
from tests.databases import fresh_postgres_database

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


async def _reachable(url: str) -> str | None:
    """None when the server answers; otherwise why not."""
    engine = create_engine(url)
    try:
        async with asyncio.timeout(5), engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "cannot benchmark here"
        return f"{type(exc).__name__}: {exc}"
    finally:
        await engine.dispose()
    return None


async def _run_once(
    server_url: str, replicas: int, incidents: int, cadence: int, duration: int
) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix=f"klaxon-bench-replicas-{replicas}-"))
    settings_file = folder / "klaxon.toml"
    settings_file.write_text(_settings(cadence))
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    async with fresh_postgres_database(server_url) as url:
        ids = await _seed(url, emulator, incidents)
        async with emulator.run() as server, aiohttp.ClientSession() as session:
            children = []
            try:
                for _ in range(replicas):
                    port = free_port()
                    env = {
                        **os.environ,
                        "PYTHONPATH": str(REPO),
                        "SLACK_BOT_TOKEN": emulator.default_workspace.bot_token,
                        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                        "SLACK_API_URL": server.api_url,
                        "DATABASE_URL": url,
                        "PORT": str(port),
                        "KLAXON_HOST": "127.0.0.1",
                        "KLAXON_CONFIG": str(settings_file),
                        "KLAXON_LOG_LEVEL": "ERROR",
                    }
                    child = await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        "bot",
                        env=env,
                        cwd=folder,
                        stderr=asyncio.subprocess.DEVNULL,
                    )
                    children.append(child)
                    await wait_healthy(session, f"http://127.0.0.1:{port}")
                start = await _schedule(url, ids, cadence)
                await asyncio.sleep(max((start - datetime.now(UTC)).total_seconds(), 0) + duration)
            finally:
                for child in children:
                    child.terminate()
                for child in children:
                    await asyncio.wait_for(child.wait(), timeout=20)
        fired = await fired_updates(url, emulator)  # before the database is dropped
    lateness = fired.lateness
    late = summary_ms(lateness) if lateness else {"p50": float("nan"), "p99": float("nan")}
    return {
        "fired": len(lateness),
        "per_second": len(lateness) / duration,
        "p50": late["p50"],
        "p99": late["p99"],
        "max": max(lateness, default=float("nan")) * 1000,
        "twice": fired.posted_twice,
    }


async def run(server_url: str, incidents: int, cadence: int, duration: int) -> int:
    problem = await _reachable(server_url)
    if problem is not None:
        print(
            f"bench.replicas skipped: PostgreSQL at {make_url(server_url).host} does not "
            f"answer ({problem}); start it or pass --postgres"
        )
        return 0
    print(
        f"{incidents} incidents, cadence {cadence} s ({incidents / cadence:.0f} updates/s "
        f"offered), {duration} s each, {os.cpu_count()} CPUs, PostgreSQL"
    )
    for replicas in (1, 3):
        began = time.perf_counter()
        result = await _run_once(server_url, replicas, incidents, cadence, duration)
        print(
            f"{replicas} replica{'s' if replicas > 1 else ' '}: "
            f"{result['fired']:.0f} updates fired ({result['per_second']:.0f}/s), "
            f"lateness p50 {result['p50']:.0f} ms, p99 {result['p99']:.0f} ms, "
            f"max {result['max']:.0f} ms, {result['twice']:.0f} posted twice "
            f"({time.perf_counter() - began:.0f} s)"
        )
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=2000)
    parser.add_argument("--cadence", type=int, default=10, help="seconds between updates")
    parser.add_argument("--duration", type=int, default=40, help="seconds of firing measured")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES),
        help="SQLAlchemy URL of a PostgreSQL server where a database may be created",
    )
    options = parser.parse_args()
    sys.exit(
        asyncio.run(run(options.postgres, options.incidents, options.cadence, options.duration))
    )


if __name__ == "__main__":
    main()
