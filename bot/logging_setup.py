"""Logging that can never print a token or the signing secret."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

# Slack token shapes: bot, user, app-level, refresh and configuration tokens.
_TOKEN = re.compile(r"\b(?:xox[abposre]|xapp)-[A-Za-z0-9-]+")
REDACTED = "[redacted]"


class RedactingFormatter(logging.Formatter):
    """Redacts after formatting, so messages, arguments and tracebacks are all covered."""

    def __init__(self, fmt: str, secrets: Iterable[str]) -> None:
        super().__init__(fmt)
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _TOKEN.sub(REDACTED, text)


def configure_logging(level: str, secrets: Iterable[str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    )
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
