"""Ingest benchmark: sustained war-room events through the full signed HTTP path, beside a bare
Bolt app that stores nothing, with Slack-style redeliveries, then a count of what was stored.

    python -m bench.ingest [--duration 10] [--concurrency 32] [--redeliver 0.1] [--rooms 4]

Both apps run as separate processes on loopback; this process plays Slack (the emulator serves
the Web API Klaxon calls while declaring, and signs every event exactly as Slack does). Every
event is a new message in one of ``--rooms`` war rooms; after each ``1/--redeliver``-th event
the same envelope (same ``event_id``) is sent again with ``X-Slack-Retry-Num: 1``, as Slack does
when it missed a 200. Klaxon answers only once an event is committed (SQLite, WAL), so at the
end every acknowledged event must be in the database exactly once.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.common import (
    BENCH_USER,
    SIGNING_SECRET,
    Child,
    child_process,
    free_port,
    klaxon_env,
    percentile,
    seed_workspace,
    slash_body,
)
from slack_emulator import SlackEmulator
from slack_emulator.events import build_envelope
from slack_emulator.signing import signed_headers
from slack_emulator.workspace import Workspace

RESPONDER = BENCH_USER


@dataclass
class Run:
    """What one app did with the same stream of requests."""

    name: str
    elapsed: float = 0.0
    requests: int = 0
    redeliveries: int = 0
    failures: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu_seconds: float = 0.0
    acknowledged: set[tuple[str, str]] = field(default_factory=set)

    @property
    def per_second(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    @property
    def cpu_per_request_us(self) -> float:
        """The server's CPU time per request: steadier than throughput on a busy machine."""
        return self.cpu_seconds / self.requests * 1e6 if self.requests else 0.0


class EventStream:
    """Unique message events, round-robin over the war rooms, each with its own ts."""

    def __init__(self, ws: Workspace, channels: list[str], *, every_nth_again: int) -> None:
        self._ws = ws
        self._channels = channels
        self._every_nth_again = every_nth_again
        self._numbers: Iterator[int] = itertools.count()
        self._base = int(time.time()) - 3600

    def next(self) -> tuple[tuple[str, str], bytes, bool]:
        """``(channel, ts)``, the signed-to-be body, and whether to deliver it twice."""
        number = next(self._numbers)
        channel = self._channels[number % len(self._channels)]
        ts = f"{self._base + number // 1_000_000}.{number % 1_000_000:06d}"
        event = {
            "client_msg_id": f"bench-{number}",
            "type": "message",
            "text": f"bench message {number}: checking the <!channel> escaping & co",
            "user": RESPONDER,
            "ts": ts,
            "team": self._ws.team_id,
            "channel": channel,
            "event_ts": ts,
            "channel_type": "channel",
        }
        envelope = build_envelope(
            self._ws,
            event,
            event_id=f"EvBENCH{number:09d}",
            event_time=int(time.time()),
            token="bench",
        )
        again = self._every_nth_again > 0 and number % self._every_nth_again == 0
        return (channel, ts), json.dumps(envelope).encode(), again


async def _deliver(
    session: aiohttp.ClientSession, url: str, body: bytes, retry: int | None
) -> tuple[int, float]:
    headers = {"Content-Type": "application/json", **signed_headers(SIGNING_SECRET, body)}
    if retry is not None:
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    started = time.perf_counter()
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        return response.status, time.perf_counter() - started


async def drive(
    session: aiohttp.ClientSession,
    server: Child,
    stream: EventStream,
    run: Run,
    *,
    duration: float,
    concurrency: int,
) -> None:
    url = server.base_url + "/slack/events"
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        while time.perf_counter() < deadline:
            fact, body, again = stream.next()
            for retry in (None, 1) if again else (None,):
                status, seconds = await _deliver(session, url, body, retry)
                run.requests += 1
                run.redeliveries += retry is not None
                run.latencies.append(seconds)
                if 200 <= status < 300:
                    run.acknowledged.add(fact)
                else:
                    run.failures += 1

    started, cpu_before = time.perf_counter(), server.cpu_seconds()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.elapsed = time.perf_counter() - started
    run.cpu_seconds = server.cpu_seconds() - cpu_before


async def _declare_war_rooms(
    emulator: SlackEmulator, session: aiohttp.ClientSession, url: str, rooms: int
) -> list[str]:
    ws = emulator.default_workspace
    general = ws.get_channel("general").id
    for n in range(rooms):
        body = slash_body(f"declare sev2 Bench room {n}", user_id=RESPONDER, channel_id=general)
        headers = {**signed_headers(SIGNING_SECRET, body)}
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        async with session.post(url, data=body.encode(), headers=headers) as response:
            if response.status != 200:
                raise RuntimeError(f"declare answered {response.status}")
    # The card is pinned after the war room is stored: all rooms are ready once all are pinned.
    await emulator.wait_until(lambda: len(ws.calls("pins.add")) >= rooms, within=60)
    return [c.id for c in ws.channels if c.name.startswith("inc-")]


def _stored(database: Path) -> tuple[int, set[tuple[str, str]]]:
    """Rows of captured messages, and the distinct (channel, ts) facts they hold."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT i.channel_id, t.slack_ts FROM timeline_entries t "
            "JOIN incidents i ON i.id = t.incident_id WHERE t.kind = 'message'"
        ).fetchall()
    return len(rows), {(channel, ts) for channel, ts in rows}


@dataclass
class Results:
    bare: Run
    klaxon: Run
    rows: int
    distinct: int
    lost: int
    duplicated: int


async def run(duration: float, concurrency: int, redeliver: float, rooms: int) -> Results:
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    ws = seed_workspace(emulator)
    every_nth = round(1 / redeliver) if redeliver > 0 else 0
    connector = aiohttp.TCPConnector(limit=concurrency + 4)
    async with emulator.run() as server, aiohttp.ClientSession(connector=connector) as session:
        with tempfile.TemporaryDirectory() as folder:
            database = Path(folder) / "bench.db"
            port = free_port()
            env = klaxon_env(ws.bot_token, server.api_url, str(database), port)
            async with child_process(["-m", "bot"], env, port, session) as bot:
                url = bot.base_url + "/slack/events"
                channels = await _declare_war_rooms(emulator, session, url, rooms)
                stream = EventStream(ws, channels, every_nth_again=every_nth)
                # Warm-up: connections, caches and SQLite's pages, then the measured run.
                await drive(session, bot, stream, Run("warm-up"), duration=1, concurrency=8)
                klaxon = Run("Klaxon")
                await drive(
                    session, bot, stream, klaxon, duration=duration, concurrency=concurrency
                )
            rows, distinct = _stored(database)

        bare_port = free_port()
        bare_env = {"SLACK_SIGNING_SECRET": SIGNING_SECRET}
        async with child_process(
            ["-m", "bench.bare_bolt", str(bare_port)], bare_env, bare_port, session
        ) as bare_app:
            bare_stream = EventStream(ws, channels, every_nth_again=every_nth)
            await drive(session, bare_app, bare_stream, Run("warm-up"), duration=1, concurrency=8)
            bare = Run("bare Bolt")
            await drive(
                session, bare_app, bare_stream, bare, duration=duration, concurrency=concurrency
            )
    lost = len(klaxon.acknowledged - distinct)
    return Results(bare, klaxon, rows, len(distinct), lost, rows - len(distinct))


def report(results: Results, concurrency: int) -> str:
    rows = [
        "| app | requests/s | unique events/s | p50 ms | p99 ms | server CPU µs/request "
        "| non-2xx |",
        "|---|---|---|---|---|---|---|",
    ]
    for one in (results.bare, results.klaxon):
        unique = (one.requests - one.redeliveries) / one.elapsed
        rows.append(
            f"| {one.name} | {one.per_second:,.0f} | {unique:,.0f} | "
            f"{percentile(one.latencies, 0.5) * 1000:.2f} | "
            f"{percentile(one.latencies, 0.99) * 1000:.2f} | {one.cpu_per_request_us:.0f} | "
            f"{one.failures} |"
        )
    ratio = results.klaxon.per_second / results.bare.per_second
    klaxon = results.klaxon
    lines = [
        "\n".join(rows),
        "",
        f"ratio Klaxon / bare Bolt: {ratio:.2f} (goal >= 0.5); "
        f"Klaxon {klaxon.per_second:,.0f} requests/s (goal >= 2,000)",
        f"stored: {len(klaxon.acknowledged):,} unique events acknowledged "
        f"({klaxon.redeliveries:,} redeliveries), {results.rows:,} rows, "
        f"lost {results.lost}, duplicated {results.duplicated}",
        f"{klaxon.elapsed:.1f} s each, {concurrency} concurrent connections, SQLite WAL, "
        "one Klaxon process",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per app")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--redeliver", type=float, default=0.1, help="share sent twice")
    parser.add_argument("--rooms", type=int, default=4, help="war rooms the events go to")
    args = parser.parse_args()
    results = asyncio.run(run(args.duration, args.concurrency, args.redeliver, args.rooms))
    print(report(results, args.concurrency))


if __name__ == "__main__":
    main()
