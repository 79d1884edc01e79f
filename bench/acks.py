"""Ack benchmark: how fast Slack hears back from ``/incident declare`` and from a button press,
one request at a time and 20 at once, beside a bare Bolt app whose listeners only ack.

    python -m bench.acks [--paced 100] [--seconds 4] [--concurrency 20]

Both apps run as separate processes on loopback; this process plays Slack. Every request is
built by the emulator's own client (``slack_emulator.client``), exactly as Slack would send it:
a fresh trigger id and response URL each, so Klaxon's replay guard sees no repeated
signature. It is signed just before it is sent, over a plain keep-alive HTTP/1.1 connection,
so the latency measured is the app's and not an HTTP client library's (aiohttp's client added
about 1 ms).

Phases, the same for both apps, in this order: declares one at a time (one every 100 ms:
each opens a war room in the background), presses of a war room card's Acknowledge button
one at a time (one every 20 ms), then ``--concurrency`` connections sending back to back for
``--seconds``: presses first, declares last (a flood of war rooms keeps Klaxon busy long
after), once the app has stopped calling Slack about the presses. The first press
acknowledges the incident; later ones are told it already is.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import functools
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import aiohttp

from bench.common import (
    BENCH_USER,
    SIGNING_SECRET,
    free_port,
    klaxon_env,
    percentile,
    process,
    seed_workspace,
)
from slack_emulator import SlackEmulator
from slack_emulator.client import BotResponse, SlackClient
from slack_emulator.signing import signed_headers
from slack_emulator.state import Message
from slack_emulator.workspace import Workspace

DECLARER = BENCH_USER
WARM_UP = 20


@dataclass(frozen=True)
class Request:
    body: bytes
    content_type: str


class _Recorder(SlackClient):
    """The emulator's Slack side, building requests instead of sending them."""

    def __init__(self, emulator: SlackEmulator) -> None:
        super().__init__(emulator)
        self.built: list[Request] = []

    async def post_signed(
        self, url: str | None, body: bytes, content_type: str, payload: dict[str, object]
    ) -> BotResponse:
        self.built.append(Request(body, content_type))
        return BotResponse(200, b"")


@dataclass(frozen=True)
class Answer:
    status: int
    # From the first byte sent to the last byte received.
    seconds: float
    # What the app says it took (its Server-Timing header), apart from HTTP and the network.
    in_app: float


class KeepAlive:
    """One HTTP/1.1 keep-alive connection that posts signed requests and times the answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str):
        self._reader, self._writer, self._host = reader, writer, host

    @classmethod
    async def open(cls, base_url: str) -> KeepAlive:
        parts = urlsplit(base_url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer, parts.netloc)

    async def post(self, path: str, request: Request) -> Answer:
        headers = signed_headers(SIGNING_SECRET, request.body)
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host}\r\n"
            f"Content-Type: {request.content_type}\r\nContent-Length: {len(request.body)}\r\n"
            + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            + "\r\n"
        ).encode()
        started = time.perf_counter()
        self._writer.write(head + request.body)
        answer = await self._reader.readuntil(b"\r\n\r\n")
        status = int(answer.split(b" ", 2)[1])
        length, in_app = 0, float("nan")
        for line in answer.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"server-timing":
                in_app = float(value.partition(b"dur=")[2]) / 1000
        if length:
            await self._reader.readexactly(length)
        return Answer(status, time.perf_counter() - started, in_app)

    async def close(self) -> None:
        self._writer.close()
        await self._writer.wait_closed()


@dataclass
class Phase:
    """One kind of request at one concurrency, against one app."""

    latencies: list[float] = field(default_factory=list)
    in_app: list[float] = field(default_factory=list)
    elapsed: float = 0.0
    failures: int = 0

    def record(self, answer: Answer) -> None:
        self.latencies.append(answer.seconds)
        self.in_app.append(answer.in_app)
        self.failures += answer.status != 200

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def p(self, fraction: float) -> float:
        return percentile(self.latencies, fraction) if self.latencies else float("nan")

    def in_app_p(self, fraction: float) -> float:
        return percentile(self.in_app, fraction) if self.in_app else float("nan")


@dataclass
class AppRun:
    declare_one: Phase = field(default_factory=Phase)
    press_one: Phase = field(default_factory=Phase)
    press_many: Phase = field(default_factory=Phase)
    declare_many: Phase = field(default_factory=Phase)


@dataclass
class Results:
    bare: AppRun
    klaxon: AppRun
    # The HTTP floor: a plain aiohttp handler that answers 200, one request every 100 ms.
    floor: Phase
    concurrency: int
    seconds: float


async def _one_at_a_time(
    url: str, requests: Iterator[Request], count: int, interval: float, phase: Phase
) -> None:
    connection = await KeepAlive.open(url)
    path = urlsplit(url).path
    try:
        started = time.perf_counter()
        for _ in range(count):
            await asyncio.sleep(interval)
            phase.record(await connection.post(path, next(requests)))
        phase.elapsed = time.perf_counter() - started
    finally:
        await connection.close()


async def _back_to_back(
    url: str, requests: Iterator[Request], concurrency: int, seconds: float, phase: Phase
) -> None:
    path = urlsplit(url).path
    connections = [await KeepAlive.open(url) for _ in range(concurrency)]
    deadline = time.perf_counter() + seconds

    async def worker(connection: KeepAlive) -> None:
        for request in requests:
            if time.perf_counter() >= deadline:
                return
            phase.record(await connection.post(path, request))

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in connections))
        phase.elapsed = time.perf_counter() - started
    finally:
        for connection in connections:
            await connection.close()


async def _built(
    recorder: _Recorder, count: int, make: Callable[[int], Awaitable[BotResponse]]
) -> list[Request]:
    recorder.built.clear()
    for n in range(count):
        await make(n)
    return list(recorder.built)


async def _declares(recorder: _Recorder, ws: Workspace, count: int) -> Iterator[Request]:
    general = ws.get_channel("general").id

    def declare(n: int) -> Awaitable[BotResponse]:
        return recorder.slash_command(
            "/incident", f"declare sev2 Ack bench {n}", user_id=DECLARER, channel_id=general
        )

    return iter(await _built(recorder, count, declare))


async def _presses(recorder: _Recorder, card: Message, count: int) -> Iterator[Request]:
    def press(_n: int) -> Awaitable[BotResponse]:
        return recorder.press_button(card, user_id=DECLARER, label="Acknowledge")

    return iter(await _built(recorder, count, press))


async def _measure(
    url: str,
    *,
    recorder: _Recorder,
    ws: Workspace,
    paced: int,
    concurrency: int,
    seconds: float,
    capacity: int,
    cards: list[Message],
) -> AppRun:
    run = AppRun()
    warm_up = min(WARM_UP, paced)  # a smoke run is short all through
    declares = await _declares(recorder, ws, warm_up + paced)
    await _one_at_a_time(url, declares, warm_up, 0.1, Phase())
    await _one_at_a_time(url, declares, paced, 0.1, run.declare_one)
    if not cards:
        # As first rendered (presses change it): the bare app's presses carry the same card.
        cards.append(copy.deepcopy(_a_card(ws)))
    presses = await _presses(recorder, cards[0], 2 * (warm_up + paced) + capacity)
    await _one_at_a_time(url, presses, warm_up, 0.02, Phase())
    await _one_at_a_time(url, presses, 2 * paced, 0.02, run.press_one)
    await _back_to_back(url, presses, concurrency, seconds, run.press_many)
    many = await _declares(recorder, ws, capacity)
    await _quiet(recorder.emulator)
    await _back_to_back(url, many, concurrency, seconds, run.declare_many)
    return run


async def _quiet(emulator: SlackEmulator, within: float = 120.0) -> None:
    """Wait until the app has called Slack (Web API or response URLs) for a second: each
    phase starts on a quiet app, not one still answering the flood of the phase before
    (Klaxon answers every press through its response URL)."""
    ws = emulator.default_workspace
    deadline = time.perf_counter() + within
    seen = -1
    while time.perf_counter() < deadline:
        now = len(ws.calls()) + len(ws.response_url_posts)
        if now == seen:
            return
        seen = now
        await asyncio.sleep(1.0)


def _a_card(ws: Workspace) -> Message:
    """The pinned card of the first war room Klaxon opened."""
    for room in ws.channels:
        pins = ws.pins(room.id) if room.name.startswith("inc-") else []
        if pins:
            return pins[0]
    raise RuntimeError("no war room has its card pinned yet")


async def run(paced: int, concurrency: int, seconds: float, capacity: int = 25_000) -> Results:
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    ws = seed_workspace(emulator)
    recorder = _Recorder(emulator)
    measure = functools.partial(
        _measure,
        recorder=recorder,
        ws=ws,
        paced=paced,
        concurrency=concurrency,
        seconds=seconds,
        capacity=capacity,
        cards=[],
    )
    async with emulator.run() as server, aiohttp.ClientSession() as session:
        with tempfile.TemporaryDirectory() as folder:
            port = free_port()
            env = klaxon_env(ws.bot_token, server.api_url, f"{folder}/bench.db", port)
            async with process(["-m", "bot"], env, port, session) as bot_url:
                klaxon = await measure(bot_url + "/slack/events")
        # Second, so that its presses carry a real incident card, as Klaxon's did.
        bare_port = free_port()
        bare_env = {"SLACK_SIGNING_SECRET": SIGNING_SECRET}
        async with process(
            ["-m", "bench.bare_bolt", str(bare_port)], bare_env, bare_port, session
        ) as bare_url:
            bare = await measure(bare_url + "/slack/events")
            floor = Phase()
            requests = await _declares(recorder, ws, paced)
            await _one_at_a_time(bare_url + "/floor", requests, paced, 0.1, floor)
    return Results(bare, klaxon, floor, concurrency, seconds)


def report(results: Results) -> str:
    rows = [
        "| request | Klaxon p50 / p99 ms | bare Bolt p50 / p99 ms | in the app: Klaxon p50 / "
        "p99 ms | in the app: bare Bolt p50 / p99 ms | Klaxon req/s | bare Bolt req/s | "
        "throughput ratio | non-200 (Klaxon / bare) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    phases = (
        ("`/incident declare`, one at a time", "declare_one"),
        ("Acknowledge press, one at a time", "press_one"),
        (f"Acknowledge press, {results.concurrency} at once", "press_many"),
        (f"`/incident declare`, {results.concurrency} at once", "declare_many"),
    )
    for name, attribute in phases:
        ours: Phase = getattr(results.klaxon, attribute)
        bare: Phase = getattr(results.bare, attribute)
        concurrent = attribute.endswith("many")
        ratio = f"{ours.per_second / bare.per_second:.2f}x" if concurrent else ""
        rows.append(
            f"| {name} | {ours.p(0.5) * 1000:.2f} / {ours.p(0.99) * 1000:.2f} | "
            f"{bare.p(0.5) * 1000:.2f} / {bare.p(0.99) * 1000:.2f} | "
            f"{ours.in_app_p(0.5) * 1000:.2f} / {ours.in_app_p(0.99) * 1000:.2f} | "
            f"{bare.in_app_p(0.5) * 1000:.2f} / {bare.in_app_p(0.99) * 1000:.2f} | "
            f"{ours.per_second:,.0f} | {bare.per_second:,.0f} | {ratio} | "
            f"{ours.failures} / {bare.failures} |"
        )
    declares = len(results.klaxon.declare_one.latencies)
    return (
        "\n".join(rows) + f"\n\nOne at a time: {declares} declares (one every 100 ms) and "
        f"{len(results.klaxon.press_one.latencies)} presses (one every 20 ms) after "
        f"{min(WARM_UP, declares)} warm-up requests each; at once: {results.concurrency} "
        f"keep-alive connections for {results.seconds:.0f} s each. Requests per second are "
        "paced in the one-at-a-time rows. Latency is timed by this client, from the first "
        "byte sent to the last received over loopback; *in the app* is what each app reports "
        "in its `Server-Timing` header, from its handler being called to its answer being "
        "ready, without HTTP parsing, the kernel and this client: together those took "
        f"{results.floor.p(0.5) * 1000:.2f} ms p50 ({results.floor.p(0.99) * 1000:.2f} ms p99) "
        "for a bare aiohttp handler that only answers 200, paced like the declares."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--paced", type=int, default=100, help="declares one at a time")
    parser.add_argument("--seconds", type=float, default=4.0, help="per concurrent phase")
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    print(report(asyncio.run(run(args.paced, args.concurrency, args.seconds))))


if __name__ == "__main__":
    main()
