"""The request guard's rules, the log formats and the metrics module, without a bot."""

from __future__ import annotations

import json
import logging
import sys

import pytest

from bot import log_context
from bot.errors import ConfigError
from bot.logging_setup import REDACTED, ContextFilter, JsonFormatter, RedactingFormatter
from bot.request_guard import RequestGuard, Verdict, malformed
from bot.settings import load_settings
from slack_emulator.signing import signed_headers

SECRET = "guard-test-secret"
NOW = 1_800_000_000


class Clock:
    def __init__(self) -> None:
        self.now = float(NOW)

    def __call__(self) -> float:
        return self.now


def test_a_signature_is_accepted_once_then_refused_as_a_replay() -> None:
    clock = Clock()
    guard = RequestGuard(SECRET, clock)
    headers = signed_headers(SECRET, "text=help", NOW)
    assert guard.check("text=help", headers) is Verdict.OK
    assert guard.check("text=help", headers) is Verdict.REPLAYED
    assert guard.check("text=help", signed_headers(SECRET, "text=help", NOW + 1)) is Verdict.OK


def test_forged_and_stale_requests_are_told_apart() -> None:
    clock = Clock()
    guard = RequestGuard(SECRET, clock)
    assert guard.check("a", signed_headers("other", "a", NOW)) is Verdict.FORGED
    assert guard.check("a", {}) is Verdict.FORGED
    assert guard.check("a", {"X-Slack-Request-Timestamp": "x"}) is Verdict.FORGED
    assert guard.check("a", signed_headers(SECRET, "a", NOW - 301)) is Verdict.STALE
    assert guard.check("a", signed_headers(SECRET, "a", NOW + 301)) is Verdict.STALE


def test_event_redeliveries_are_not_replays() -> None:
    guard = RequestGuard(SECRET, Clock())
    body = '{"type": "event_callback"}'
    headers = signed_headers(SECRET, body, NOW)
    assert guard.check(body, headers) is Verdict.OK
    assert guard.check(body, {**headers, "X-Slack-Retry-Num": "1"}) is Verdict.OK
    # Only events are redelivered by Slack: a command claiming to be a retry is still a replay.
    form_headers = signed_headers(SECRET, "command=/incident", NOW)
    assert guard.check("command=/incident", form_headers) is Verdict.OK
    retry = {**form_headers, "X-Slack-Retry-Num": "1"}
    assert guard.check("command=/incident", retry) is Verdict.REPLAYED


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"type": "block_actions", "actions": []}, "actions"),
        ({"type": "block_actions", "actions": [{"action_id": 5}]}, "action_id"),
        ({"type": "block_actions", "actions": ["x"]}, "action_id"),
        ({"type": "block_actions", "user": "U1", "actions": [{"action_id": "a"}]}, "user"),
        ({"type": "view_submission", "view": {"callback_id": None}}, "callback_id"),
        ({"type": "event_callback", "event": None}, "event"),
        ({"type": "event_callback", "event": {"type": ["message"]}}, "type"),
        ({"type": "shortcut", "callback_id": {}}, "callback_id"),
        ({"command": ["/incident"]}, "command"),
    ],
)
def test_payloads_bolt_cannot_route_are_named(body: dict[str, object], problem: str) -> None:
    reason = malformed(body)
    assert reason is not None
    assert problem in reason


def test_well_formed_payloads_pass() -> None:
    assert malformed({"command": "/incident", "text": ""}) is None
    assert malformed({"type": "block_actions", "actions": [{"action_id": "a"}]}) is None
    assert malformed({"type": "event_callback", "event": {"type": "message"}}) is None


def record(message: str, *args: object) -> logging.LogRecord:
    made = logging.LogRecord("bot.x", logging.WARNING, __file__, 1, message, args, None)
    ContextFilter().filter(made)
    return made


def test_json_lines_carry_the_request_and_incident_and_are_redacted() -> None:
    formatter = JsonFormatter(['s3cr"et\\value'])
    with log_context.request_scope() as request_id:
        log_context.bind_incident("INC-20260101-001")
        line = formatter.format(record("token %s secret %s", "xoxb-1-2-abc", 's3cr"et\\value'))
    entry = json.loads(line)
    assert entry["request_id"] == request_id
    assert entry["incident"] == "INC-20260101-001"
    assert entry["message"] == f"token {REDACTED} secret {REDACTED}"
    assert entry["level"] == "WARNING"


def test_json_exceptions_are_redacted_too() -> None:
    try:
        raise RuntimeError("bad token xoxb-999-888")
    except RuntimeError:
        failing = record("failed")
        failing.exc_info = sys.exc_info()
    line = JsonFormatter([]).format(failing)
    assert "xoxb-999-888" not in line
    assert "RuntimeError" in json.loads(line)["exception"]


def test_text_lines_name_the_request_and_nothing_outside_one() -> None:
    formatter = RedactingFormatter("%(message)s", [])
    assert formatter.format(record("idle")) == "idle"
    with log_context.request_scope() as request_id:
        assert formatter.format(record("busy")) == f"busy [request_id={request_id}]"
    assert log_context.request_id() is None


def test_log_format_setting_is_checked() -> None:
    base = {"slack_bot_token": "xoxb-1", "slack_signing_secret": "s" * 10, "_env_file": None}
    assert load_settings(**base, klaxon_log_format="JSON").klaxon_log_format == "json"
    assert load_settings(**base).klaxon_log_format == "text"
    with pytest.raises(ConfigError, match="KLAXON_LOG_FORMAT"):
        load_settings(**base, klaxon_log_format="xml")
