"""Reading ``/incident action`` and ``/incident stats``, and the numbers stats computes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.action_items import ActionItemDraft, parse_action
from bot.domain.incident import Incident, IncidentStatus
from bot.domain.stats import compute_stats, parse_period, percentile
from bot.errors import InvalidInput

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def test_action_text_owner_and_due_date_in_either_order() -> None:
    assert parse_action("Renew certs <@U0SRE00001|sam> due 2026-12-01") == ActionItemDraft(
        "Renew certs", "U0SRE00001", date(2026, 12, 1)
    )
    assert parse_action("Renew certs due 2026-12-01 <@U0SRE00001>") == ActionItemDraft(
        "Renew certs", "U0SRE00001", date(2026, 12, 1)
    )
    assert parse_action("  Add an alert  ") == ActionItemDraft("Add an alert")
    assert parse_action("Talk to <@U0SRE00002> about it") == ActionItemDraft(
        "Talk to <@U0SRE00002> about it"
    )


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ("", "What needs doing"),
        ("<@U0SRE00001> due 2026-12-01", "What needs doing"),
        ("Renew certs @sam", "not a Slack user"),
        ("Renew certs <@nobody>", "not a Slack user"),
        ("Renew certs due 2026-02-30", "not a real date"),
        ("Renew certs due tomorrow", "not a date"),
        ("Renew certs due 01/12/2026", "not a date"),
        ("Renew certs due", "A due date follows"),
        ("x" * 1001, "keep it under"),
    ],
)
def test_bad_action_input_is_refused_with_a_reason(arguments: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        parse_action(arguments)


def test_periods() -> None:
    assert parse_period("") == timedelta(days=30)
    assert parse_period("7d") == timedelta(days=7)
    assert parse_period("12H") == timedelta(hours=12)
    assert parse_period("2w") == timedelta(weeks=2)
    assert parse_period("365d") == timedelta(days=365)
    for bad, says in (("999y", "not a period"), ("abc", "not a period"), ("366d", "365d")):
        with pytest.raises(InvalidInput, match=says):
            parse_period(bad)
    with pytest.raises(InvalidInput, match="longer than zero"):
        parse_period("0d")


def test_p90_is_an_observed_value_by_nearest_rank() -> None:
    minutes = [timedelta(minutes=n) for n in range(1, 11)]
    assert percentile(minutes, 0.9) == timedelta(minutes=9)
    assert percentile(minutes[:1], 0.9) == timedelta(minutes=1)
    assert percentile([], 0.9) is None


def _incident(n: int, severity: str, ack: int | None, resolve: int | None) -> Incident:
    declared = NOW - timedelta(days=1)
    return Incident(
        id=n,
        public_id=f"INC-20261121-{n:03d}",
        title="t",
        severity=severity,
        status=IncidentStatus.RESOLVED if resolve is not None else IncidentStatus.INVESTIGATING,
        declared_by="U0DECLARER",
        declared_at=declared,
        acknowledged_at=declared + timedelta(minutes=ack) if ack is not None else None,
        resolved_at=declared + timedelta(minutes=resolve) if resolve is not None else None,
    )


def test_stats_per_severity_median_and_p90() -> None:
    incidents = [
        _incident(1, "sev1", 2, 30),
        _incident(2, "sev1", 4, 60),
        _incident(3, "sev1", 9, None),
        _incident(4, "sev3", None, None),
    ]
    stats = compute_stats(
        incidents,
        ["sev1", "sev2", "sev3"],
        since=NOW - timedelta(days=30),
        until=NOW,
        open_now={"sev1": 1, "sev3": 1, "sev9": 2},
    )
    sev1, sev2, sev3, sev9 = stats.by_severity
    assert (sev1.declared, sev1.acknowledged, sev1.resolved, sev1.still_open) == (3, 3, 2, 1)
    assert (sev1.mtta_median, sev1.mtta_p90) == (timedelta(minutes=4), timedelta(minutes=9))
    assert (sev1.mttr_median, sev1.mttr_p90) == (timedelta(minutes=45), timedelta(minutes=60))
    assert (sev2.declared, sev2.mtta_median) == (0, None)
    assert (sev3.declared, sev3.acknowledged, sev3.mtta_p90) == (1, 0, None)
    assert (sev9.severity, sev9.still_open) == ("sev9", 2)
    assert (stats.declared, stats.still_open) == (4, 4)
