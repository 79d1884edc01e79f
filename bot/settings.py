"""The environment contract (ARCHITECTURE.md): secrets and endpoints, via pydantic-settings."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///klaxon.db"

_HINTS = {
    "slack_bot_token": (
        "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-...) from your Slack "
        "app's 'OAuth & Permissions' page, or try Klaxon without Slack: python -m bot sandbox"
    ),
    "slack_signing_secret": (
        "SLACK_SIGNING_SECRET is not set: copy the Signing Secret from your Slack app's "
        "'Basic Information' page (or set SLACK_APP_TOKEN to use Socket Mode)"
    ),
}


def normalize_database_url(url: str) -> str:
    """Accept the URLs operators paste (``postgres://``, ``sqlite:///``) and pick async drivers.

    Hosted PostgreSQL URLs carry libpq's ``sslmode``; asyncpg calls the same setting ``ssl``.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+asyncpg://" + url.removeprefix(prefix)
    if url.startswith("sqlite:///"):
        url = "sqlite+aiosqlite:///" + url.removeprefix("sqlite:///")
    if url.startswith("postgresql+asyncpg://") and "sslmode=" in url:
        url = re.sub(r"([?&])sslmode=", r"\1ssl=", url)
    return url


def check_database_url(url: str) -> str:
    url = normalize_database_url(url)
    if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        raise ValueError(
            "DATABASE_URL must be sqlite+aiosqlite:///path.db or postgresql+asyncpg://..."
        )
    if url.startswith("postgresql") and importlib.util.find_spec("asyncpg") is None:
        raise ValueError(
            "DATABASE_URL points at PostgreSQL, but its driver is not installed: "
            "pip install -e '.[postgres]'"
        )
    return url


# Anyone who can reach the port can guess at the alerts token; too short a token is no lock.
MIN_ALERTS_TOKEN = 16


class Settings(BaseSettings):
    """Read from the environment (and a ``.env`` file in the working directory, if present)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    slack_bot_token: SecretStr
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"
    # Seconds a Web API call may take before it counts as failed (a post is then looked for
    # in the channel before it is retried, so a slow answer never posts twice).
    slack_api_timeout: int = Field(default=10, ge=1, le=120)
    database_url: str = DEFAULT_DATABASE_URL
    port: int = Field(default=3000, ge=1, le=65535)
    klaxon_host: str = "0.0.0.0"  # noqa: S104 - a server listens on all interfaces by default
    klaxon_config: Path | None = None
    # Bearer token Alertmanager and Grafana send to /alerts/*; unset, those endpoints are off.
    klaxon_alerts_token: SecretStr | None = None
    klaxon_log_level: str = "INFO"
    # "text" (one line per record) or "json" (one object per line, for log pipelines).
    klaxon_log_format: str = "text"
    # The public status page on a port of its own; unset: on PORT beside Slack's endpoint.
    status_port: int | None = Field(default=None, ge=1, le=65535)
    # Mirror public posts to Atlassian Statuspage when both are set.
    statuspage_api_key: SecretStr | None = None
    statuspage_page_id: str | None = None
    statuspage_api_url: str = "https://api.statuspage.io/v1/"
    # Turns on GET /oncall/NAME.ics?token=... (docs/oncall.md); unset, the feeds are off (404).
    klaxon_calendar_token: SecretStr | None = None

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token_shape(cls, token: SecretStr) -> SecretStr:
        if not token.get_secret_value().startswith("xoxb-"):
            raise ValueError("SLACK_BOT_TOKEN must be a bot token starting with xoxb-")
        return token

    @field_validator("slack_app_token")
    @classmethod
    def _app_token_shape(cls, token: SecretStr | None) -> SecretStr | None:
        if token is not None and not token.get_secret_value():
            return None
        if token is not None and not token.get_secret_value().startswith("xapp-"):
            raise ValueError("SLACK_APP_TOKEN must be an app-level token starting with xapp-")
        return token

    @field_validator("klaxon_calendar_token")
    @classmethod
    def _calendar_token_shape(cls, token: SecretStr | None) -> SecretStr | None:
        if token is None or not token.get_secret_value().strip():
            return None
        if len(token.get_secret_value()) < 16:
            # It is the only guard on a URL that is pasted into calendar apps.
            raise ValueError(
                "KLAXON_CALENDAR_TOKEN must be at least 16 characters: "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(24))'"
            )
        return token

    @field_validator("slack_api_url")
    @classmethod
    def _api_url_shape(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("SLACK_API_URL must be an http(s) URL such as https://slack.com/api/")
        return url if url.endswith("/") else url + "/"

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        return check_database_url(url)

    @field_validator("klaxon_config", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("klaxon_alerts_token")
    @classmethod
    def _alerts_token_strength(cls, token: SecretStr | None) -> SecretStr | None:
        if token is None or not token.get_secret_value().strip():
            return None
        if len(token.get_secret_value()) < MIN_ALERTS_TOKEN:
            raise ValueError(
                f"KLAXON_ALERTS_TOKEN must be at least {MIN_ALERTS_TOKEN} characters; "
                "generate one with: openssl rand -hex 32"
            )
        return token

    @field_validator("klaxon_log_level")
    @classmethod
    def _known_level(cls, level: str) -> str:
        level = level.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("KLAXON_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("klaxon_log_format")
    @classmethod
    def _known_format(cls, log_format: str) -> str:
        log_format = log_format.strip().lower()
        if log_format not in {"text", "json"}:
            raise ValueError("KLAXON_LOG_FORMAT must be text or json")
        return log_format

    @field_validator("status_port", "statuspage_page_id", "statuspage_api_key", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("statuspage_api_url")
    @classmethod
    def _statuspage_url_shape(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError("STATUSPAGE_API_URL must be an http(s) URL")
        return url

    @model_validator(mode="after")
    def _statuspage_needs_both(self) -> Settings:
        if (self.statuspage_api_key is None) != (self.statuspage_page_id is None):
            raise ValueError(
                "STATUSPAGE_API_KEY and STATUSPAGE_PAGE_ID go together: set both to mirror "
                "the status page to Atlassian Statuspage, or neither"
            )
        if self.status_port is not None and self.status_port == self.port:
            raise ValueError("STATUS_PORT must differ from PORT; unset it to share PORT")
        return self

    @model_validator(mode="after")
    def _http_mode_needs_secret(self) -> Settings:
        if self.socket_mode:
            return self
        secret = self.slack_signing_secret
        if secret is None or not secret.get_secret_value():
            raise ValueError(_HINTS["slack_signing_secret"])
        return self

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    if first["type"] == "missing" and field in _HINTS:
        return _HINTS[field]
    message = first["msg"].removeprefix("Value error, ")
    if field and field.upper() not in message:
        return f"{field.upper()}: {message}"
    return message


class DatabaseSettings(BaseSettings):
    """Just the database, for ``python -m bot migrate``, which needs no Slack credentials."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = DEFAULT_DATABASE_URL
    # Optional: ``python -m bot report`` names severities by their configured labels.
    klaxon_config: Path | None = None

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        return check_database_url(url)

    @field_validator("klaxon_config", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value


def load_database_settings(**overrides: Any) -> DatabaseSettings:
    try:
        return DatabaseSettings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; raises :class:`ConfigError` with one line naming the fix."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
