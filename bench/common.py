"""What every benchmark needs: processes on loopback, signed requests, percentiles."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

from slack_emulator import SlackEmulator
from slack_emulator.ids import new_trigger_id
from slack_emulator.signing import signed_headers
from slack_emulator.workspace import Workspace

SIGNING_SECRET = "bench-signing-secret-7d2e"
REPO = Path(__file__).resolve().parents[1]


# The one user every benchmark acts as.
BENCH_USER = "U0BENCH001"


def seed_workspace(emulator: SlackEmulator) -> Workspace:
    """The benchmark user, #general (where commands are run) and #incidents (announcements)."""
    ws = emulator.default_workspace
    ws.add_user("bench", user_id=BENCH_USER)
    ws.create_channel("general", bot_is_member=True, members=[BENCH_USER])
    ws.create_channel("incidents", bot_is_member=True)
    return ws


def klaxon_env(bot_token: str, api_url: str, database: str, port: int) -> dict[str, str]:
    """The environment of a Klaxon process under benchmark: the emulator as Slack, a SQLite
    file (``database``, a path), loopback only, and quiet logs."""
    return {
        "SLACK_BOT_TOKEN": bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "PORT": str(port),
        "KLAXON_HOST": "127.0.0.1",
        "KLAXON_LOG_LEVEL": "WARNING",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(samples: Sequence[float], fraction: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(samples: Sequence[float]) -> dict[str, float]:
    return {
        "p50": percentile(samples, 0.5) * 1000,
        "p95": percentile(samples, 0.95) * 1000,
        "p99": percentile(samples, 0.99) * 1000,
        "mean": statistics.fmean(samples) * 1000,
    }


def slash_body(text: str, *, user_id: str, channel_id: str, response_url: str = "") -> str:
    return urlencode(
        {
            "token": "bench",
            "team_id": "T0001",
            "team_domain": "emulated",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": "bench",
            "command": "/incident",
            "text": text,
            "api_app_id": "A00APP0001",
            "response_url": response_url,
            # Slack's trigger ids are unique per invocation, and a declare is keyed by it.
            "trigger_id": new_trigger_id(),
        }
    )


async def post_signed(session: aiohttp.ClientSession, url: str, body: str) -> tuple[int, float]:
    """Send one signed request; return its status and the seconds until the full answer."""
    headers = signed_headers(SIGNING_SECRET, body)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    started = time.perf_counter()
    async with session.post(url, data=body.encode(), headers=headers) as response:
        await response.read()
        return response.status, time.perf_counter() - started


async def wait_healthy(session: aiohttp.ClientSession, base_url: str, within: float = 30) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(base_url + "/healthz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{base_url} did not become healthy")


@dataclass(frozen=True)
class Child:
    base_url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User plus system CPU time the process has used so far (Linux)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def process(
    args: Sequence[str], env: dict[str, str], port: int, session: aiohttp.ClientSession
) -> AsyncIterator[str]:
    """Run ``python args...`` until the block ends; yields its base URL once healthy."""
    async with child_process(args, env, port, session) as child:
        yield child.base_url


@contextlib.asynccontextmanager
async def child_process(
    args: Sequence[str], env: dict[str, str], port: int, session: aiohttp.ClientSession
) -> AsyncIterator[Child]:
    """Like :func:`process`, yielding the child's pid too (to read its CPU time)."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **env}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        *args,
        env=full_env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        await wait_healthy(session, base_url)
        yield Child(base_url, child.pid)
    finally:
        if child.returncode is None:
            child.terminate()
            try:
                await asyncio.wait_for(child.wait(), timeout=15)
            except TimeoutError:
                child.kill()
                await child.wait()
