"""Timer benchmark: many open incidents on short cadences, and how late their updates fire.

    python -m bench.timers [--incidents 5000] [--cadence 30] [--duration 75]

Seeds ``--incidents`` open SEV1 incidents, each with a war room in the emulator and its
first update due at a random moment within the first cadence, then runs Klaxon as a separate
process for ``--duration`` seconds. Lateness is the time from a timer's due moment to the
moment Klaxon fired it (the scheduled update's timeline entry); every scheduled update is
also checked to reach Slack exactly once. Peak RSS is the bot process's VmHWM.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from sqlalchemy import select

from bench.common import REPO, SIGNING_SECRET, free_port, summary_ms, wait_healthy
from bot.domain.incident import TimelineKind
from bot.domain.schedule import TimerKind, TimerPlan
from slack_emulator import SlackEmulator
from storage.database import create_engine, session_factory
from storage.migrate import upgrade_to_head
from storage.models import TimelineEntryRow
from storage.unit_of_work import UnitOfWorkFactory

DECLARER = "U0BENCH001"


def _settings(cadence: int) -> str:
    return f"""
[announcements]
channel = "#incidents"

[severities.sev1]
update_cadence = "{cadence}s"
escalation = []
"""


async def _seed(url: str, emulator: SlackEmulator, incidents: int) -> list[int]:
    ws = emulator.default_workspace
    ws.add_user("bench", user_id=DECLARER)
    ws.create_channel("incidents", bot_is_member=True)
    engine = create_engine(url)
    await upgrade_to_head(engine)
    uow = UnitOfWorkFactory(session_factory(engine))
    declared = datetime.now(UTC)
    ids = []
    async with uow() as work:
        for index in range(incidents):
            room = ws.create_channel(f"inc-bench-{index:05d}", bot_is_member=True)
            incident = await work.incidents.add(
                title=f"Bench incident {index}",
                severity="sev1",
                declared_by=DECLARER,
                declared_at=declared,
            )
            await work.incidents.attach_channel(incident.id, room.id, room.name)
            ids.append(incident.id)
        await work.commit()
    await engine.dispose()
    return ids


def _lead(incidents: int) -> timedelta:
    """Time to write the timers before the first falls due, as a running bot's are (set by the
    declare or the last update, a cadence ahead). Writing 5,000 in one transaction takes a few
    seconds here; with a one-second lead the first timers were stored already late, and that
    artifact made the whole p99 (3.2 s, while every later 3-second window had p99 under 0.4 s).
    """
    return timedelta(seconds=1 + 2 * incidents / 1000)


async def _schedule(url: str, ids: list[int], cadence: int) -> datetime:
    """Each incident's first update at a random moment of the first cadence after the lead."""
    engine = create_engine(url)
    uow = UnitOfWorkFactory(session_factory(engine))
    start = datetime.now(UTC) + _lead(len(ids))
    rng = random.Random(7)
    async with uow() as work:
        for incident_id in ids:
            due = start + timedelta(seconds=rng.uniform(0, cadence))
            await work.timers.apply(incident_id, TimerPlan(TimerKind.STATUS_UPDATE, due))
        await work.commit()
    await engine.dispose()
    return start


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Results:
    incidents: int
    cadence: int
    duration: int
    fired: int
    lateness: list[float]
    posted: int
    posted_twice: int
    peak_rss_mb: float


async def run(incidents: int, cadence: int, duration: int, *, quiet: bool = False) -> Results:
    folder = Path(tempfile.mkdtemp(prefix="klaxon-bench-timers-"))
    url = f"sqlite+aiosqlite:///{folder / 'klaxon.db'}"
    settings_file = folder / "klaxon.toml"
    settings_file.write_text(_settings(cadence))
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    seeding = time.perf_counter()
    ids = await _seed(url, emulator, incidents)
    if not quiet:
        print(f"seeded {incidents} incidents in {time.perf_counter() - seeding:.1f} s")
    port = free_port()
    async with emulator.run() as server, aiohttp.ClientSession() as session:
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
            "KLAXON_LOG_LEVEL": "WARNING",
        }
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", env=env, cwd=folder, stderr=asyncio.subprocess.DEVNULL
        )
        try:
            await wait_healthy(session, f"http://127.0.0.1:{port}")
            start = await _schedule(url, ids, cadence)
            await asyncio.sleep(max((start - datetime.now(UTC)).total_seconds(), 0) + duration)
            peak_rss = _peak_rss_mb(child.pid)
        finally:
            child.terminate()
            await asyncio.wait_for(child.wait(), timeout=20)
    fired = await fired_updates(url, emulator)
    return Results(
        incidents,
        cadence,
        duration,
        len(fired.lateness),
        fired.lateness,
        fired.posted,
        fired.posted_twice,
        peak_rss,
    )


@dataclass(frozen=True)
class Fired:
    lateness: list[float]  # seconds from due to fired, one per scheduled update recorded
    posted: int  # war-room posts Slack received
    posted_twice: int  # of them, posted more than once


async def fired_updates(url: str, emulator: SlackEmulator) -> Fired:
    """What the bots fired: each scheduled update's lateness (from its timeline entry), and
    the war-room posts the emulator received, duplicates counted."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    select(TimelineEntryRow.occurred_at, TimelineEntryRow.details).where(
                        TimelineEntryRow.kind == TimelineKind.STATUS_UPDATE.value
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    lateness = [
        (fired - datetime.fromisoformat(details["due_at"])).total_seconds()
        for fired, details in rows
    ]
    ws = emulator.default_workspace
    posts = Counter(
        (room.id, message.text)
        for room in ws.channels_by_id.values()
        if room.name.startswith("inc-bench-")
        for message in ws.bot_messages(room.id)
    )
    twice = sum(1 for count in posts.values() if count > 1)
    return Fired(lateness, sum(posts.values()), twice)


def report(results: Results) -> str:
    late = summary_ms(results.lateness) if results.lateness else {}
    lines = [
        f"{results.incidents} incidents, cadence {results.cadence} s, {results.duration} s: "
        f"{results.fired} updates fired ({results.fired / results.duration:.0f}/s), "
        f"{results.posted} war-room posts, {results.posted_twice} posted twice"
    ]
    if late:
        lines.append(
            "lateness ms: "
            + ", ".join(f"{name} {value:.0f}" for name, value in late.items())
            + f", max {max(results.lateness) * 1000:.0f}"
        )
    lines.append(
        f"peak RSS of the bot: {results.peak_rss_mb:.0f} MB (goal: p99 lateness <= 1000 ms)"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=5000)
    parser.add_argument("--cadence", type=int, default=30, help="seconds between updates")
    parser.add_argument("--duration", type=int, default=75, help="seconds of firing measured")
    options = parser.parse_args()
    print(report(asyncio.run(run(options.incidents, options.cadence, options.duration))))


if __name__ == "__main__":
    main()
