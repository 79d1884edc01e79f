from __future__ import annotations

import time

from slack_sdk.signature import SignatureVerifier

from slack_emulator import compute_signature, signed_headers, verify_signature

VECTOR_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
VECTOR_TIMESTAMP = "1531420618"
VECTOR_BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    "&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    "&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    "%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
VECTOR_SIGNATURE = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


def test_reproduces_the_contract_test_vector() -> None:
    assert compute_signature(VECTOR_SECRET, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE
    assert compute_signature(VECTOR_SECRET, 1531420618, VECTOR_BODY.encode()) == VECTOR_SIGNATURE


def test_signed_headers_verify_with_slack_sdk() -> None:
    body = '{"type":"event_callback"}'
    headers = signed_headers("s3cret", body)
    verifier = SignatureVerifier("s3cret")
    assert verifier.is_valid_request(body, headers)
    assert not SignatureVerifier("other").is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + " ", headers)


def test_verify_rejects_replays_and_tampering() -> None:
    now = int(time.time())
    sig = compute_signature("s", now, b"a=1")
    assert verify_signature("s", str(now), b"a=1", sig)
    assert not verify_signature("s", str(now), b"a=2", sig)
    old = now - 301
    assert not verify_signature("s", str(old), b"a=1", compute_signature("s", old, b"a=1"))
    assert not verify_signature("s", "not-a-number", b"a=1", sig)
