"""Keep a workspace across restarts: ``python -m slack_emulator --state FILE``, and the sandbox.

A bot's database outlives the emulator's memory. Without this, a restarted emulator hands out
fresh channels while the database still points at the old ones. The state file holds what
Slack itself keeps (users, groups, channels with their messages, pins and bookmarks, views,
files); not what Slack forgets (ephemeral messages, trigger ids, response_urls) nor the
call log.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from slack_emulator.state import (
    JSON,
    Bookmark,
    Channel,
    Message,
    Pin,
    Topic,
    UploadedFile,
    User,
    UserGroup,
    View,
)
from slack_emulator.workspace import Workspace

FORMAT_VERSION = 1
SAVE_DELAY_SECONDS = 0.2


class StateFileError(Exception):
    """A state file that cannot be read back (damaged, or from another workspace)."""


def dump_workspace(ws: Workspace) -> JSON:
    return {
        "version": FORMAT_VERSION,
        "team_id": ws.team_id,
        "bot_user_id": ws.bot_user_id,
        "users": [dataclasses.asdict(u) for u in ws.users.values()],
        "usergroups": [dataclasses.asdict(g) for g in ws.usergroups.values()],
        "channels": [_dump_channel(c) for c in ws.channels_by_id.values()],
        "views": [dataclasses.asdict(v) for v in ws.views_by_id.values()],
        "files": [_dump_file(f) for f in ws.files_by_id.values()],
    }


def _dump_channel(channel: Channel) -> JSON:
    out = dataclasses.asdict(channel)
    out["messages"] = list(out["messages"].values())
    return out


def _dump_file(upload: UploadedFile) -> JSON:
    out = dataclasses.asdict(upload)
    content = upload.content
    out["content"] = None if content is None else base64.b64encode(content).decode("ascii")
    return out


def load_workspace(ws: Workspace, data: JSON) -> None:
    """Replace ``ws``'s contents with a dump of the same team; ids and timestamps it holds
    are never handed out again."""
    if data.get("version") != FORMAT_VERSION:
        raise StateFileError(f"unknown state format {data.get('version')!r}")
    if data.get("team_id") != ws.team_id or data.get("bot_user_id") != ws.bot_user_id:
        raise StateFileError("the state file belongs to another workspace or bot user")
    try:
        users = [User(**u) for u in data["users"]]
        groups = [UserGroup(**g) for g in data["usergroups"]]
        channels = [_load_channel(c) for c in data["channels"]]
        views = [View(**v) for v in data["views"]]
        files = [_load_file(f) for f in data["files"]]
    except (KeyError, TypeError, ValueError) as exc:
        raise StateFileError(f"damaged state file: {exc}") from exc
    ws.users = {u.id: u for u in users}
    ws.usergroups = {g.id: g for g in groups}
    ws.channels_by_id = {c.id: c for c in channels}
    ws.views_by_id = {v.id: v for v in views}
    ws.files_by_id = {f.id: f for f in files}
    ws.ids.reserve(
        [*ws.users, *ws.usergroups, *ws.channels_by_id, *ws.views_by_id, *ws.files_by_id]
    )
    for channel in channels:
        for ts in channel.messages:
            ws.ts.reserve(ts)


def _load_channel(raw: dict[str, Any]) -> Channel:
    fields = dict(raw)
    fields["topic"] = Topic(**fields["topic"])
    fields["purpose"] = Topic(**fields["purpose"])
    fields["messages"] = {m["ts"]: Message(**m) for m in fields["messages"]}
    fields["pins"] = [Pin(**p) for p in fields["pins"]]
    fields["bookmarks"] = [Bookmark(**b) for b in fields["bookmarks"]]
    return Channel(**fields)


def _load_file(raw: dict[str, Any]) -> UploadedFile:
    fields = dict(raw)
    content = fields.get("content")
    fields["content"] = None if content is None else base64.b64decode(content)
    return UploadedFile(**fields)


def read_state(ws: Workspace, path: Path) -> bool:
    """Load ``path`` into ``ws``; False when there is no such file yet."""
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return False
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise StateFileError(f"{path} is not a workspace state file: {exc}") from exc
    if not isinstance(data, dict):
        raise StateFileError(f"{path} is not a workspace state file")
    load_workspace(ws, data)
    return True


def write_state(ws: Workspace, path: Path) -> None:
    """Atomically: a crash mid-write leaves the previous state, never half a file."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(dump_workspace(ws)), "utf-8")
    os.replace(temporary, path)


@contextlib.asynccontextmanager
async def kept_in(ws: Workspace, path: Path, changes: asyncio.Event) -> AsyncIterator[None]:
    """Save ``ws`` to ``path`` now (a database may be created next to it at once), shortly
    after each set of ``changes``, and once more on exit."""
    write_state(ws, path)

    async def saver() -> None:
        while True:
            await changes.wait()
            # Many changes arrive together (a declare makes a dozen calls): save once.
            await asyncio.sleep(SAVE_DELAY_SECONDS)
            changes.clear()
            write_state(ws, path)

    task = asyncio.create_task(saver(), name="emulator state file")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        write_state(ws, path)
