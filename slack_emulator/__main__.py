"""``python -m slack_emulator --port N``: a standalone emulated Slack with demo data."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from slack_emulator.emulator import DEFAULT_SIGNING_SECRET, SlackEmulator
from slack_emulator.seed import seed_workspace


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m slack_emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--signing-secret", default=DEFAULT_SIGNING_SECRET)
    parser.add_argument(
        "--event-request-url", default=None, help="where to deliver events, e.g. the bot"
    )
    return parser.parse_args(argv)


async def serve(args: argparse.Namespace, *, ready: asyncio.Event | None = None) -> None:
    emulator = SlackEmulator(args.signing_secret, event_request_url=args.event_request_url)
    seeded = seed_workspace(emulator.default_workspace)
    async with emulator.run(args.host, args.port) as server:
        ws = emulator.default_workspace
        print(f"Slack emulator API: {server.api_url}", flush=True)
        print(f"bot token: {ws.bot_token}", flush=True)
        print(f"signing secret: {emulator.signing_secret}", flush=True)
        print(f"team: {ws.team_id}  bot user: {ws.bot_user_id}", flush=True)
        for user in ws.users.values():
            state = " (deactivated)" if user.deleted else ""
            print(f"  user {user.id} @{user.name} {user.email or ''}{state}", flush=True)
        print(f"  usergroup {seeded.oncall.id} @{seeded.oncall.handle}", flush=True)
        for channel in ws.channels:
            print(f"  channel {channel.id} #{channel.name}", flush=True)
        if ready is not None:
            ready.set()
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(_parse(argv)))


if __name__ == "__main__":
    main()
