"""``python -m bot`` as an operator runs it: a real process, real signals, real exit codes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp

from slack_emulator import SlackEmulator
from tests.e2e.harness import (
    SIGNING_SECRET,
    free_port,
    signed,
    slash_command_body,
    wait_until_healthy,
)

REPO = Path(__file__).parents[2]


def clean_environment(**values: str) -> dict[str, str]:
    keep = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    return {**keep, **values}


async def run_to_exit(env: dict[str, str], cwd: Path, *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


async def test_no_tokens_exits_non_zero_with_one_readable_line(tmp_path: Path) -> None:
    code, stderr = await run_to_exit(clean_environment(PYTHONPATH=str(REPO)), tmp_path)
    assert code == 2
    assert stderr.strip().splitlines() == [
        "klaxon: SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from "
        "your Slack app's 'OAuth & Permissions' page, or try Klaxon without Slack: "
        "python -m bot sandbox"
    ]


async def test_invalid_settings_file_exits_naming_the_key(tmp_path: Path) -> None:
    settings_file = tmp_path / "klaxon.toml"
    settings_file.write_text('[severities.sev2]\nupdate_cadence = "soon"\n')
    env = clean_environment(
        PYTHONPATH=str(REPO),
        SLACK_BOT_TOKEN="xoxb-1",
        SLACK_SIGNING_SECRET="secret",
        KLAXON_CONFIG=str(settings_file),
    )
    code, stderr = await run_to_exit(env, tmp_path)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1
    assert "severities.sev2.update_cadence" in lines[0]
    assert "Traceback" not in stderr


async def test_bot_serves_help_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    emulator = SlackEmulator(signing_secret=SIGNING_SECRET)
    token = emulator.default_workspace.bot_token
    port = free_port()
    async with emulator.run() as server, aiohttp.ClientSession() as session:
        env = clean_environment(
            PYTHONPATH=str(REPO),
            SLACK_BOT_TOKEN=token,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=server.api_url,
            PORT=str(port),
            KLAXON_HOST="127.0.0.1",
            KLAXON_LOG_LEVEL="DEBUG",
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            await wait_until_healthy(session, base_url)
            body = slash_command_body("help")
            async with session.post(
                base_url + "/slack/events", data=body.encode(), headers=signed(body)
            ) as response:
                assert response.status == 200
                reply = await response.json()
            assert reply["response_type"] == "ephemeral"
            assert "/incident declare" in reply["text"] + str(reply["blocks"])
            assert (tmp_path / "klaxon.db").exists()  # SQLite file created on first start

            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            _, stderr_bytes = await asyncio.wait_for(process.communicate(), timeout=12)
            assert time.monotonic() - started < 10
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    stderr = stderr_bytes.decode()
    assert process.returncode == 0, stderr
    assert "Klaxon stopped" in stderr
    assert token not in stderr
    assert SIGNING_SECRET not in stderr
    assert "Traceback" not in stderr
