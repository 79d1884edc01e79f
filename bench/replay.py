"""Replay protection under sustained load: a declare signed before a soak of signed requests
and sent again four minutes into it (inside Slack's five-minute window) must be refused, and
the bot's memory must level off instead of growing with every request.

    python -m bench.replay [--seconds 300] [--rate 1300] [--replay-after 240] [--sample 10]

One Klaxon process on loopback, the Slack emulator as its Slack, this process as Slack's
Events API. First ``/incident declare`` is signed and sent, and its war room opened; after a
few idle seconds the bot's RSS is read (the *idle* figure). Then ``--rate`` signed message
events a second (each unique, as Slack's are) go to the war room over keep-alive
connections for ``--seconds``, while the RSS is read every ``--sample`` seconds. At
``--replay-after`` seconds the declare is sent again byte for byte, with its original
signature (expected: 401), and once more re-signed now (past the guard, as if it had
forgotten: expected the same incident, not a second one). After the soak the bot idles for
a moment and its RSS is read once more.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from bench.acks import KeepAlive, Request
from bench.common import (
    BENCH_USER,
    SIGNING_SECRET,
    Child,
    child_process,
    free_port,
    klaxon_env,
    seed_workspace,
    slash_body,
)
from slack_emulator import SlackEmulator
from slack_emulator.events import build_envelope
from slack_emulator.signing import signed_headers
from slack_emulator.workspace import Workspace

GOAL_ABOVE_IDLE_MB = 40.0
IDLE_SECONDS = 5.0


def rss_mb(pid: int) -> float:
    """The process's resident set size now (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass(frozen=True)
class Sample:
    seconds: float  # since the soak started
    rss_mb: float
    requests: int  # answered so far


@dataclass
class Results:
    seconds: float
    target_rate: float
    connections: int
    idle_rss_mb: float = 0.0
    after_rss_mb: float = 0.0
    after_idle_seconds: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    requests: int = 0
    non_200: int = 0
    elapsed: float = 0.0
    replay_age: float = 0.0  # how old the declare's signature was when it came again
    replay_status: int = 0
    resigned_status: int = 0
    same_answer: bool = False
    incidents: int = 0
    remembered: float = float("nan")  # klaxon_replay_signatures as the soak ended

    @property
    def per_second(self) -> float:
        return self.requests / self.elapsed if self.elapsed else 0.0

    @property
    def peak_above_idle_mb(self) -> float:
        return max(s.rss_mb for s in self.samples) - self.idle_rss_mb if self.samples else 0.0


class Events:
    """Unique message events in one channel, each with its own ts and event id."""

    def __init__(self, ws: Workspace, channel: str) -> None:
        self._ws, self._channel = ws, channel
        self._numbers = itertools.count()
        self._base = int(time.time()) - 3600

    def next(self) -> Request:
        number = next(self._numbers)
        ts = f"{self._base + number // 1_000_000}.{number % 1_000_000:06d}"
        event = {
            "client_msg_id": f"replay-bench-{number}",
            "type": "message",
            "text": f"soak message {number}",
            "user": BENCH_USER,
            "ts": ts,
            "team": self._ws.team_id,
            "channel": self._channel,
            "event_ts": ts,
            "channel_type": "channel",
        }
        envelope = build_envelope(
            self._ws,
            event,
            event_id=f"EvREPLAY{number:09d}",
            event_time=int(time.time()),
            token="bench",
        )
        return Request(json.dumps(envelope).encode(), "application/json")


async def _soak(
    url: str, events: Events, results: Results, *, seconds: float, replay: asyncio.Event
) -> None:
    """``results.target_rate`` requests a second, paced from one schedule shared by every
    connection; a connection that falls behind sends at once until it catches up, and all
    stop at the deadline, whatever is left of the schedule."""
    path = urlsplit(url).path
    connections = [await KeepAlive.open(url) for _ in range(results.connections)]
    slots = itertools.count()
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(connection: KeepAlive) -> None:
        while True:
            due = started + next(slots) / results.target_rate
            if due >= deadline or time.perf_counter() >= deadline:
                return
            if due > time.perf_counter():
                await asyncio.sleep(due - time.perf_counter())
            answer = await connection.post(path, events.next())
            results.requests += 1
            results.non_200 += answer.status != 200

    try:
        await asyncio.gather(*(worker(c) for c in connections))
    finally:
        results.elapsed = time.perf_counter() - started
        replay.set()
        for connection in connections:
            await connection.close()


async def _sample(child: Child, results: Results, every: float, started: float) -> None:
    while True:
        results.samples.append(
            Sample(time.perf_counter() - started, rss_mb(child.pid), results.requests)
        )
        await asyncio.sleep(every)


async def _post(
    session: aiohttp.ClientSession, url: str, body: str, headers: dict[str, str]
) -> tuple[int, str]:
    async with session.post(url, data=body.encode(), headers=headers) as response:
        return response.status, await response.text()


async def _remembered(session: aiohttp.ClientSession, base_url: str) -> float:
    async with session.get(base_url + "/metrics") as response:
        for line in (await response.text()).splitlines():
            if line.startswith("klaxon_replay_signatures "):
                return float(line.split()[1])
    return float("nan")


async def run(
    seconds: float,
    rate: float,
    replay_after: float,
    sample_every: float,
    *,
    connections: int = 8,
    idle_before: float = IDLE_SECONDS,
    after_idle: float = 20.0,
) -> Results:
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    ws = seed_workspace(emulator)
    results = Results(seconds, rate, connections, after_idle_seconds=after_idle)
    async with emulator.run() as server, aiohttp.ClientSession() as session:
        with tempfile.TemporaryDirectory() as folder:
            port = free_port()
            env = klaxon_env(ws.bot_token, server.api_url, f"{folder}/bench.db", port)
            async with child_process(["-m", "bot"], env, port, session) as bot:
                url = bot.base_url + "/slack/events"
                general = ws.get_channel("general").id
                response_url = emulator.issue_response_url(
                    ws, user_id=BENCH_USER, channel_id=general, source="slash_command"
                )
                declare = slash_body(
                    "declare sev1 Replayed during a soak",
                    user_id=BENCH_USER,
                    channel_id=general,
                    response_url=response_url,
                )
                headers = signed_headers(SIGNING_SECRET, declare)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
                signed_at = int(headers["X-Slack-Request-Timestamp"])
                status, first_answer = await _post(session, url, declare, headers)
                if status != 200:
                    raise RuntimeError(f"the declare answered {status}")
                await emulator.wait_until(lambda: bool(ws.calls("pins.add")), within=30)
                [room] = [c.id for c in ws.channels if c.name.startswith("inc-")]
                await asyncio.sleep(idle_before)
                results.idle_rss_mb = rss_mb(bot.pid)

                replay = asyncio.Event()
                started = time.perf_counter()
                sampling = asyncio.create_task(_sample(bot, results, sample_every, started))
                soaking = asyncio.create_task(
                    _soak(url, Events(ws, room), results, seconds=seconds, replay=replay)
                )
                await asyncio.sleep(replay_after)
                results.replay_age = time.time() - signed_at
                results.replay_status, _ = await _post(session, url, declare, headers)
                resigned = {**headers, **signed_headers(SIGNING_SECRET, declare)}
                results.resigned_status, again = await _post(session, url, declare, resigned)
                results.same_answer = again == first_answer
                await soaking
                sampling.cancel()
                results.remembered = await _remembered(session, bot.base_url)
                await asyncio.sleep(after_idle)
                results.after_rss_mb = rss_mb(bot.pid)
                results.incidents = len([c for c in ws.channels if c.name.startswith("inc-")])
    return results


def met(results: Results) -> bool:
    return (
        results.peak_above_idle_mb <= GOAL_ABOVE_IDLE_MB
        and results.replay_status == 401
        and results.resigned_status == 200
        and results.same_answer
        and results.incidents == 1
    )


def report(results: Results) -> str:
    rows = [
        "| seconds into the soak | RSS MB | above idle MB | requests answered | rate since last |",
        "|---|---|---|---|---|",
        f"| idle, before | {results.idle_rss_mb:.0f} | 0 | 0 | |",
    ]
    previous: Sample | None = None
    for sample in results.samples:
        rate = ""
        if previous is not None and sample.seconds > previous.seconds:
            per_second = (sample.requests - previous.requests) / (sample.seconds - previous.seconds)
            rate = f"{per_second:,.0f}/s"
        rows.append(
            f"| {sample.seconds:.0f} | {sample.rss_mb:.0f} | "
            f"{sample.rss_mb - results.idle_rss_mb:+.0f} | {sample.requests:,} | {rate} |"
        )
        previous = sample
    rows.append(
        f"| idle, {results.after_idle_seconds:.0f} s after | {results.after_rss_mb:.0f} | "
        f"{results.after_rss_mb - results.idle_rss_mb:+.0f} | {results.requests:,} | |"
    )
    return (
        "\n".join(rows) + f"\n\n{results.requests:,} signed message events in "
        f"{results.elapsed:.0f} s ({results.per_second:,.0f}/s, target "
        f"{results.target_rate:,.0f}/s over {results.connections} keep-alive connections), "
        f"{results.non_200:,} answered other than 200; {results.remembered:,.0f} signatures "
        "remembered as it ended. Peak RSS "
        f"{results.peak_above_idle_mb:.0f} MB above idle (goal: at most "
        f"{GOAL_ABOVE_IDLE_MB:.0f} MB). The declare signed before the soak, sent again byte for "
        f"byte {results.replay_age:.0f} s after it was signed: {results.replay_status} "
        f"(expected 401); re-signed and sent once more: {results.resigned_status}, "
        f"{'the same answer' if results.same_answer else 'a different answer'} naming the "
        f"same incident; war rooms opened: {results.incidents} (expected 1)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=300.0, help="length of the soak")
    parser.add_argument("--rate", type=float, default=1300.0, help="signed requests a second")
    parser.add_argument("--replay-after", type=float, default=240.0, help="seconds into it")
    parser.add_argument("--sample", type=float, default=10.0, help="seconds between RSS reads")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--after", type=float, default=20.0, help="idle seconds after the soak")
    args = parser.parse_args()
    results = asyncio.run(
        run(
            args.seconds,
            args.rate,
            min(args.replay_after, args.seconds),
            args.sample,
            connections=args.connections,
            after_idle=args.after,
        )
    )
    print(report(results))
    print("\ngoal met" if met(results) else "\ngoal NOT met")


if __name__ == "__main__":
    main()
