"""Declare benchmark: the time from ``/incident declare`` to a ready war room, with
``--latency`` seconds added to every Web API call (the acknowledgement itself: ``bench.acks``).

    python -m bench.declare [--ready 10] [--latency 0.05]

Klaxon runs as a separate process on loopback; the Slack emulator runs in this process.
"Ready" means: channel created, responders invited, topic set, card pinned and the
stakeholder announcement posted, as observed in the emulator. War rooms are timed one at a
time, and the reference is the latency of three sequential Web API calls.
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
    BENCH_USER,
    SIGNING_SECRET,
    free_port,
    klaxon_env,
    post_signed,
    process,
    seed_workspace,
    slash_body,
    summary_ms,
)
from slack_emulator import SlackEmulator
from slack_emulator.workspace import Workspace

DECLARER = BENCH_USER
_PUBLIC_ID = re.compile(r"INC-(\d{8})-(\d{3,})")


@dataclass
class Results:
    ready: list[float]
    latency: float


def _war_room_ready(ws: Workspace, day: str, number: str) -> bool:
    prefix = f"inc-{day}-{number}-"
    room = next((c for c in ws.channels if c.name.startswith(prefix)), None)
    if room is None or DECLARER not in room.members or not room.topic.value:
        return False
    if not ws.pins(room.id):
        return False
    return any(f"<#{room.id}>" in str(m.blocks) for m in ws.bot_messages("incidents"))


async def run(ready: int, latency: float) -> Results:
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    ws = seed_workspace(emulator)
    general = ws.get_channel("general").id
    async with emulator.run() as server, aiohttp.ClientSession() as session:
        emulator.faults.latency("*", latency)
        port = free_port()
        with tempfile.TemporaryDirectory() as folder:
            env = klaxon_env(ws.bot_token, server.api_url, f"{folder}/bench.db", port)
            async with process(["-m", "bot"], env, port, session) as bot:
                url = bot + "/slack/events"
                samples = []
                for n in range(ready + 1):  # the first one warms up
                    body = slash_body(
                        f"declare sev1 Ready check {n}", user_id=DECLARER, channel_id=general
                    )
                    started = time.perf_counter()
                    status, _ = await post_signed(session, url, body)
                    if status != 200:
                        raise RuntimeError("declare failed")
                    day = datetime.now(UTC).strftime("%Y%m%d")
                    await emulator.wait_until(
                        functools.partial(_war_room_ready, ws, day, f"{n + 1:03d}"), within=30
                    )
                    if n:
                        samples.append(time.perf_counter() - started)
    return Results(samples, latency)


def report(results: Results) -> str:
    ready = summary_ms(results.ready)
    trip_ms = results.latency * 1000
    rows = [
        "| measure | Klaxon | reference | ratio | goal |",
        "|---|---|---|---|---|",
    ]
    for key in ("p50", "p95"):
        rows.append(
            f"| declare to war room ready {key} (ms) | {ready[key]:.0f} | {3 * trip_ms:.0f} "
            f"(3 round trips of {trip_ms:.0f} ms) | {ready[key] / (3 * trip_ms):.2f}x | "
            f"{'3 round trips, about 200 ms' if key == 'p50' else ''} |"
        )
    return "\n".join(rows) + f"\n\n{len(results.ready)} war rooms timed one at a time"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ready", type=int, default=10)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    print(report(asyncio.run(run(args.ready, args.latency))))


if __name__ == "__main__":
    main()
