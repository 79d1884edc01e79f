"""The Slack gateway: the only code that calls the Web API (ARCHITECTURE.md, decision 6).

It owns the ``AsyncWebClient`` and its HTTP session, retries what Slack asks us to retry
(429 with ``Retry-After``, dropped connections), and maps ``SlackApiError`` to
:class:`~bot.errors.SlackUnavailable` so that callers deal in Slack error codes, not in SDK types.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import SlackUnavailable
from bot.metrics import Metrics
from bot.priority_gate import Priority
from bot.slack_pacing import MethodPacer
from bot.slack_retries import retry_handlers

logger = logging.getLogger(__name__)

# Errors that mean the token itself is unusable: no retry will help, the operator must act.
TOKEN_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)


def _form(arguments: dict[str, Any]) -> dict[str, str]:
    """Form-encoded arguments: every Web API method accepts them, while JSON bodies are only
    accepted by write methods. Structured values (blocks, views) travel as JSON strings, and
    absent values are left out, which Slack treats differently from empty ones."""
    form: dict[str, str] = {}
    for name, value in arguments.items():
        if value is None:
            continue
        if isinstance(value, bool):
            form[name] = "true" if value else "false"
        elif isinstance(value, dict | list | tuple):
            form[name] = json.dumps(value, separators=(",", ":"))
        else:
            form[name] = str(value)
    return form


# Slack's published tier for the methods the gateway paces itself (PACED_BY_GATEWAY): calls
# per window (seconds). Tier 2 is "20+ per minute".
PUBLISHED_TIER = (20, 60.0)


class NameTaken(SlackUnavailable):
    """``conversations.create`` refused the name: it exists, perhaps archived."""

    def __init__(self, name: str) -> None:
        super().__init__("conversations.create", "name_taken")
        self.name = name


@dataclass(frozen=True, slots=True)
class InviteFailure:
    user_id: str
    error: str


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    id: str
    name: str
    creator: str


@dataclass(frozen=True, slots=True)
class UploadedFile:
    id: str
    permalink: str


@dataclass(frozen=True, slots=True)
class BotIdentity:
    team_id: str
    user_id: str
    bot_id: str | None


# Every post carries a key of its own in its message metadata, so that after an ambiguous
# failure the channel's history tells whether it arrived (see SlackGateway.post_message).
POST_KEY = "klaxon_post"
POST_ATTEMPTS = 3
# How often history is read while a late post may still arrive.
POST_RETRY_DELAY = 0.5
# After a timeout, how many more timeouts a post may take to land before it is sent again:
# with one, a post answered two timeouts late was found or missed by a hair, and sent twice
# once in CI (tests/e2e/test_slack_faults.py).
LATE_POST_PATIENCE = 2
# History is read from a little before the first attempt: clocks disagree.
POST_LOOKBACK_SECONDS = 60.0


def _with_post_key(metadata: Mapping[str, Any] | None, key: str) -> dict[str, Any]:
    if not metadata:
        return {"event_type": POST_KEY, "event_payload": {POST_KEY: key}}
    payload = metadata.get("event_payload")
    return {
        **metadata,
        "event_payload": {**(payload if isinstance(payload, Mapping) else {}), POST_KEY: key},
    }


def _retry_after(headers: Any) -> float | None:
    if not isinstance(headers, Mapping):
        return None
    for name, value in headers.items():
        if str(name).lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return max(float(raw), 0.0)
            except (TypeError, ValueError):
                return None
    return None


class SlackGateway:
    def __init__(
        self,
        token: str,
        base_url: str,
        *,
        timeout_seconds: int = 10,
        rate_limit_retries: int = 5,
        connection_retries: int = 3,
        metrics: Metrics | None = None,
    ) -> None:
        self._token = token
        self._base_url = base_url
        self._timeout = timeout_seconds
        self._metrics = metrics
        self._retry_handlers = retry_handlers(metrics, connection_retries, rate_limit_retries)
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None
        self._identity: BotIdentity | None = None
        self._identity_lock = asyncio.Lock()
        self._creating = MethodPacer(*PUBLISHED_TIER)

    @property
    def client(self) -> AsyncWebClient:
        """The shared client; created on first use so that construction does no I/O."""
        if self._client is None:
            # One pooled session for every call instead of a new connection per request. Its
            # timeout is the one that counts: slack_sdk applies ``timeout`` only to sessions it
            # makes itself, so calls on this one could hang for aiohttp's default five minutes.
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout)
            )
            self._client = AsyncWebClient(
                token=self._token,
                base_url=self._base_url,
                timeout=self._timeout,
                session=self._session,
                retry_handlers=list(self._retry_handlers),
            )
        return self._client

    async def call(self, method: str, **arguments: Any) -> dict[str, Any]:
        """Call ``method``; raise :class:`SlackUnavailable` carrying Slack's error code."""
        return await self._call(method, data=_form(arguments))

    async def call_json(self, method: str, **arguments: Any) -> dict[str, Any]:
        """Like :meth:`call`, with a JSON body: write methods accept one, and for messages
        with blocks it spares URL-encoding a long JSON string (measured: ~8% of the CPU of
        a busy bot posting scheduled updates)."""
        body = {name: value for name, value in arguments.items() if value is not None}
        return await self._call(method, json=body)

    async def _call(self, method: str, **body: Any) -> dict[str, Any]:
        try:
            response = await self.client.api_call(method, **body)
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            error = str(data.get("error", "unknown_error"))
            retry_after = None
            if exc.response.status_code == 429:
                error = "ratelimited"
                retry_after = _retry_after(exc.response.headers)
            self._count(method, error)
            raise SlackUnavailable(
                method,
                error,
                retryable=exc.response.status_code >= 500,
                details=dict(data),
                retry_after=retry_after,
            ) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._count(method, type(exc).__name__)
            raise SlackUnavailable(method, type(exc).__name__, retryable=True) from exc
        self._count(method, "ok")
        return dict(response.data) if isinstance(response.data, dict) else {}

    def _count(self, method: str, outcome: str) -> None:
        if self._metrics is not None:
            self._metrics.slack_call(method, outcome)

    @property
    def token(self) -> str:
        return self._token

    @property
    def known_identity(self) -> BotIdentity | None:
        """The identity if ``auth.test`` has answered; never waits for Slack."""
        return self._identity

    async def identity(self) -> BotIdentity:
        """``auth.test`` once: who the bot is, and proof that the token works."""
        async with self._identity_lock:
            if self._identity is None:
                data = await self.call("auth.test")
                self._identity = BotIdentity(
                    team_id=str(data.get("team_id", "")),
                    user_id=str(data.get("user_id", "")),
                    bot_id=data.get("bot_id"),
                )
            return self._identity

    # -- typed operations: what Klaxon does in Slack, in Slack's own terms ---------------

    async def create_channel(
        self, name: str, *, private: bool, priority: Priority = ()
    ) -> tuple[str, str]:
        """Create a channel; raises :class:`NameTaken` when the name is in use (archived too).

        One creation at a time, the most urgent ``priority`` first (a war room's severity,
        then when it was declared). When Slack answers 429, nobody asks again until its
        ``Retry-After`` has passed: at most one refused call per rate-limit window, however
        many war rooms wait (conversations.create is Tier 2, about 20 a minute)."""
        async with self._creating.turn(priority):
            try:
                data = await self.call("conversations.create", name=name, is_private=private)
            except SlackUnavailable as exc:
                if exc.error == "name_taken":
                    self._creating.called()
                    raise NameTaken(name) from exc
                if exc.error == "ratelimited":
                    self._creating.refused(exc.retry_after)
                raise
            self._creating.called()
        channel = data.get("channel") or {}
        return str(channel["id"]), str(channel.get("name", name))

    async def usergroup_members(self, usergroup_id: str) -> list[str]:
        data = await self.call("usergroups.users.list", usergroup=usergroup_id)
        return [str(user) for user in data.get("users", [])]

    async def set_usergroup_members(self, usergroup_id: str, user_ids: list[str]) -> None:
        """Replace a user group's members (``usergroups:write``); Slack refuses an empty list."""
        await self.call("usergroups.users.update", usergroup=usergroup_id, users=",".join(user_ids))

    async def user_name(self, user_id: str) -> str:
        """What people call ``user_id`` in Slack: display name, else real name, else handle.
        Nothing else of the profile (no email, no phone) leaves this method."""
        data = await self.call("users.info", user=user_id)
        user = data.get("user") or {}
        profile = user.get("profile") or {}
        for name in (profile.get("display_name"), profile.get("real_name"), user.get("name")):
            if isinstance(name, str) and name.strip():
                return name.strip()
        return user_id

    async def open_dm(self, user_id: str) -> str:
        """The direct-message channel id with ``user_id`` (``im:write``)."""
        data = await self.call("conversations.open", users=user_id)
        return str((data.get("channel") or {})["id"])

    async def invite(self, channel_id: str, user_ids: list[str]) -> list[InviteFailure]:
        """Invite everyone who can be invited; return who could not be, and why."""
        if not user_ids:
            return []
        try:
            await self.call(
                "conversations.invite", channel=channel_id, users=",".join(user_ids), force=True
            )
        except SlackUnavailable as exc:
            per_user = exc.details.get("errors")
            if isinstance(per_user, list) and per_user:
                failures = [
                    InviteFailure(str(item.get("user", "")), str(item.get("error", exc.error)))
                    for item in per_user
                    if isinstance(item, dict)
                ]
            elif len(user_ids) == 1:
                failures = [InviteFailure(user_ids[0], exc.error)]
            else:
                raise
            # Being in the channel already is what we wanted.
            return [f for f in failures if f.error != "already_in_channel"]
        return []

    async def set_topic(self, channel_id: str, topic: str) -> None:
        await self.call("conversations.setTopic", channel=channel_id, topic=topic)

    async def find_channel(self, name: str) -> ChannelInfo | None:
        """An open channel named ``name`` that the bot can see (conversations.list, paged)."""
        cursor = ""
        while True:
            data = await self.call(
                "conversations.list",
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                cursor=cursor or None,
            )
            for channel in data.get("channels") or []:
                if isinstance(channel, dict) and channel.get("name") == name:
                    return ChannelInfo(str(channel["id"]), name, str(channel.get("creator", "")))
            cursor = str((data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                return None

    async def archive(self, channel_id: str) -> None:
        try:
            await self.call("conversations.archive", channel=channel_id)
        except SlackUnavailable as exc:
            if exc.error != "already_archived":
                raise

    async def join(self, channel: str) -> str:
        data = await self.call("conversations.join", channel=channel)
        return str((data.get("channel") or {}).get("id", channel))

    async def post_message(
        self,
        channel: str,
        text: str,
        blocks: Sequence[dict[str, Any]] = (),
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> tuple[str, str]:
        """Post; returns ``(channel_id, ts)`` so names like ``#incidents`` resolve to ids.

        ``metadata`` is Slack's message metadata (``event_type`` and ``event_payload``): it
        travels with the message and comes back from :meth:`message_metadata`.
        """
        key = uuid.uuid4().hex
        marked = _with_post_key(metadata, key)
        since = time.time() - POST_LOOKBACK_SECONDS
        for attempt in range(1, POST_ATTEMPTS + 1):
            try:
                data = await self.call_json(
                    "chat.postMessage",
                    channel=channel,
                    text=text,
                    blocks=list(blocks) or None,
                    metadata=marked,
                )
            except SlackUnavailable as exc:
                # A timeout, a dropped connection or a 5xx: Slack may have posted it anyway,
                # and after a timeout it may still be posting it. Look for it, for as long as
                # LATE_POST_PATIENCE more timeouts when the answer was late, before posting
                # it again.
                if not exc.retryable or attempt == POST_ATTEMPTS:
                    raise
                late = exc.error == "TimeoutError"
                patience = LATE_POST_PATIENCE * self._timeout if late else 0.0
                found = await self._await_post(channel, key, since, patience)
                if found is not None:
                    return found
                continue
            return str(data.get("channel", channel)), str(data["ts"])
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _await_post(
        self, channel: str, key: str, since: float, patience: float
    ) -> tuple[str, str] | None:
        deadline = time.monotonic() + patience
        while True:
            try:
                found = await self._find_post(channel, key, since)
            except SlackUnavailable as exc:
                logger.warning("could not look for a post in %s: %s", channel, exc.error)
                found = None
            if found is not None or time.monotonic() >= deadline:
                return found
            await asyncio.sleep(POST_RETRY_DELAY)

    async def _find_post(self, channel: str, key: str, since: float) -> tuple[str, str] | None:
        """``(channel_id, ts)`` of the message posted with ``key``, if it is there."""
        channel_id: str | None = channel
        if channel.startswith("#"):
            info = await self.find_channel(channel[1:])
            channel_id = info.id if info else None
        if channel_id is None:
            return None
        for ts, metadata in await self._messages_with_metadata(channel_id, oldest=since):
            payload = metadata.get("event_payload")
            if isinstance(payload, dict) and payload.get(POST_KEY) == key:
                logger.info("a post to %s that seemed lost had arrived; not posting again", channel)
                return channel_id, ts
        return None

    async def message_metadata(
        self, channel_id: str, *, oldest: float, page_size: int = 999
    ) -> list[dict[str, Any]]:
        """The metadata of every message posted in ``channel_id`` since ``oldest`` (a Unix
        time), newest first; messages without metadata are left out."""
        found = await self._messages_with_metadata(channel_id, oldest=oldest, page_size=page_size)
        return [metadata for _, metadata in found]

    async def find_marked(
        self, channel_id: str, event_type: str, payload: Mapping[str, Any], *, oldest: float
    ) -> str | None:
        """The ts of the newest message posted in ``channel_id`` since ``oldest`` whose
        metadata is ``event_type`` with ``payload`` among its event payload, if any."""
        for ts, metadata in await self._messages_with_metadata(channel_id, oldest=oldest):
            found = metadata.get("event_payload")
            if (
                metadata.get("event_type") == event_type
                and isinstance(found, dict)
                and all(found.get(key) == value for key, value in payload.items())
            ):
                return ts
        return None

    async def _messages_with_metadata(
        self, channel_id: str, *, oldest: float, page_size: int = 999
    ) -> list[tuple[str, dict[str, Any]]]:
        found: list[tuple[str, dict[str, Any]]] = []
        cursor: str | None = None
        while True:
            data = await self.call(
                "conversations.history",
                channel=channel_id,
                oldest=f"{oldest:.6f}",
                limit=page_size,
                include_all_metadata=True,
                cursor=cursor,
            )
            for message in data.get("messages") or []:
                metadata = message.get("metadata") if isinstance(message, dict) else None
                if isinstance(metadata, dict):
                    found.append((str(message.get("ts", "")), metadata))
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not data.get("has_more") or not cursor:
                return found

    async def update_message(
        self, channel_id: str, ts: str, text: str, blocks: Sequence[dict[str, Any]] = ()
    ) -> None:
        await self.call_json(
            "chat.update", channel=channel_id, ts=ts, text=text, blocks=list(blocks)
        )

    async def post_ephemeral(
        self, channel_id: str, user_id: str, text: str, blocks: Sequence[dict[str, Any]] = ()
    ) -> None:
        await self.call_json(
            "chat.postEphemeral",
            channel=channel_id,
            user=user_id,
            text=text,
            blocks=list(blocks) or None,
        )

    async def pin(self, channel_id: str, ts: str) -> None:
        try:
            await self.call("pins.add", channel=channel_id, timestamp=ts)
        except SlackUnavailable as exc:
            if exc.error != "already_pinned":
                raise

    async def is_member(self, user_id: str) -> bool:
        """Whether ``user_id`` is an active person of this workspace (not deleted, not a bot)."""
        try:
            data = await self.call("users.info", user=user_id)
        except SlackUnavailable as exc:
            if exc.error == "user_not_found":
                return False
            raise
        user = data.get("user") or {}
        return not user.get("deleted") and not user.get("is_bot")

    async def add_bookmark(self, channel_id: str, title: str, link: str) -> None:
        await self.call("bookmarks.add", channel_id=channel_id, title=title, type="link", link=link)

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        await self.call("views.open", trigger_id=trigger_id, view=view)

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        await self.call_json("views.publish", user_id=user_id, view=view)

    async def upload_file(
        self,
        channel_id: str,
        filename: str,
        content: bytes,
        *,
        title: str,
        initial_comment: str | None = None,
    ) -> UploadedFile:
        """Share a file in a channel with the upload v2 flow: ask for an upload URL, POST the
        bytes there, then complete the upload into the channel (files.upload is retired)."""
        ticket = await self.call(
            "files.getUploadURLExternal", filename=filename, length=len(content)
        )
        upload_url, file_id = str(ticket["upload_url"]), str(ticket["file_id"])
        await self._post_bytes("files.upload_url", upload_url, content)
        data = await self.call(
            "files.completeUploadExternal",
            files=[{"id": file_id, "title": title}],
            channel_id=channel_id,
            initial_comment=initial_comment,
        )
        shared = next(
            (f for f in data.get("files") or [] if isinstance(f, dict) and f.get("id") == file_id),
            {},
        )
        return UploadedFile(id=file_id, permalink=str(shared.get("permalink") or ""))

    async def _post_bytes(self, what: str, url: str, content: bytes) -> None:
        if self._session is None:
            _ = self.client  # creates the shared session
        assert self._session is not None
        try:
            # Slack takes the raw bytes as the body (or a multipart form); raw is simpler.
            async with self._session.post(
                url, data=content, timeout=aiohttp.ClientTimeout(total=self._timeout)
            ) as response:
                if response.status >= 400:
                    self._count(what, f"http_{response.status}")
                    raise SlackUnavailable(what, f"http_{response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._count(what, type(exc).__name__)
            raise SlackUnavailable(what, type(exc).__name__, retryable=True) from exc
        self._count(what, "ok")

    async def respond(self, response_url: str, body: dict[str, Any]) -> None:
        """Post to a slash command's or action's ``response_url`` (no token, 5 uses)."""
        if self._session is None:
            _ = self.client  # creates the shared session
        assert self._session is not None
        try:
            async with self._session.post(
                response_url, json=body, timeout=aiohttp.ClientTimeout(total=self._timeout)
            ) as response:
                if response.status >= 400:
                    self._count("response_url", f"http_{response.status}")
                    raise SlackUnavailable("response_url", f"http_{response.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            self._count("response_url", type(exc).__name__)
            raise SlackUnavailable("response_url", type(exc).__name__, retryable=True) from exc
        except ValueError as exc:  # not an address aiohttp can even parse
            self._count("response_url", "invalid_url")
            raise SlackUnavailable("response_url", "invalid_url") from exc
        self._count("response_url", "ok")

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session = None
        self._client = None
