import asyncio
import logging

import pytest

from bot.logging_setup import REDACTED, RedactingFormatter
from bot.tasks import BackgroundTasks


def format_record(formatter: RedactingFormatter, message: str, *args: object) -> str:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, args, None)
    return formatter.format(record)


def test_tokens_and_secrets_are_redacted_in_messages_and_arguments() -> None:
    formatter = RedactingFormatter("%(message)s", ["s3cr3t-signing-value"])
    line = format_record(
        formatter,
        "token %s app %s user xoxp-1-2 secret %s",
        "xoxb-123-456-abcdef",
        "xapp-1-A1-xyz",
        "s3cr3t-signing-value",
    )
    assert line == f"token {REDACTED} app {REDACTED} user {REDACTED} secret {REDACTED}"


def test_tracebacks_are_redacted_too() -> None:
    formatter = RedactingFormatter("%(message)s", [])
    try:
        raise RuntimeError("bad token xoxb-999-888")
    except RuntimeError:
        record = logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), None)
        import sys

        record.exc_info = sys.exc_info()
    assert "xoxb-999-888" not in formatter.format(record)


async def test_failed_task_is_logged_with_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    tasks = BackgroundTasks()

    async def broken() -> None:
        raise KeyError("channel")

    tasks.spawn(broken(), name="open war room INC-1")
    assert await tasks.wait_idle(1)
    [record] = [r for r in caplog.records if "INC-1" in r.getMessage()]
    assert record.exc_info is not None
    assert record.exc_info[2] is not None  # the traceback, so the line can be found


async def test_drain_waits_for_finishing_work_and_cancels_overruns() -> None:
    tasks = BackgroundTasks()
    finished: list[str] = []

    async def quick() -> None:
        await asyncio.sleep(0.05)
        finished.append("quick")

    async def stuck() -> None:
        await asyncio.sleep(30)
        finished.append("stuck")

    tasks.spawn(quick(), name="quick")
    stuck_task = tasks.spawn(stuck(), name="stuck")
    cancelled = await tasks.drain(0.3)
    assert finished == ["quick"]
    assert cancelled == 1
    assert stuck_task.cancelled()
    assert len(tasks) == 0
