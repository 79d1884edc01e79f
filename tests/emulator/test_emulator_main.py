"""``python -m slack_emulator`` serves a seeded workspace and prints how to reach it."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from slack_sdk.web.async_client import AsyncWebClient

ROOT = Path(__file__).resolve().parents[2]


async def test_standalone_server_prints_url_and_token() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "slack_emulator",
        "--port",
        "0",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        lines: list[str] = []
        while not any(line.startswith("bot token:") for line in lines):
            line = await asyncio.wait_for(proc.stdout.readline(), timeout=10)
            assert line, f"emulator exited early: {lines}"
            lines.append(line.decode().strip())
        api_url = next(line for line in lines if line.startswith("Slack emulator API:")).split()[-1]
        token = next(line for line in lines if line.startswith("bot token:")).split()[-1]
        assert api_url.startswith("http://127.0.0.1:")
        assert api_url.endswith("/api/")
        client = AsyncWebClient(token=token, base_url=api_url)
        assert (await client.auth_test())["team_id"] == "T0001"
        names = {
            c["name"]
            for c in [
                (await client.conversations_info(channel="#general"))["channel"],
                (await client.conversations_info(channel="#incidents"))["channel"],
            ]
        }
        assert names == {"general", "incidents"}
        deactivated = (await client.users_lookupByEmail(email="mallory@example.com"))["user"]
        assert deactivated["deleted"] is True
        assert (await client.usergroups_users_list(usergroup="S000ONCALL"))["users"]
    finally:
        proc.terminate()
        await proc.wait()
