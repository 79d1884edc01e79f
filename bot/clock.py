"""One source of "now", always timezone-aware UTC, so stored times never mix zones."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
