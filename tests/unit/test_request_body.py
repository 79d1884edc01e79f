"""Klaxon parses Slack's request bodies itself (bot.request_body), faster than Bolt: it must
make of every body exactly what Bolt's own parser makes of it."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st
from slack_bolt.request.internals import parse_body

from bot.request_body import parse_slack_body

FORM = "application/x-www-form-urlencoded"

# Characters that matter to form decoding, and some that need several UTF-8 bytes.
_form_text = st.lists(
    st.sampled_from([*"%+&=;a0fFzZ ~é☕🔥\x00", "%2", "%C3", "%E2%98"]), max_size=12
).map("".join)

SLASH_COMMAND = urlencode(
    {
        "command": "/incident",
        "text": "declare sev1 <!channel> 100% down & out; a+b=c",
        "user_id": "U0RESPOND1",
        "response_url": "https://hooks.slack.com/commands/T0/1/abc",
        "trigger_id": "13345224609.738474920.8088930838d88f008e0",
    }
)
BUTTON_PRESS = urlencode(
    {
        "payload": json.dumps(
            {
                "type": "block_actions",
                "user": {"id": "U0RESPOND1"},
                "actions": [{"action_id": "incident_card", "value": "INC-20261122-001 ack"}],
                "message": {"text": 'Database down ☕ "quoted" 50%+', "blocks": []},
            }
        )
    }
)


@pytest.mark.parametrize(
    ("text", "content_type"),
    [
        (SLASH_COMMAND, FORM),
        (BUTTON_PRESS, FORM),
        ('{"type": "event_callback", "event": {"type": "message"}}', "application/json"),
        ('{"type": "url_verification"}', None),
        ("", FORM),
        ("token=x&payload_like=1", FORM),
        ("a=1&a=2&b=&=c&&d", FORM),
        ("bad=%zz%2&plus=a+b%2Bc&utf8=%E2%98%95&broken=%ff", FORM),
    ],
)
def test_bodies_slack_sends_parse_as_bolt_parses_them(text: str, content_type: str | None) -> None:
    assert parse_slack_body(text, content_type) == parse_body(text, content_type)


@given(fields=st.lists(st.tuples(_form_text, _form_text), max_size=6))
def test_any_form_parses_as_bolt_parses_it(fields: list[tuple[str, str]]) -> None:
    text = "&".join(f"{name}={value}" for name, value in fields)
    assert parse_slack_body(text, FORM) == parse_body(text, FORM)


@given(value=_form_text)
def test_any_payload_field_parses_as_bolt_parses_it(value: str) -> None:
    text = urlencode({"payload": json.dumps({"text": value}), "other": value})
    assert parse_slack_body(text, FORM) == parse_body(text, FORM)


@pytest.mark.parametrize(
    ("text", "content_type"),
    [
        ("payload=%7Bnot+json", FORM),
        ("payload=%5B1%2C2%5D", FORM),
        ("[1, 2]", "application/json"),
    ],
)
def test_a_payload_that_is_not_a_json_object_is_refused(text: str, content_type: str) -> None:
    with pytest.raises(ValueError, match=r"Expecting|not an object"):
        parse_slack_body(text, content_type)
