"""Klaxon's error tree. Everything Klaxon raises on purpose derives from :class:`KlaxonError`.

KlaxonError
├── ConfigError            invalid environment or settings file; stops the bot at startup
├── UserFacingError        a request that cannot be honoured; its message is shown to the user
│   ├── InvalidInput       the command, button or form was malformed (what to type instead)
│   ├── NotFound           the incident or user named does not exist
│   └── PermissionDenied   the user may not do this (and the message says who may)
└── SlackUnavailable       Slack's Web API failed after retries (mapped in the Slack gateway)
"""

from __future__ import annotations


class KlaxonError(Exception):
    """Base of every error Klaxon raises deliberately."""


class ConfigError(KlaxonError):
    """Configuration that cannot work. The message is one line naming what to fix."""


class UserFacingError(KlaxonError):
    """A refusal whose message is safe and useful to show to the Slack user who asked.

    The message is plain text and is escaped when shown. ``mrkdwn``, when given, is the same
    message already formatted for Slack (with mentions built by Klaxon, never user text).
    """

    def __init__(self, message: str, *, mrkdwn: str | None = None) -> None:
        super().__init__(message)
        self.mrkdwn = mrkdwn


class InvalidInput(UserFacingError):
    """The user's input was wrong, missing or too long."""


class NotFound(UserFacingError):
    """What the user referred to does not exist."""


class PermissionDenied(UserFacingError):
    """The user may not perform this action."""


class SlackUnavailable(KlaxonError):
    """A Slack Web API call failed for good; ``error`` is Slack's error code when it gave one."""

    def __init__(
        self,
        method: str,
        error: str,
        *,
        retryable: bool = False,
        details: dict[str, object] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"Slack {method} failed: {error}")
        self.method = method
        self.error = error
        self.retryable = retryable
        # Seconds Slack asked to wait (``Retry-After``) when it answered 429.
        self.retry_after = retry_after
        # Slack's whole answer, e.g. conversations.invite's per-user ``errors`` list.
        self.details = details or {}
