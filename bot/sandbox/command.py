"""``python -m bot sandbox [--port N] [--db PATH]``: start the sandbox and say where it is."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from bot.durations import parse_duration
from bot.errors import ConfigError
from bot.sandbox.compose import (
    DEFAULT_CADENCE,
    DEFAULT_PORT,
    LOOPBACK,
    Options,
    SandboxError,
    is_loopback,
    running,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="the page's port")
    parser.add_argument(
        "--host",
        default=LOOPBACK,
        help="the page's address; anything but loopback lets others act as anyone in it",
    )
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        help="keep incidents in this SQLite file (and the workspace beside it) across runs; "
        "without it every run starts afresh",
    )
    parser.add_argument(
        "--drill-cadence",
        default=f"{int(DEFAULT_CADENCE.total_seconds())}s",
        help="a SEV1's status-update cadence and escalation step in the sandbox "
        "(default %(default)s)",
    )


def options_from(arguments: argparse.Namespace) -> Options:
    try:
        cadence = parse_duration(arguments.drill_cadence)
    except ValueError as exc:
        raise ConfigError(f"--drill-cadence: {exc}") from None
    return Options(host=arguments.host, port=arguments.port, db=arguments.db, cadence=cadence)


async def serve(options: Options) -> None:
    stop = asyncio.Event()
    async with running(options, stop) as sandbox:
        print(f"Klaxon sandbox is ready: open {sandbox.url}", flush=True)
        print("  play any of:", flush=True)
        for person in sandbox.people:
            print(f"    {person.real_name} (@{person.name}), {person.role}", flush=True)
        print("  try: /incident declare sev1 Checkout is down    (Ctrl-C stops)", flush=True)
        if options.db is None:
            print("  this run's incidents are forgotten on exit; --db PATH keeps them", flush=True)
        await stop.wait()


def warning_for(host: str) -> str | None:
    if is_loopback(host):
        return None
    return (
        f"klaxon: warning: serving the sandbox on {host}, not loopback: anyone who can reach "
        "this machine can use it as any of its people"
    )


def run(arguments: argparse.Namespace) -> int:
    options = options_from(arguments)
    warning = warning_for(options.host)
    if warning is not None:
        print(warning, file=sys.stderr)
    try:
        asyncio.run(serve(options))
    except SandboxError as exc:
        raise ConfigError(str(exc)) from None
    return 0
