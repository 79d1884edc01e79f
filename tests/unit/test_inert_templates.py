"""Text from titles, updates, resolutions, action items and forms is inert in every template;
only a person's war-room message quoted by the timeline keeps its mentions (issue 17, point 2).
"""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime

import pytest

from bot.config import load_config
from bot.domain.action_items import ActionItem, ActionItemState
from bot.domain.incident import Incident, IncidentStatus, TimelineEntry, TimelineKind
from bot.timeline.export import to_markdown
from message_templates.all_clear import load_resolved, render_all_clear
from message_templates.announcement import load_declared, render_declared
from message_templates.escalation import escalation_direct, escalation_notice
from message_templates.incident_card import channel_topic, incident_card
from message_templates.lifecycle import acknowledged_entry, resolved_entry, update_entry
from message_templates.mrkdwn import escape
from message_templates.replies import open_incidents
from message_templates.reports import action_items_list
from message_templates.status_update import load_update, render_update
from message_templates.timeline import entry_line

HOSTILE = "<!channel> <@U123|bob> <#C123|x> <!subteam^S1> <https://evil|click>"
LIVE = re.compile(r"<!channel>|<@U123\b|<#C123\b|<!subteam\^S1\b|<https://evil")
NOW = datetime(2026, 11, 22, 4, 0, tzinfo=UTC)
CONFIG = load_config()
SEV1 = CONFIG.severities["sev1"]
INCIDENT = Incident(
    id=1,
    public_id="INC-20261122-001",
    title=f"Checkout {HOSTILE}",
    severity="sev1",
    status=IncidentStatus.RESOLVED,
    declared_by="U0DECLARER",
    declared_at=datetime(2026, 11, 22, 3, 0, tzinfo=UTC),
    description=f"Description {HOSTILE}",
    service=f"svc {HOSTILE}",
    channel_id="C0WARROOM1",
    channel_name="inc-20261122-001-checkout",
    summary=f"Summary {HOSTILE}",
    resolution=f"Fixed {HOSTILE}",
    root_cause=f"Cause {HOSTILE}",
    resolved_by="U0DECLARER",
    resolved_at=datetime(2026, 11, 22, 3, 30, tzinfo=UTC),
)


def entry(kind: TimelineKind, text: str, **extra: object) -> TimelineEntry:
    return TimelineEntry(
        id=1, incident_id=1, kind=kind, occurred_at=NOW, actor="U0ACTOR1", text=text, **extra
    )


# The texts Klaxon stores for its own entries, built by the same functions the services use.
KLAXON_ENTRIES = {
    "declared": entry(TimelineKind.DECLARED, f"Declared SEV1: {escape(INCIDENT.title)}"),
    "update": entry(TimelineKind.STATUS_UPDATE, update_entry("U0ACTOR1", 2, HOSTILE)),
    "resolved": entry(TimelineKind.RESOLVED, resolved_entry("U0ACTOR1", HOSTILE)),
    "action item": entry(
        TimelineKind.ACTION_ITEM, f"<@U0ACTOR1> added action item #1: {escape(HOSTILE)}"
    ),
}


@pytest.mark.parametrize("name", KLAXON_ENTRIES)
def test_klaxons_own_timeline_entries_show_user_text_as_words(name: str) -> None:
    line = entry_line(KLAXON_ENTRIES[name])
    assert LIVE.search(line) is None, line
    assert "&lt;@U123|bob&gt;" in line  # the words, escaped once
    assert "&amp;lt;" not in line


def test_klaxons_own_mentions_in_its_entries_stay_live() -> None:
    line = entry_line(entry(TimelineKind.ACKNOWLEDGED, acknowledged_entry("U0RESPONDER")))
    assert "Acknowledged by <@U0RESPONDER>" in line


def test_a_quoted_war_room_message_keeps_the_mentions_its_author_typed() -> None:
    message = entry(TimelineKind.MESSAGE, f"paging <@U0SAM1|sam> {HOSTILE}", author="U0SAM2")
    line = entry_line(message)
    assert "paging <@U0SAM1>" in line  # typed by a person in the war room: live
    assert "<!channel>" not in line
    assert "<https://evil" not in line


def test_a_topic_set_in_the_war_room_is_not_a_quoted_message() -> None:
    line = entry_line(entry(TimelineKind.CHANNEL, f"set the topic: {HOSTILE}"))
    assert LIVE.search(line) is None, line


def test_a_long_klaxon_entry_is_cut_without_splitting_a_mention_or_an_entity() -> None:
    from message_templates.timeline import klaxon_text  # new in this change

    text = klaxon_text("<@U0ACTOR1> " * 100 + "&lt;" * 200, limit=120)
    assert text.endswith("…")
    assert re.search(r"<(?![@]U0ACTOR1>)|&(?!lt;|amp;|gt;)", text) is None, text
    assert len(re.sub(r"<@U0ACTOR1>", "@", text)) <= 120


def slack_renders() -> dict[str, str]:
    item = ActionItem(
        id=1,
        incident_id=1,
        text=f"Fix {HOSTILE}",
        owner="U0OWNER1",
        due=date(2026, 12, 1),
        state=ActionItemState.OPEN,
        created_by="U0DECLARER",
        created_at=NOW,
    )
    open_incident = dataclasses.replace(INCIDENT, status=IncidentStatus.INVESTIGATING)
    update = render_update(
        load_update(None),
        open_incident,
        SEV1,
        {"summary": HOSTILE, "impact": HOSTILE, "next_steps": HOSTILE},
        posted_by="U0ACTOR1",
        now=NOW,
    )
    return {
        "card": str(incident_card(INCIDENT, CONFIG.severities).blocks),
        "topic": channel_topic(open_incident, SEV1),
        "announcement": str(render_declared(load_declared(None), open_incident, SEV1)),
        "all-clear": str(render_all_clear(load_resolved(None), INCIDENT, SEV1)),
        "update": str(update),
        "escalation": str(
            escalation_notice(open_incident, SEV1, "oncall", ["S0SRE1"], step=0, now=NOW)
        ),
        "escalation DM": escalation_direct(open_incident, SEV1, "oncall"),
        "list": str(open_incidents([open_incident], 1, CONFIG.severities, NOW)),
        "action items": str(action_items_list(INCIDENT, [item])),
    }


@pytest.mark.parametrize("surface", list(slack_renders()))
def test_every_slack_surface_shows_hostile_text_as_words(surface: str) -> None:
    shown = slack_renders()[surface]
    assert "U123|bob" in shown  # the text is there...
    assert LIVE.search(shown) is None, shown  # ...and pings, links and broadcasts nobody


def test_the_markdown_export_has_no_autolinks_or_raw_html() -> None:
    entries = [
        *KLAXON_ENTRIES.values(),
        entry(TimelineKind.MESSAGE, f"typed {HOSTILE}", author="U0SAM2"),
    ]
    markdown = to_markdown(INCIDENT, entries)
    assert "Checkout" in markdown
    assert "typed" in markdown
    assert re.search(r"<https?:|<!|<@|<#", markdown) is None, markdown
