"""``python -m slack_emulator --port N``: a standalone emulated Slack with demo data.

Channel, user and view ids are random, as Slack's are, so a bot database that outlives one
run never meets a reused id in the next; ``--state FILE`` keeps the whole workspace instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from pathlib import Path

from slack_emulator.emulator import DEFAULT_SIGNING_SECRET, SlackEmulator
from slack_emulator.ids import IdFactory
from slack_emulator.persistence import StateFileError, kept_in, read_state
from slack_emulator.seed import seed_workspace


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m slack_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--signing-secret", default=DEFAULT_SIGNING_SECRET)
    parser.add_argument(
        "--event-request-url", default=None, help="where to deliver events, e.g. the bot"
    )
    parser.add_argument(
        "--state",
        type=Path,
        default=None,
        help="keep the workspace in this JSON file across restarts (created if missing)",
    )
    parser.add_argument(
        "--id-seed",
        type=int,
        default=None,
        help="draw the same random ids every run (for reproducible demos and tests)",
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace, *, ready: asyncio.Event | None = None) -> None:
    emulator = SlackEmulator(
        args.signing_secret,
        event_request_url=args.event_request_url,
        ids=IdFactory.random(args.id_seed),
    )
    ws = emulator.default_workspace
    state: Path | None = args.state
    seed_workspace(ws)
    if state is not None and read_state(ws, state):
        print(f"workspace loaded from {state}", flush=True)
    changes = asyncio.Event()
    emulator.on_change(changes.set)
    async with contextlib.AsyncExitStack() as stack:
        if state is not None:
            await stack.enter_async_context(kept_in(ws, state, changes))
        server = await stack.enter_async_context(emulator.run(args.host, args.port))
        print(f"Slack emulator API: {server.api_url}", flush=True)
        print(f"bot token: {ws.bot_token}", flush=True)
        print(f"signing secret: {emulator.signing_secret}", flush=True)
        print(f"team: {ws.team_id}  bot user: {ws.bot_user_id}", flush=True)
        for user in ws.users.values():
            gone = " (deactivated)" if user.deleted else ""
            print(f"  user {user.id} @{user.name} {user.email or ''}{gone}", flush=True)
        for group in ws.usergroups.values():
            print(f"  usergroup {group.id} @{group.handle}", flush=True)
        for channel in ws.channels:
            print(f"  channel {channel.id} #{channel.name}", flush=True)
        if ready is not None:
            ready.set()
        # SIGTERM and Ctrl-C end the run cleanly, so the state file gets its last changes.
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(serve(_parse(argv)))
        except StateFileError as exc:
            print(f"slack_emulator: {exc}", file=sys.stderr)
            raise SystemExit(2) from None


if __name__ == "__main__":
    main()
