"""Startup benchmark: cold start to ready, and idle memory, beside a bare Bolt app.

    python -m bench.startup [--runs 3]

"Ready" is the first 200 from ``/healthz`` after the process is spawned: Klaxon has migrated
its (new, empty) SQLite database, checked its token with the emulator and started its timer
scheduler by then. Idle memory is the resident set a few seconds later, with nothing to do.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bench.common import SIGNING_SECRET, child_process, free_port
from slack_emulator import SlackEmulator

IDLE_SECONDS = 3.0


@dataclass
class Results:
    klaxon_start: list[float]
    bare_start: list[float]
    klaxon_rss_mb: list[float]
    bare_rss_mb: list[float]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _start(
    session: aiohttp.ClientSession,
    args: list[str],
    env: dict[str, str],
    port: int,
    idle_seconds: float,
) -> tuple[float, float]:
    started = time.perf_counter()
    async with child_process(args, env, port, session) as child:
        ready = time.perf_counter() - started
        await asyncio.sleep(idle_seconds)
        return ready, _rss_mb(child.pid)


async def run(runs: int, idle_seconds: float = IDLE_SECONDS) -> Results:
    """``idle_seconds``: how long each app idles before its memory is read."""
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    results = Results([], [], [], [])
    async with emulator.run() as server, aiohttp.ClientSession() as session:
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as folder:
                port = free_port()
                env = {
                    "SLACK_BOT_TOKEN": emulator.default_workspace.bot_token,
                    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                    "SLACK_API_URL": server.api_url,
                    "DATABASE_URL": f"sqlite+aiosqlite:///{folder}/bench.db",
                    "PORT": str(port),
                    "KLAXON_HOST": "127.0.0.1",
                    "KLAXON_LOG_LEVEL": "WARNING",
                }
                ready, rss = await _start(session, ["-m", "bot"], env, port, idle_seconds)
                results.klaxon_start.append(ready)
                results.klaxon_rss_mb.append(rss)
            port = free_port()
            ready, rss = await _start(
                session,
                ["-m", "bench.bare_bolt", str(port)],
                {"SLACK_SIGNING_SECRET": SIGNING_SECRET},
                port,
                idle_seconds,
            )
            results.bare_start.append(ready)
            results.bare_rss_mb.append(rss)
    return results


def report(results: Results) -> str:
    start, bare_start = (
        statistics.median(results.klaxon_start),
        statistics.median(results.bare_start),
    )
    rss, bare_rss = statistics.median(results.klaxon_rss_mb), statistics.median(results.bare_rss_mb)
    return "\n".join(
        [
            "| measure | Klaxon | bare Bolt | ratio | goal |",
            "|---|---|---|---|---|",
            f"| cold start to ready (s, median of {len(results.klaxon_start)}) | {start:.2f} "
            f"| {bare_start:.2f} | {start / bare_start:.2f}x | <= 2 s |",
            f"| idle memory (MB RSS) | {rss:.0f} | {bare_rss:.0f} | {rss / bare_rss:.2f}x "
            "| <= 100 MB |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    print(report(asyncio.run(run(options.runs))))


if __name__ == "__main__":
    main()
