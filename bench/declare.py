"""Declare benchmark: ack latency of ``/incident declare`` beside a bare Bolt app, and the time
from the command to a ready war room with ``--latency`` seconds added to every Web API call.

    python -m bench.declare [--acks 300] [--ready 10] [--latency 0.05]

Both apps run as separate processes on loopback; the Slack emulator runs in this process.
"Ready" means: channel created, responders invited, topic set, card pinned and the
stakeholder announcement posted, as observed in the emulator.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import re
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp

from bench.common import (
    SIGNING_SECRET,
    free_port,
    post_signed,
    process,
    slash_body,
    summary_ms,
)
from slack_emulator import SlackEmulator
from slack_emulator.workspace import Workspace

DECLARER = "U0BENCH001"
_PUBLIC_ID = re.compile(r"INC-(\d{8})-(\d{3,})")


@dataclass
class Results:
    bare_ack: list[float]
    klaxon_ack: list[float]
    ready: list[float]
    latency: float


def _seed(emulator: SlackEmulator) -> Workspace:
    ws = emulator.default_workspace
    ws.add_user("bench", user_id=DECLARER)
    ws.create_channel("general", bot_is_member=True, members=[DECLARER])
    ws.create_channel("incidents", bot_is_member=True)
    return ws


def _war_room_ready(ws: Workspace, day: str, number: str) -> bool:
    prefix = f"inc-{day}-{number}-"
    room = next((c for c in ws.channels if c.name.startswith(prefix)), None)
    if room is None or DECLARER not in room.members or not room.topic.value:
        return False
    if not ws.pins(room.id):
        return False
    return any(f"<#{room.id}>" in str(m.blocks) for m in ws.bot_messages("incidents"))


async def _acks(
    session: aiohttp.ClientSession, url: str, count: int, general: str, interval: float
) -> list[float]:
    samples = []
    for n in range(count):
        # Paced: back-to-back declares would measure the war rooms' background work (seven
        # Web API calls each) queueing behind one another rather than the acknowledgement.
        await asyncio.sleep(interval)
        body = slash_body(f"declare sev2 Bench incident {n}", user_id=DECLARER, channel_id=general)
        status, seconds = await post_signed(session, url, body)
        if status != 200:
            raise RuntimeError(f"declare answered {status}")
        samples.append(seconds)
    return samples


async def run(acks: int, ready: int, latency: float, interval: float) -> Results:
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    ws = _seed(emulator)
    general = ws.get_channel("general").id
    warmup = 20
    async with emulator.run() as server, aiohttp.ClientSession() as session:
        bare_port = free_port()
        bare_env = {"SLACK_SIGNING_SECRET": SIGNING_SECRET}
        async with process(
            ["-m", "bench.bare_bolt", str(bare_port)], bare_env, bare_port, session
        ) as bare:
            await _acks(session, bare + "/slack/events", warmup, general, interval)
            bare_ack = await _acks(session, bare + "/slack/events", acks, general, interval)

        emulator.faults.latency("*", latency)
        port = free_port()
        with tempfile.TemporaryDirectory() as folder:
            env = {
                "SLACK_BOT_TOKEN": ws.bot_token,
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": server.api_url,
                "DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bench.db",
                "PORT": str(port),
                "KLAXON_HOST": "127.0.0.1",
                "KLAXON_LOG_LEVEL": "WARNING",
            }
            async with process(["-m", "bot"], env, port, session) as bot:
                url = bot + "/slack/events"
                await _acks(session, url, warmup, general, interval)
                klaxon_ack = await _acks(session, url, acks, general, interval)
                total = warmup + acks
                await emulator.wait_until(lambda: len(ws.calls("pins.add")) >= total, within=120)

                ready_samples = []
                for n in range(ready):
                    body = slash_body(
                        f"declare sev1 Ready check {n}", user_id=DECLARER, channel_id=general
                    )
                    started = time.perf_counter()
                    headers_status, _ = await post_signed(session, url, body)
                    if headers_status != 200:
                        raise RuntimeError("declare failed")
                    number = f"{total + n + 1:03d}"
                    day = datetime.now(UTC).strftime("%Y%m%d")
                    await emulator.wait_until(
                        functools.partial(_war_room_ready, ws, day, number), within=30
                    )
                    ready_samples.append(time.perf_counter() - started)
    return Results(bare_ack, klaxon_ack, ready_samples, latency)


def report(results: Results, interval: float) -> str:
    bare, klaxon = summary_ms(results.bare_ack), summary_ms(results.klaxon_ack)
    ready = summary_ms(results.ready)
    trip_ms = results.latency * 1000
    rows = [
        "| measure | Klaxon | reference | ratio | goal |",
        "|---|---|---|---|---|",
    ]
    for key in ("p50", "p95", "p99"):
        rows.append(
            f"| `/incident declare` ack {key} (ms) | {klaxon[key]:.2f} | {bare[key]:.2f} "
            f"(bare Bolt) | {klaxon[key] / bare[key]:.2f}x | "
            f"{'p50 <= 1 ms' if key == 'p50' else ''} |"
        )
    for key in ("p50", "p95"):
        rows.append(
            f"| declare to war room ready {key} (ms) | {ready[key]:.0f} | {3 * trip_ms:.0f} "
            f"(3 round trips of {trip_ms:.0f} ms) | {ready[key] / (3 * trip_ms):.2f}x | "
            f"{'3 round trips, about 200 ms' if key == 'p50' else ''} |"
        )
    counts = (
        f"{len(results.klaxon_ack)} acks each after 20 warm-up requests, one every "
        f"{interval * 1000:.0f} ms, "
        f"{len(results.ready)} war rooms timed one at a time"
    )
    return "\n".join(rows) + "\n\n" + counts


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--acks", type=int, default=300)
    parser.add_argument("--ready", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between declares")
    args = parser.parse_args()
    results = asyncio.run(run(args.acks, args.ready, args.latency, args.interval))
    print(report(results, args.interval))


if __name__ == "__main__":
    main()
