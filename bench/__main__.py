"""Every benchmark in one run, each figure beside its reference measured in the same run.

    python -m bench [--smoke] [--write docs/benchmarks.md]

Runs, against the Slack emulator on loopback: startup (cold start, idle memory) and acks
(``/incident declare`` and a button press, one at a time and 20 at once) beside a bare Bolt
app, declare to a ready war room, an alert storm under Slack's Tier 2 limit, timeline ingest
beside a bare Bolt events app, an Alertmanager storm (each notification twice, as an HA pair
sends it) beside a bare aiohttp handler, timers (5,000 open incidents on short cadences), and
replay protection under a five-minute soak of 1,300 signed requests a second, the sandbox's
start (``python -m bot sandbox`` to its page answering), and the public status page under
50 connections beside a bare aiohttp page. Prints a summary table
and each benchmark's own table; ``--write`` also saves them, with a description of the
machine, as Markdown. ``--smoke`` runs each for a few seconds, for the test suite: its
figures only show that every benchmark still works.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench import (
    acks,
    alert_storm,
    declare,
    ingest,
    replay,
    sandbox_startup,
    startup,
    status_page,
    storm,
    timers,
)
from bench.common import percentile


@dataclass(frozen=True)
class Plan:
    startup_runs: int
    # How long each app idles before its memory is read.
    startup_idle: float
    paced_acks: int
    concurrent_seconds: float
    prebuilt_requests: int
    ready: int
    storm_declares: int
    storm_compress: float
    ingest_seconds: float
    timer_incidents: int
    timer_cadence: int
    timer_seconds: int
    # Alertmanager storm: groups, notifications, seconds, throughput notifications, compress.
    alerts: tuple[int, int, float, int, float]
    replay: tuple[float, float, float, float, float]
    sandbox_runs: int
    # Each status page load, and the rounds (bench.status_page).
    status_seconds: float = 3.0
    status_rounds: int = 3


FULL = Plan(
    3,
    startup.IDLE_SECONDS,
    100,
    4.0,
    25_000,
    10,
    50,
    1.0,
    10.0,
    5000,
    30,
    75,
    (20, 200, 10.0, 3000, 1.0),
    (300.0, 1300.0, 240.0, 10.0, 20.0),
    5,
)
SMOKE = Plan(
    1,
    0.5,
    5,
    0.5,
    100,
    2,
    6,
    30.0,
    1.0,
    40,
    2,
    4,
    (4, 20, 2.0, 100, 30.0),
    (2, 300, 1, 0.5, 0.5),
    1,
    status_seconds=0.5,
    status_rounds=1,
)
CONCURRENCY = 20
LATENCY = 0.05


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        total_kb = int(meminfo.read_text().split()[1])
        memory = f", {total_kb / 1024 / 1024:.0f} GiB RAM"
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; load average at start {load}"
    )


def _row(name: str, ours: str, reference: str, ratio: str, goal: str, met: bool | None) -> str:
    verdict = "" if met is None else ("yes" if met else "**no**")
    return f"| {name} | {ours} | {reference} | {ratio} | {goal} | {verdict} |"


async def run(plan: Plan) -> str:
    boot = await startup.run(plan.startup_runs, plan.startup_idle)
    acked = await acks.run(
        plan.paced_acks, CONCURRENCY, plan.concurrent_seconds, plan.prebuilt_requests
    )
    declared = await declare.run(plan.ready, LATENCY)
    stormed = await storm.run(plan.storm_declares, 60.0, plan.storm_compress)
    alerted = await alert_storm.run(*plan.alerts)
    ingested = await ingest.run(plan.ingest_seconds, 32, 0.1, 4)
    fired = await timers.run(
        plan.timer_incidents, plan.timer_cadence, plan.timer_seconds, quiet=True
    )
    replay_seconds, replay_rate, replay_after, replay_sample, replay_idle = plan.replay
    replayed = await replay.run(
        replay_seconds,
        replay_rate,
        replay_after,
        replay_sample,
        idle_before=min(replay_idle, replay.IDLE_SECONDS),
        after_idle=replay_idle,
    )
    sandbox = await sandbox_startup.run(plan.sandbox_runs)
    paged = await status_page.run(plan.status_seconds, rounds=plan.status_rounds)

    ready = percentile(declared.ready, 0.5)
    trips = 3 * LATENCY
    events, bare_events = ingested.klaxon.per_second, ingested.bare.per_second
    late99 = percentile(fired.lateness, 0.99) if fired.lateness else float("nan")
    start, bare_start = statistics.median(boot.klaxon_start), statistics.median(boot.bare_start)
    rss, bare_rss = statistics.median(boot.klaxon_rss_mb), statistics.median(boot.bare_rss_mb)
    duplicates = stormed.duplicate_rooms + stormed.duplicate_cards + stormed.duplicate_announcements
    summary = [
        "| benchmark | Klaxon | reference, same run | ratio | goal | met |",
        "|---|---|---|---|---|---|",
        *_ack_rows(acked),
        _row(
            f"declare to war room ready p50, {LATENCY * 1000:.0f} ms per call",
            f"{ready * 1000:.0f} ms",
            f"{trips * 1000:.0f} ms (3 round trips)",
            f"{ready / trips:.2f}x",
            "<= 3 round trips",
            ready < 4 * LATENCY,
        ),
        _row(
            f"alert storm: {stormed.declares} declares in a minute, Tier 2 "
            "(war rooms ready / duplicates / delayed declarers told)",
            f"{stormed.ready} / {duplicates} / {stormed.told_of_delay} of {stormed.delayed}",
            "",
            "",
            f"{stormed.declares} / 0 / all",
            stormed.ready == stormed.declares
            and duplicates == 0
            and stormed.told_of_delay == stormed.delayed,
        ),
        _row(
            "alert storm: most refused creates in one window / rooms opened out of order",
            f"{stormed.refused_per_window} / {stormed.out_of_order}",
            "",
            "",
            "<= 1 / 0",
            stormed.refused_per_window <= 1 and stormed.out_of_order == 0,
        ),
        *_alert_rows(alerted),
        _row(
            "timeline ingest, 10% redelivered",
            f"{events:,.0f} events/s",
            f"{bare_events:,.0f} events/s (bare Bolt)",
            f"{events / bare_events:.2f}x",
            ">= 2,000/s and >= 0.5x",
            events >= 2000 and events >= 0.5 * bare_events,
        ),
        _row(
            "ingest lost / duplicated",
            f"{ingested.lost} / {ingested.duplicated}",
            "",
            "",
            "0 / 0",
            ingested.lost == 0 and ingested.duplicated == 0,
        ),
        _row(
            f"{fired.incidents:,} open incidents, {fired.cadence} s cadence: lateness p99",
            f"{late99 * 1000:.0f} ms",
            "due time",
            "",
            "<= 1 s",
            late99 <= 1.0,
        ),
        _row(
            "timers: posted twice / peak RSS",
            f"{fired.posted_twice} / {fired.peak_rss_mb:.0f} MB",
            "",
            "",
            "0 / reported",
            fired.posted_twice == 0,
        ),
        _row(
            f"replay soak, {replayed.target_rate:,.0f} signed requests/s for "
            f"{replayed.seconds:.0f} s: RSS peak above idle",
            f"{replayed.peak_above_idle_mb:.0f} MB at {replayed.per_second:,.0f}/s",
            f"{replayed.idle_rss_mb:.0f} MB idle",
            "",
            f"<= {replay.GOAL_ABOVE_IDLE_MB:.0f} MB",
            replayed.peak_above_idle_mb <= replay.GOAL_ABOVE_IDLE_MB,
        ),
        _row(
            "replayed declare, inside its window / re-signed / war rooms opened",
            f"{replayed.replay_status} / {replayed.resigned_status}"
            f"{'' if replayed.same_answer else ' (other answer)'} / {replayed.incidents}",
            "",
            "",
            "401 / 200 / 1",
            replayed.replay_status == 401
            and replayed.resigned_status == 200
            and replayed.same_answer
            and replayed.incidents == 1,
        ),
        _row(
            "cold start to ready",
            f"{start:.2f} s",
            f"{bare_start:.2f} s (bare Bolt)",
            f"{start / bare_start:.2f}x",
            "<= 2 s",
            start <= 2.0,
        ),
        _row(
            "sandbox: `python -m bot sandbox` to page ready",
            f"{sandbox.median:.2f} s",
            "",
            "",
            f"<= {sandbox_startup.GOAL_SECONDS:.0f} s",
            sandbox.median <= sandbox_startup.GOAL_SECONDS,
        ),
        _row(
            "idle memory",
            f"{rss:.0f} MB",
            f"{bare_rss:.0f} MB (bare Bolt)",
            f"{rss / bare_rss:.2f}x",
            "<= 100 MB",
            rss <= 100,
        ),
    ]
    summary += _status_rows(paged)
    sections = [
        "\n".join(summary),
        "### Startup\n\n" + startup.report(boot),
        "### Acknowledgements\n\n" + acks.report(acked),
        "### Declare to a ready war room\n\n" + declare.report(declared),
        "### Alert storm\n\n" + storm.report(stormed),
        "### Alerts from Alertmanager\n\n" + alert_storm.report(alerted),
        "### Timeline ingest\n\n" + ingest.report(ingested, 32),
        "### Timers\n\n" + timers.report(fired),
        "### Replay protection under load\n\n" + replay.report(replayed),
        "### Sandbox startup\n\n" + sandbox_startup.report(sandbox),
        "### Status page\n\n" + status_page.report(paged),
    ]
    return "\n\n".join(sections)


def _alert_rows(results: alert_storm.Results) -> list[str]:
    p99 = results.storm.p(0.99)
    ours, bare = results.klaxon.per_second, results.bare.per_second
    return [
        _row(
            f"Alertmanager storm: {results.notifications} notifications for {results.groups} "
            "groups, each twice, Tier 2 (incidents / war rooms / lost)",
            f"{results.incidents} / {results.rooms_ready} / {results.lost}",
            "",
            "",
            f"{results.groups} / {results.groups} / 0",
            alert_storm.met(results),
        ),
        _row(
            "alert notification answer p99, in the storm",
            f"{p99 * 1000:.1f} ms",
            "",
            "",
            "<= 100 ms",
            p99 <= 0.1,
        ),
        _row(
            "alert notifications stored, 32 at once, SQLite",
            f"{ours:,.0f}/s",
            f"{bare:,.0f}/s (bare aiohttp, one row)",
            f"{ours / bare:.2f}x",
            ">= 500/s",
            ours >= 500,
        ),
    ]


def _status_rows(results: status_page.Results) -> list[str]:
    rows = []
    for path in ("/status", "/status.json"):
        mine, theirs = results.klaxon[path], results.bare[path]
        rows.append(
            _row(
                f"`GET {path}`, {results.connections} connections",
                f"{mine:,.0f} req/s",
                f"{theirs:,.0f} req/s (bare aiohttp)",
                f"{mine / theirs:.2f}x",
                ">= 3,000/s and >= 0.5x",
                mine >= 3000 and mine >= 0.5 * theirs,
            )
        )
    idle, loaded = results.idle_acks.p(0.5), results.loaded_acks.p(0.5)
    rows.append(
        _row(
            "button press ack p50 during the `/status` load",
            f"{loaded * 1000:.2f} ms",
            f"{idle * 1000:.2f} ms (the bot idle)",
            f"{loaded / idle:.2f}x",
            "<= 1.5x",
            loaded <= 1.5 * idle,
        )
    )
    return rows


def _ack_rows(results: acks.Results) -> list[str]:
    ours, bare = results.klaxon, results.bare
    rows = []
    http_floor = f"; HTTP floor {results.floor.p(0.5) * 1000:.2f} ms"
    for name, attribute in (
        ("`/incident declare` ack p50, one at a time", "declare_one"),
        ("button press ack p50, one at a time", "press_one"),
    ):
        for where, p50, floor in (
            ("over loopback", acks.Phase.p, http_floor),
            ("in the app (Server-Timing)", acks.Phase.in_app_p, ""),
        ):
            mine, theirs = p50(getattr(ours, attribute), 0.5), p50(getattr(bare, attribute), 0.5)
            rows.append(
                _row(
                    f"{name}, {where}",
                    f"{mine * 1000:.2f} ms",
                    f"{theirs * 1000:.2f} ms (bare Bolt{floor})",
                    f"{mine / theirs:.2f}x",
                    "<= 1 ms",
                    mine <= 0.001,
                )
            )
    for name, attribute in (
        (f"button presses, {results.concurrency} at once", "press_many"),
        (f"`/incident declare`, {results.concurrency} at once", "declare_many"),
    ):
        mine, theirs = getattr(ours, attribute).per_second, getattr(bare, attribute).per_second
        rows.append(
            _row(
                name,
                f"{mine:,.0f} acks/s",
                f"{theirs:,.0f} acks/s (bare Bolt)",
                f"{mine / theirs:.2f}x",
                ">= 0.7x",
                mine >= 0.7 * theirs,
            )
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="a few seconds each")
    parser.add_argument("--write", type=Path, help="also save the results as Markdown here")
    options = parser.parse_args()
    described = machine()
    results = asyncio.run(run(SMOKE if options.smoke else FULL))
    print(results)
    if options.write:
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        command = "python -m bench" + (" --smoke" if options.smoke else "")
        options.write.parent.mkdir(parents=True, exist_ok=True)
        options.write.write_text(
            "# Benchmarks\n\n"
            f"Measured {when} with `{command} --write {options.write}`, which regenerates "
            "this page.\n\n"
            f"Machine: {described}.\n\n"
            "Every figure is measured in the same run as its reference, on loopback against "
            "the Slack emulator (in the benchmark's own process); Klaxon and the bare Bolt "
            "apps run as separate processes.\n\n" + results + "\n",
            encoding="utf-8",
        )
        print(f"\nwritten to {options.write}", file=sys.stderr)


if __name__ == "__main__":
    main()
