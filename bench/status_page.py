"""Status page under load: ``/status`` and ``/status.json`` with 50 connections refreshing
back to back, beside a bare aiohttp handler returning a fixed page, and the bot's button
press acks timed meanwhile against the same bot idle.

    python -m bench.status_page [--seconds 3] [--rounds 3] [--connections 50] [--shared-port]

Klaxon runs as its own process with two components configured and the page on
``STATUS_PORT`` (its worker process; ``--shared-port`` serves it on the bot's own port). An
incident is declared, then published through the card's "Publish to status page" form, as a
person would, so the page has content. The load comes from another process
(``bench.page_load``); this process only plays Slack and times the presses (one every 20 ms),
idle, then during a third load of ``/status`` (the two throughput loads run without presses).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench import acks
from bench.common import REPO, SIGNING_SECRET, free_port, klaxon_env, process, seed_workspace
from bench.page_load import FIXED_PAGE
from bot.ids import ActionId, BlockId
from slack_emulator import SlackClient, SlackEmulator
from slack_emulator.workspace import Workspace

CONNECTIONS = 50
ROUNDS = 3
PRESS_INTERVAL = 0.02
SETTINGS = """
[status_page]
title = "Bench status"
components = ["Booking API", "Patient web"]
"""


@dataclass(frozen=True)
class Results:
    connections: int
    seconds: float
    # Requests a second, per path.
    klaxon: dict[str, float]
    bare: dict[str, float]
    failed: int
    idle_acks: acks.Phase
    loaded_acks: acks.Phase
    page_bytes: int
    rounds: int
    shared_port: bool


async def _load(url: str, path: str, connections: int, seconds: float) -> dict[str, Any]:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.page_load",
        url,
        path,
        "--connections",
        str(connections),
        "--seconds",
        str(seconds),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"the load on {path} failed")
    figures: dict[str, Any] = json.loads(out)
    if figures["other"]:
        print(f"{path} at {url} answered {figures['other']}", file=sys.stderr)
    return figures


async def _eventually(what: str, check: object, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{what} did not happen")


async def _publish(slack: SlackClient, ws: Workspace, user: str) -> None:
    """Declare an incident and publish it from its card, through the form."""
    general = ws.get_channel("general").id
    await slack.slash_command(
        "/incident", "declare sev1 Bench outage", user_id=user, channel_id=general
    )
    await _eventually(
        "a war room card",
        lambda: any(ws.pins(c.id) for c in ws.channels if c.name.startswith("inc-")),
    )
    card = acks._a_card(ws)
    await slack.press_button(card, user_id=user, action_id=ActionId.PUBLISH_STATUS_PAGE.value)
    await _eventually("the publish form", lambda: bool(ws.open_views(user)))
    [form] = ws.open_views(user)
    await slack.submit_view(
        form,
        values={
            BlockId.STATUS_PAGE_TITLE.value: "Bookings unavailable",
            BlockId.STATUS_PAGE_STATUS.value: "investigating",
            BlockId.STATUS_PAGE_BODY.value: "We are investigating failed bookings. " * 20,
            BlockId.STATUS_PAGE_COMPONENT.value + "booking-api": "major_outage",
            BlockId.STATUS_PAGE_COMPONENT.value + "patient-web": "operational",
        },
    )


async def _presses(
    events_url: str, presses: acks.Iterator[acks.Request], count: int, phase: acks.Phase
) -> None:
    await acks._one_at_a_time(events_url, presses, count, PRESS_INTERVAL, phase)


async def run(
    seconds: float,
    connections: int = CONNECTIONS,
    rounds: int = ROUNDS,
    *,
    shared_port: bool = False,
) -> Results:
    """``shared_port``: the page on the bot's own port and event loop, instead of
    ``STATUS_PORT`` (its own process, bot.status_page.worker)."""
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    ws = seed_workspace(emulator)
    recorder = acks._Recorder(emulator)
    user = acks.DECLARER
    # Presses that fit in one load, with room for the connections to open first.
    count = max(5, int(seconds * 0.7 / (PRESS_INTERVAL + 0.002)))
    samples: dict[str, list[float]] = {}
    failed = 0
    idle, loaded = acks.Phase(), acks.Phase()

    async def measure(name: str, url: str, path: str) -> None:
        nonlocal failed
        figures = await _load(url, path, connections, seconds)
        samples.setdefault(name, []).append(figures["per_second"])
        failed += int(figures["failed"])

    async with emulator.run() as server, aiohttp.ClientSession() as session:
        with tempfile.TemporaryDirectory() as folder:
            settings = Path(folder) / "klaxon.toml"
            settings.write_text(SETTINGS)
            port, bare_port, status_port = free_port(), free_port(), free_port()
            env = klaxon_env(ws.bot_token, server.api_url, f"{folder}/bench.db", port)
            env["KLAXON_CONFIG"] = str(settings)
            if not shared_port:
                env["STATUS_PORT"] = str(status_port)
            bare_args = ["-m", "bench.page_load", "--bare", str(bare_port)]
            async with (
                process(["-m", "bot"], env, port, session) as bot_url,
                process(bare_args, {}, bare_port, session) as bare_url,
            ):
                events_url = bot_url + "/slack/events"
                page_url = bot_url if shared_port else f"http://127.0.0.1:{status_port}"
                await _publish(SlackClient(emulator, request_url=events_url), ws, user)
                async with session.get(page_url + "/status") as response:
                    page = await response.read()
                    if b"Bookings unavailable" not in page:
                        raise RuntimeError("the published incident is not on /status")
                await acks._quiet(emulator)
                presses = await acks._presses(recorder, acks._a_card(ws), 2 * rounds * count + 20)
                await _presses(events_url, presses, 20, acks.Phase())
                # Rounds alternate Klaxon and the bare page, and idle and loaded presses, so
                # that other work on a shared machine weighs on both sides alike.
                for _ in range(rounds):
                    for path in ("/status", "/status.json"):
                        await measure(path, page_url, path)
                        await measure(f"bare {path}", bare_url, path)
                    await acks._quiet(emulator)
                    await _presses(events_url, presses, count, idle)
                    await acks._quiet(emulator)
                    load = asyncio.create_task(measure("/status with presses", page_url, "/status"))
                    # Once the load's connections are open and busy.
                    await asyncio.sleep(min(0.5, seconds / 10))
                    await _presses(events_url, presses, count, loaded)
                    await load
    medians = {name: statistics.median(values) for name, values in samples.items()}
    return Results(
        connections,
        seconds,
        {name: value for name, value in medians.items() if not name.startswith("bare ")},
        {name.removeprefix("bare "): v for name, v in medians.items() if name.startswith("bare ")},
        failed,
        idle,
        loaded,
        len(page),
        rounds,
        shared_port,
    )


def report(results: Results) -> str:
    where = (
        "on `PORT`, in the bot's own process"
        if results.shared_port
        else "on `STATUS_PORT`, served by its worker process"
    )
    rows = [
        f"The page {where}.",
        "",
        f"| request, {results.connections} connections | Klaxon req/s | bare aiohttp req/s "
        "| ratio |",
        "|---|---|---|---|",
    ]
    for path in ("/status", "/status.json"):
        mine, theirs = results.klaxon[path], results.bare[path]
        rows.append(f"| `GET {path}` | {mine:,.0f} | {theirs:,.0f} | {mine / theirs:.2f}x |")
    idle, loaded = results.idle_acks, results.loaded_acks
    rows += [
        "",
        "| button press ack | p50 ms | p95 ms | p99 ms | in the app p50 ms |",
        "|---|---|---|---|---|",
        f"| bot idle | {idle.p(0.5) * 1000:.2f} | {idle.p(0.95) * 1000:.2f} | "
        f"{idle.p(0.99) * 1000:.2f} | {idle.in_app_p(0.5) * 1000:.2f} |",
        f"| during the `/status` load | {loaded.p(0.5) * 1000:.2f} | "
        f"{loaded.p(0.95) * 1000:.2f} | {loaded.p(0.99) * 1000:.2f} | "
        f"{loaded.in_app_p(0.5) * 1000:.2f} |",
        "",
        f"`/status` served {results.klaxon['/status with presses']:,.0f} req/s while the "
        "presses were timed (each press is a database transaction and Slack calls). "
        f"Failed page requests: {results.failed}. Klaxon's page: {results.page_bytes:,} bytes "
        f"(the bare handler's: {len(FIXED_PAGE):,}). Each load ran {results.seconds:g} s; "
        f"req/s are medians of {results.rounds} rounds, each Klaxon then the bare page.",
    ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument(
        "--shared-port", action="store_true", help="serve the page on PORT, in the bot's loop"
    )
    parser.add_argument("--connections", type=int, default=CONNECTIONS)
    options = parser.parse_args()
    results = asyncio.run(
        run(options.seconds, options.connections, options.rounds, shared_port=options.shared_port)
    )
    print(report(results))


if __name__ == "__main__":
    main()
