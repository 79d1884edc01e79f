import pytest

from bot.errors import ConfigError
from bot.settings import load_settings


def settings(**values: object):  # type: ignore[no-untyped-def]
    return load_settings(_env_file=None, **values)


def test_missing_bot_token_says_where_to_find_it() -> None:
    with pytest.raises(ConfigError, match=r"SLACK_BOT_TOKEN is not set.*OAuth & Permissions"):
        settings()


def test_http_mode_needs_the_signing_secret() -> None:
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is not set"):
        settings(slack_bot_token="xoxb-1")


def test_socket_mode_needs_no_signing_secret() -> None:
    result = settings(slack_bot_token="xoxb-1", slack_app_token="xapp-1")
    assert result.socket_mode


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"slack_bot_token": "xoxp-user"}, "must be a bot token starting with xoxb-"),
        ({"slack_app_token": "xoxb-2"}, "SLACK_APP_TOKEN must be an app-level token"),
        ({"port": "http"}, "PORT"),
        ({"port": 70000}, "PORT"),
        ({"database_url": "mysql://x"}, "DATABASE_URL must be"),
        ({"slack_api_url": "slack.com"}, "SLACK_API_URL must be an http(s) URL"),
    ],
)
def test_invalid_values_are_named(values: dict[str, object], message: str) -> None:
    base: dict[str, object] = {"slack_bot_token": "xoxb-1", "slack_signing_secret": "s"}
    with pytest.raises(ConfigError) as caught:
        settings(**{**base, **values})
    assert message in str(caught.value)


def test_environment_contract_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-env")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9999/api")
    monkeypatch.setenv("DATABASE_URL", "postgres://klaxon@db/klaxon")
    monkeypatch.setenv("PORT", "8080")
    result = settings()
    assert result.slack_bot_token.get_secret_value() == "xoxb-env"
    assert result.slack_api_url == "http://127.0.0.1:9999/api/"
    assert result.database_url == "postgresql+asyncpg://klaxon@db/klaxon"
    assert result.port == 8080
    assert "xoxb-env" not in repr(result)
    assert result.database_url.startswith("postgresql+asyncpg")


def test_defaults() -> None:
    result = settings(slack_bot_token="xoxb-1", slack_signing_secret="s")
    assert result.slack_api_url == "https://slack.com/api/"
    assert result.database_url == "sqlite+aiosqlite:///klaxon.db"
    assert result.port == 3000
    assert result.klaxon_config is None
