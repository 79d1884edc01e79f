"""Who may talk to ``/slack/events``: requests Slack signed in the last five minutes, once.

Bolt checks the signature and the timestamp too; checking them here first means a forged or
stale request is refused before any of its body is parsed. Bolt does not notice a signed
request sent twice, which someone who captured it could do within the five minutes: the
second copy of a signature is refused here. Slack itself never signs two deliveries alike,
except that an Events API redelivery (``X-Slack-Retry-Num``) may repeat the body within the
same second; event ids make those harmless, so they are let through.

The window is Slack's (and Bolt's): a timestamp more than :data:`MAX_AGE_SECONDS` from this
process's clock, either way, is stale. The forward half is the clock-skew allowance: it
accepts a request signed by a Slack whose clock runs up to five minutes ahead of ours. A
signature is remembered until its own timestamp leaves the window (:mod:`bot.replay_memory`),
so it is refused as a replay for as long as it could be accepted at all, at any rate: past
the memory's capacity new requests are refused as ``FULL`` (503) rather than let through
unremembered.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import time
from collections.abc import Callable, Mapping
from typing import Any

from bot.replay_memory import CAPACITY, Remembered, ReplayMemory

MAX_AGE_SECONDS = 5 * 60


class Verdict(enum.Enum):
    OK = "ok"
    FORGED = "forged"  # no signature, a wrong one, or a timestamp that is not a number
    STALE = "stale"  # signed more than five minutes from now
    REPLAYED = "replayed"
    # Signed and new, but the replay memory is full: refused, since it could not be refused
    # if it came again.
    FULL = "full"


class RequestGuard:
    def __init__(
        self,
        signing_secret: str,
        clock: Callable[[], float] = time.time,
        *,
        capacity: int = CAPACITY,
    ) -> None:
        self._secret = signing_secret.encode()
        self._clock = clock
        self.memory = ReplayMemory(MAX_AGE_SECONDS, capacity)

    def check(self, body: bytes | str, headers: Mapping[str, str]) -> Verdict:
        timestamp = headers.get("X-Slack-Request-Timestamp") or ""
        signature = headers.get("X-Slack-Signature") or ""
        now = self._clock()
        try:
            signed_at = int(timestamp)
        except ValueError:
            return Verdict.FORGED
        if abs(now - signed_at) > MAX_AGE_SECONDS:
            return Verdict.STALE
        raw = body.encode() if isinstance(body, str) else body
        base = f"v0:{timestamp}:".encode() + raw
        mac = hmac.new(self._secret, base, hashlib.sha256).digest()
        if not hmac.compare_digest(("v0=" + mac.hex()).encode(), signature.encode()):
            return Verdict.FORGED
        if headers.get("X-Slack-Retry-Num") and raw.lstrip().startswith(b"{"):
            return Verdict.OK
        # Keyed by the signed timestamp, not by arrival: it is the timestamp that says how
        # long this signature stays acceptable.
        seen = self.memory.remember(signed_at, int.from_bytes(mac[:8], "big"), now)
        if seen is Remembered.SEEN:
            return Verdict.REPLAYED
        return Verdict.FULL if seen is Remembered.FULL else Verdict.OK


# Objects Bolt indexes into without looking (``body["user"]["id"]``, ``actions[0]``).
_OBJECT_FIELDS = ("user", "team", "channel", "enterprise", "container", "message", "view")


def _is_object(value: Any) -> bool:
    return value is None or isinstance(value, Mapping)


def _has_text(value: Any, key: str, *, required: bool = True) -> bool:
    if not isinstance(value, Mapping):
        return False
    return isinstance(value.get(key), str) if required or key in value else True


def malformed(body: Mapping[str, Any]) -> str | None:
    """Why Bolt could not route this signed payload safely, or None when it can.

    Slack never sends these shapes; Bolt's routing would raise on them (even inside its own
    error handler), so they are turned away before it sees them and answered 200 with a log
    line: a 500 would only make Slack deliver the same garbage again.
    """
    if "command" in body:
        return None if isinstance(body["command"], str) else "command is not text"
    for field in _OBJECT_FIELDS:
        if not _is_object(body.get(field)):
            return f"{field} is not an object"
    if "event" in body and not isinstance(body["event"], Mapping):
        return "event is not an object"
    kind = body.get("type")
    if kind == "block_actions" and "actions" in body:
        actions = body["actions"]
        if not isinstance(actions, list) or not actions:
            return "actions is not a list of actions"
        for action in actions:
            if not (
                _has_text(action, "action_id") and _has_text(action, "block_id", required=False)
            ):
                return "an action has no action_id"
    elif kind in ("view_submission", "view_closed"):
        if not _has_text(body.get("view"), "callback_id"):
            return "the view has no callback_id"
    elif kind in ("shortcut", "message_action"):
        if not isinstance(body.get("callback_id"), str):
            return "callback_id is not text"
    elif kind == "block_suggestion":
        if not (_has_text(body, "action_id") and _has_text(body, "block_id", required=False)):
            return "action_id is not text"
    elif kind == "event_callback" and "event" in body:
        event = body["event"]
        if not _has_text(event, "type"):
            return "the event has no type"
        if not _has_text(event, "subtype", required=False):
            return "the event's subtype is not text"
    return None
