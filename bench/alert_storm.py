"""Alert storm from Alertmanager: many notifications for a few groups, each sent twice.

    python -m bench.alert_storm [--groups 20] [--notifications 200] [--within 10]
                                [--throughput 3000] [--compress 1]

Two phases against one Klaxon process (SQLite, the Slack emulator enforcing Slack's Tier 2
limits on the methods that have them: ``conversations.create``, ``setTopic``, ``pins.add``):

1. The storm: ``--notifications`` firing notifications for ``--groups`` alert groups spread
   over ``--within`` seconds, each group growing by one alert per notification, and each
   sent twice at once as both members of an HA pair send it. Expected: every delivery
   answered 200, every notification stored once, one incident and one war room per group.
2. Throughput: ``--throughput`` more notifications for the same groups (an alert flapping
   in each), 32 at a time and as fast as they are answered; then the same requests to a bare
   aiohttp handler that stores one row per request (``bench.bare_alerts``), in the same run.

``--compress N`` divides the storm's spread and the rate limits' window by N (smoke runs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bench.common import free_port, klaxon_env, percentile, process, seed_workspace
from slack_emulator import SlackEmulator
from slack_emulator.faults import SLACK_RATE_LIMITS, TIER_2, RateLimit
from slack_emulator.workspace import Workspace

TOKEN = "bench-alerts-token-4f9e2b7c1a"
PATH = "/alerts/alertmanager"
CONCURRENCY = 32
STARTED = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)


@dataclass
class Timed:
    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return len(self.statuses) / self.seconds if self.seconds else float("nan")

    def p(self, fraction: float) -> float:
        return percentile(self.latencies, fraction) if self.latencies else float("nan")


@dataclass
class Results:
    groups: int
    notifications: int
    within: float
    compress: float
    storm: Timed
    stored: int
    duplicates_answered: int
    incidents: int
    rooms: int
    rooms_ready: int
    creates_ok: int
    creates_refused: int
    duplicate_announcements: int
    klaxon: Timed
    bare: Timed
    throughput_stored: int

    @property
    def lost(self) -> int:
        return self.notifications - self.stored


def _alert(group: int, index: int) -> dict[str, object]:
    return {
        "status": "firing",
        "labels": {"alertname": f"Storm{group}", "service": f"svc{group}", "pod": f"p{index}"},
        "annotations": {},
        "startsAt": STARTED.isoformat().replace("+00:00", "Z"),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph",
        "fingerprint": f"{group:04x}{index:012x}",
    }


def notification(group: int, alerts: list[int]) -> bytes:
    """Alertmanager's webhook body for ``group`` with ``alerts`` firing."""
    labels = {"alertname": f"Storm{group}", "service": f"svc{group}", "severity": "critical"}
    return json.dumps(
        {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="Storm{group}"}}',
            "truncatedAlerts": 0,
            "status": "firing",
            "receiver": "klaxon",
            "groupLabels": {"alertname": f"Storm{group}"},
            "commonLabels": labels,
            "commonAnnotations": {"summary": f"Storm group {group}: disk full <!channel>"},
            "externalURL": "http://alertmanager.example:9093",
            "alerts": [_alert(group, index) for index in alerts],
        }
    ).encode()


async def _post(
    session: aiohttp.ClientSession, url: str, body: bytes, timed: Timed, answers: list[str]
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    started = time.perf_counter()
    async with session.post(url, data=body, headers=headers) as response:
        text = await response.text()
    timed.latencies.append(time.perf_counter() - started)
    timed.statuses.append(response.status)
    answers.append(text)


async def storm(
    session: aiohttp.ClientSession, url: str, groups: int, notifications: int, spread: float
) -> tuple[Timed, int]:
    per_group = notifications // groups
    timed, answers = Timed(), []
    started = time.perf_counter()

    async def send(slot: int) -> None:
        group, step = slot % groups, slot // groups
        await asyncio.sleep(slot * spread / notifications)
        body = notification(group, list(range(step + 1)))
        # Both members of the HA pair deliver the same notification at the same moment.
        await asyncio.gather(*(_post(session, url, body, timed, answers) for _ in range(2)))

    await asyncio.gather(*(send(slot) for slot in range(groups * per_group)))
    timed.seconds = time.perf_counter() - started
    return timed, sum('"duplicate"' in answer for answer in answers)


def flapping(groups: int, count: int) -> list[bytes]:
    """Distinct notifications: in each group an alert that keeps changing."""
    return [notification(n % groups, [1000 + n]) for n in range(count)]


async def blast(session: aiohttp.ClientSession, url: str, bodies: list[bytes]) -> Timed:
    timed, answers, queue = Timed(), [], list(reversed(bodies))

    async def worker() -> None:
        while queue:
            await _post(session, url, queue.pop(), timed, answers)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    timed.seconds = time.perf_counter() - started
    return timed


def _tier_2_limits(emulator: SlackEmulator, compress: float) -> None:
    for method, limit in SLACK_RATE_LIMITS.items():
        if limit == TIER_2:
            emulator.faults.set_rate_limit(method, RateLimit(limit.limit, limit.window / compress))


def _ready_rooms(ws: Workspace) -> int:
    return sum(1 for c in ws.channels if c.name.startswith("inc-") and ws.pins(c.id))


async def _rooms_ready(ws: Workspace, rooms: int, within: float) -> None:
    deadline = time.monotonic() + within
    ready = _ready_rooms(ws)
    while ready < rooms and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        ready = _ready_rooms(ws)


def _count(database: Path, table: str) -> int:
    with sqlite3.connect(database) as db:
        return int(db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


async def run(
    groups: int, notifications: int, within: float, throughput: int, compress: float
) -> Results:
    emulator = SlackEmulator()
    ws = seed_workspace(emulator)
    _tier_2_limits(emulator, compress)
    bodies = flapping(groups, throughput)
    async with emulator.run() as server, aiohttp.ClientSession() as session:
        with tempfile.TemporaryDirectory() as folder:
            database = Path(folder) / "bench.db"
            port = free_port()
            env = {
                **klaxon_env(ws.bot_token, server.api_url, str(database), port),
                "KLAXON_ALERTS_TOKEN": TOKEN,
            }
            async with process(["-m", "bot"], env, port, session) as bot_url:
                stormed, duplicates = await storm(
                    session, bot_url + PATH, groups, notifications, within / compress
                )
                await _rooms_ready(ws, groups, 2 * TIER_2.window / compress + 30)
                await asyncio.sleep(1)  # a second war room would have shown up by now
                stored = _count(database, "alert_notifications")
                ours = await blast(session, bot_url + PATH, bodies)
            incidents = _count(database, "incidents")
            after = _count(database, "alert_notifications")
            bare_port = free_port()
            bare_db = str(Path(folder) / "bare.db")
            async with process(
                ["-m", "bench.bare_alerts", str(bare_port), bare_db],
                {"KLAXON_ALERTS_TOKEN": TOKEN},
                bare_port,
                session,
            ) as bare_url:
                bare = await blast(session, bare_url + PATH, bodies)
    rooms = [c for c in ws.channels if c.name.startswith("inc-")]
    creates = ws.calls("conversations.create")
    announced = Counter(
        m.text.split("*")[1] if "*" in m.text else m.text for m in ws.bot_messages("incidents")
    )
    return Results(
        groups=groups,
        notifications=groups * (notifications // groups),
        within=within,
        compress=compress,
        storm=stormed,
        stored=stored,
        duplicates_answered=duplicates,
        incidents=incidents,
        rooms=len(rooms),
        rooms_ready=_ready_rooms(ws),
        creates_ok=sum(1 for call in creates if call.ok),
        creates_refused=sum(1 for call in creates if not call.ok),
        duplicate_announcements=sum(n - 1 for n in announced.values() if n > 1),
        klaxon=ours,
        bare=bare,
        throughput_stored=after - stored,
    )


def met(results: Results) -> bool:
    """The storm's promises: nothing lost, one incident and one war room per group."""
    storm = results.storm
    return (
        all(status == 200 for status in storm.statuses)
        and results.lost == 0
        and results.duplicates_answered == results.notifications
        and results.incidents == results.groups
        and results.rooms == results.rooms_ready == results.creates_ok == results.groups
        and results.duplicate_announcements == 0
    )


def report(results: Results) -> str:
    storm, ours, bare = results.storm, results.klaxon, results.bare
    scale = "" if results.compress == 1 else f", times divided by {results.compress:g}"
    rows = [
        "| measure | result |",
        "|---|---|",
        f"| deliveries (each notification twice, as an HA pair) | {len(storm.statuses)} |",
        f"| answered 200 | {sum(s == 200 for s in storm.statuses)} |",
        f"| notifications stored / lost | {results.stored} / {results.lost} |",
        f"| second copies answered `duplicate` | {results.duplicates_answered} |",
        f"| incidents (one per group) | {results.incidents} of {results.groups} |",
        f"| war rooms created / ready (card pinned) | {results.rooms} / {results.rooms_ready} |",
        f"| `conversations.create` accepted / refused (429) | "
        f"{results.creates_ok} / {results.creates_refused} |",
        f"| announcements posted twice | {results.duplicate_announcements} |",
        f"| storm answer latency p50 / p99 / max | {storm.p(0.5) * 1000:.1f} / "
        f"{storm.p(0.99) * 1000:.1f} / {max(storm.latencies) * 1000:.1f} ms |",
        f"| throughput, {CONCURRENCY} at a time: Klaxon | {ours.per_second:,.0f} notifications/s "
        f"(p50 {ours.p(0.5) * 1000:.1f} ms, p99 {ours.p(0.99) * 1000:.1f} ms; "
        f"{results.throughput_stored} of {len(ours.statuses)} stored) |",
        f"| throughput, {CONCURRENCY} at a time: bare aiohttp + one SQLite row | "
        f"{bare.per_second:,.0f} requests/s (p50 {bare.p(0.5) * 1000:.1f} ms, "
        f"p99 {bare.p(0.99) * 1000:.1f} ms) |",
        f"| Klaxon / bare | {ours.per_second / bare.per_second:.2f}x |",
    ]
    return (
        "\n".join(rows) + f"\n\n{results.notifications} firing notifications for "
        f"{results.groups} groups over {results.within:g} s, each delivered twice at once; "
        f"Slack's Tier 2 limits ({TIER_2.limit} per {TIER_2.window:g} s) on "
        f"`conversations.create`, `conversations.setTopic` and `pins.add`{scale}. Throughput: "
        f"{len(ours.statuses)} more notifications (one flapping alert per group) on SQLite, "
        "then the same requests to the bare handler."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--groups", type=int, default=20)
    parser.add_argument("--notifications", type=int, default=200)
    parser.add_argument("--within", type=float, default=10.0, help="seconds")
    parser.add_argument("--throughput", type=int, default=3000)
    parser.add_argument("--compress", type=float, default=1.0)
    args = parser.parse_args()
    results = asyncio.run(
        run(args.groups, args.notifications, args.within, args.throughput, args.compress)
    )
    print(report(results))
    print(f"\nstorm promises met: {met(results)}")


if __name__ == "__main__":
    main()
