"""The handoff checklist and ``/incident oncall`` replies: escaped, bounded, complete."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from bot.domain.incident import Incident, IncidentRole, IncidentStatus
from bot.oncall.checklist import Checklist, OwnedItem
from bot.oncall.rotation import Shift
from bot.oncall.service import OnCallNow
from message_templates.oncall import MAX_LISTED, handoff_checklist, on_call_now

LONDON = ZoneInfo("Europe/London")
AT = datetime(2026, 12, 7, 9, tzinfo=UTC)


def incident(number: int, status: IncidentStatus, title: str = "Checkout down") -> Incident:
    return Incident(
        id=number,
        public_id=f"INC-20261207-{number:03d}",
        title=title,
        severity="sev1",
        status=status,
        declared_by="U0DANA",
        declared_at=AT,
        channel_id=f"C0ROOM{number:03d}",
        roles={IncidentRole.COMMANDER: "U0IC"},
    )


def checklist(incidents: list[Incident], items: list[OwnedItem]) -> str:
    return handoff_checklist(
        Checklist("primary", "U0OUT", "U0IN", AT, LONDON, incidents, items, {"sev1": "SEV1"})
    ).text


def test_the_checklist_lists_each_part_and_escapes_titles() -> None:
    text = checklist(
        [
            incident(1, IncidentStatus.IDENTIFIED, "DB <!here> & co"),
            incident(2, IncidentStatus.MONITORING),
        ],
        [OwnedItem("Rotate <@U0X> keys", date(2026, 12, 9), "INC-20261201-004")],
    )
    assert "<@U0OUT> hands over to <@U0IN>" in text
    active, rest = text.split("*Known issues being monitored*")
    assert (
        "*INC-20261207-001* SEV1 · identified · <@U0IC> <#C0ROOM001> — DB &lt;!here&gt; &amp; co"
        in active
    )
    assert "INC-20261207-002" in rest.split("*Upcoming maintenance*")[0]
    assert "INC-20261207-002" not in active
    assert "Rotate &lt;@U0X&gt; keys (INC-20261201-004, due 2026-12-09)" in text
    assert "<!here>" not in text
    assert "*Updated contacts*" in text


def test_a_bad_day_is_listed_up_to_a_limit() -> None:
    many = [incident(n, IncidentStatus.INVESTIGATING) for n in range(1, 41)]
    text = checklist(many, [])
    assert text.count("· investigating ·") == MAX_LISTED
    assert f"… and {40 - MAX_LISTED} more" in text
    assert "*<@U0IN>'s open action items*\n• None." in text


def test_oncall_reply_without_a_next_person() -> None:
    solo = OnCallNow("solo", Shift("solo", "U0SOLO", AT, None), None)
    text = on_call_now([solo], {"solo": LONDON}).text
    assert text == "*solo*\nnow: <@U0SOLO> (no handoff in sight)"
    assert "No on-call rotations" in on_call_now([], {}).text
