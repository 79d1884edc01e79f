"""Ids that never repeat across runs, and ``--state FILE`` keeping a workspace across restarts:
a bot database that outlives the emulator never meets a reused or forgotten channel."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from slack_emulator import SlackClient, SlackEmulator
from slack_emulator.ids import IdFactory
from slack_emulator.persistence import StateFileError, read_state, write_state
from slack_emulator.seed import seed_workspace
from slack_emulator.state import UploadedFile

ROOT = Path(__file__).resolve().parents[2]
SLACK_ID = re.compile(r"^C[0-9A-Z]{10}$")


def test_random_ids_look_like_slack_and_differ_between_runs() -> None:
    first = SlackEmulator(ids=IdFactory.random()).default_workspace.create_channel("a")
    second = SlackEmulator(ids=IdFactory.random()).default_workspace.create_channel("a")
    assert SLACK_ID.match(first.id), first.id
    assert first.id != second.id


def test_seeded_ids_repeat_and_the_default_stays_sequential() -> None:
    def channel_ids(ids: IdFactory) -> list[str]:
        ws = SlackEmulator(ids=ids).default_workspace
        return [ws.create_channel(name).id for name in ("a", "b", "c")]

    assert channel_ids(IdFactory.random(7)) == channel_ids(IdFactory.random(7))
    assert channel_ids(IdFactory()) == ["C0000000001", "C0000000002", "C0000000003"]


def test_a_loaded_workspace_never_hands_out_its_ids_or_timestamps_again(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    before = SlackEmulator(ids=IdFactory())
    ws = before.default_workspace
    seeded = seed_workspace(ws)
    room = ws.create_channel("inc-1", members=[seeded.alice.id], topic="DB down")
    note = ws.add_message(room, user=seeded.alice.id, text="rolling back")
    ws.files_by_id["F1"] = _file(ws.team_id, seeded.alice.id)
    write_state(ws, path)

    after = SlackEmulator(ids=IdFactory())  # sequential again: would repeat C...01 unaided
    again = after.default_workspace
    assert read_state(again, path)
    loaded = again.get_channel("inc-1")
    assert (loaded.id, loaded.topic.value, loaded.members) == (room.id, "DB down", room.members)
    assert again.messages("inc-1")[0].text == "rolling back"
    assert again.files_by_id["F1"].content == b"# report"
    fresh = again.create_channel("inc-2")
    assert fresh.id not in {c.id for c in ws.channels_by_id.values()}
    assert float(again.add_message(fresh, user=None, text="x").ts) > float(note.ts)


def _file(team_id: str, user: str) -> UploadedFile:
    return UploadedFile("F1", team_id, user, "r.md", 8, 0, content=b"# report", completed=True)


def test_a_state_file_of_another_workspace_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    write_state(SlackEmulator(team_id="T0THER").default_workspace, path)
    with pytest.raises(StateFileError, match="another workspace"):
        read_state(SlackEmulator().default_workspace, path)
    path.write_text("{not json", "utf-8")
    with pytest.raises(StateFileError):
        read_state(SlackEmulator().default_workspace, path)


async def _standalone(*extra: str) -> tuple[asyncio.subprocess.Process, AsyncWebClient]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "slack_emulator",
        "--port",
        "0",
        *extra,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    lines: list[str] = []
    while not any(line.startswith("  channel") for line in lines):
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=10)
        assert line, f"emulator exited early: {lines}"
        lines.append(line.decode().rstrip())
    api_url = next(line for line in lines if line.startswith("Slack emulator API:")).split()[-1]
    token = next(line for line in lines if line.startswith("bot token:")).split()[-1]
    return proc, AsyncWebClient(token=token, base_url=api_url)


async def _stop(proc: asyncio.subprocess.Process) -> None:
    proc.terminate()
    await proc.wait()


async def test_standalone_runs_get_fresh_ids_unless_a_state_file_keeps_them(
    tmp_path: Path,
) -> None:
    state = tmp_path / "workspace.json"
    made: list[str] = []
    for _ in range(2):
        proc, client = await _standalone()
        try:
            made.append((await client.conversations_create(name="inc-1"))["channel"]["id"])
        finally:
            await _stop(proc)
    assert made[0] != made[1]

    proc, client = await _standalone("--state", str(state))
    try:
        created = (await client.conversations_create(name="inc-1"))["channel"]["id"]
        await client.chat_postMessage(channel=created, text="war room open")
    finally:  # SIGTERM: the emulator saves its state once more on the way out
        await _stop(proc)
    proc, client = await _standalone("--state", str(state))
    try:
        kept = (await client.conversations_info(channel=created))["channel"]
        assert kept["name"] == "inc-1"
        history = await client.conversations_history(channel=created)
        assert [m["text"] for m in history["messages"]] == ["war room open"]
        other = (await client.conversations_create(name="inc-2"))["channel"]["id"]
        assert other != created
    finally:
        await _stop(proc)


async def test_slack_side_users_posts_survive_a_reload(tmp_path: Path) -> None:
    emulator = SlackEmulator(ids=IdFactory.random())
    seeded = seed_workspace(emulator.default_workspace)
    async with emulator.run():
        slack = SlackClient(emulator)
        await slack.user_posts("general", seeded.bob.id, "hello")
    write_state(emulator.default_workspace, tmp_path / "s.json")
    again = SlackEmulator(ids=IdFactory.random())
    read_state(again.default_workspace, tmp_path / "s.json")
    assert [m.text for m in again.default_workspace.messages("general")] == ["hello"]
