"""Slack request signing (v0 HMAC-SHA256), as Slack does it for every request to an app."""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
MAX_AGE_SECONDS = 60 * 5


def compute_signature(signing_secret: str, timestamp: str | int, body: bytes | str) -> str:
    raw = body.encode() if isinstance(body, str) else body
    base = b"v0:" + str(timestamp).encode() + b":" + raw
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def signed_headers(
    signing_secret: str, body: bytes | str, timestamp: int | None = None
) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: compute_signature(signing_secret, ts, body),
    }


def verify_signature(
    signing_secret: str,
    timestamp: str,
    body: bytes | str,
    signature: str,
    now: float | None = None,
) -> bool:
    """Check a signature the way a receiving app must, including the replay window."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - ts) > MAX_AGE_SECONDS:
        return False
    return hmac.compare_digest(compute_signature(signing_secret, ts, body), signature)
