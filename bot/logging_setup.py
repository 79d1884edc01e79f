"""Logging that can never print a token or the signing secret.

Two formats (``KLAXON_LOG_FORMAT``): ``text``, one line per record, and ``json``, one JSON
object per line for log pipelines. Both carry the request id and the incident id when a line
is written while handling a Slack request (:mod:`bot.log_context`), and both are redacted.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from bot import log_context

# Slack token shapes: bot, user, app-level, refresh and configuration tokens.
_TOKEN = re.compile(r"\b(?:xox[abposre]|xapp)-[A-Za-z0-9-]+")
REDACTED = "[redacted]"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_FORMATS = ("text", "json")


class ContextFilter(logging.Filter):
    """Stamps each record with the request and incident it was written for (or None)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = log_context.request_id()
        if not hasattr(record, "incident"):
            record.incident = log_context.incident()
        return True


def _context_of(record: logging.LogRecord) -> dict[str, str]:
    context = {
        "request_id": getattr(record, "request_id", None),
        "incident": getattr(record, "incident", None),
    }
    return {key: value for key, value in context.items() if value}


class RedactingFormatter(logging.Formatter):
    """Redacts after formatting, so messages, arguments and tracebacks are all covered."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = _context_of(record)
        if context:
            line, newline, rest = text.partition("\n")
            tags = " ".join(f"{key}={value}" for key, value in context.items())
            text = f"{line} [{tags}]{newline}{rest}"
        return self.redact(text)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _TOKEN.sub(REDACTED, text)


class JsonFormatter(RedactingFormatter):
    """One JSON object per record. Each value is redacted before encoding, so a secret is
    caught even where JSON would have escaped some of its characters."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__("%(message)s", secrets)

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_context_of(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        redacted = {k: self.redact(v) if isinstance(v, str) else v for k, v in entry.items()}
        return json.dumps(redacted, ensure_ascii=False)


def log_handler(
    secrets: Iterable[str], log_format: str = "text", stream: TextIO | None = None
) -> logging.Handler:
    """The handler Klaxon logs through: context-stamped, redacted, in ``log_format``."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    formatter = JsonFormatter(secrets) if log_format == "json" else None
    handler.setFormatter(formatter or RedactingFormatter(TEXT_FORMAT, secrets))
    return handler


def configure_logging(level: str, secrets: Iterable[str], log_format: str = "text") -> None:
    handler = log_handler(secrets, log_format)
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # aiohttp logs every request at INFO; Slack's retries would flood the log.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_drop_token_skipped_warning)


def _drop_token_skipped_warning(record: logging.LogRecord) -> bool:
    # Bolt reads SLACK_BOT_TOKEN itself and warns that our client and authorize win over it,
    # which is the intent: the gateway's client carries the retry handlers and SLACK_API_URL.
    message = record.getMessage()
    return not ("`token`" in message and ("unused" in message or "ignored" in message))
