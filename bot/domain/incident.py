"""What an incident is, independent of Slack and of the database."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.domain.timeline import FileRef, Version


class IncidentStatus(enum.StrEnum):
    """The runbook lifecycle: investigating -> identified -> monitoring -> resolved -> closed."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self not in {IncidentStatus.RESOLVED, IncidentStatus.CLOSED}


class IncidentRole(enum.StrEnum):
    COMMANDER = "commander"
    TECHNICAL_LEAD = "technical_lead"
    COMMUNICATIONS_LEAD = "communications_lead"
    SUBJECT_MATTER_EXPERT = "subject_matter_expert"


class TimelineKind(enum.StrEnum):
    """What a timeline entry records. System entries are Klaxon's own actions."""

    DECLARED = "declared"
    WAR_ROOM_OPENED = "war_room_opened"
    WAR_ROOM_FAILED = "war_room_failed"
    WAR_ROOM_RETRIED = "war_room_retried"
    RESPONDERS_INVITED = "responders_invited"
    CARD_POSTED = "card_posted"
    ANNOUNCED = "announced"
    PROBLEM = "problem"
    ACKNOWLEDGED = "acknowledged"
    SEVERITY_CHANGED = "severity_changed"
    STATUS_CHANGED = "status_changed"
    ROLE_ASSIGNED = "role_assigned"
    STATUS_UPDATE = "status_update"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    CLOSED = "closed"
    HANDOFF = "handoff"
    ROLE_UNASSIGNED = "role_unassigned"
    MESSAGE = "message"
    REACTION = "reaction"
    PIN = "pin"
    MEMBER = "member"
    CHANNEL = "channel"
    NOTE = "note"
    ADDED_MESSAGE = "added_message"
    ACTION_ITEM = "action_item"
    # Text a person published on the public status page (bot.status_page).
    STATUS_PAGE = "status_page"
    # Alerts of the incident's alert group firing or resolving (bot.alerts).
    ALERTS = "alerts"
    POSTMORTEM = "postmortem"
    CHECKLIST = "checklist"
    STABILITY = "stability"

    @property
    def written_by_klaxon(self) -> bool:
        """Klaxon wrote the text (mrkdwn, user text already escaped), not a person."""
        return self not in _CAPTURED


# Kinds captured from the war room: their text is what people wrote, raw.
_CAPTURED = frozenset(
    {
        TimelineKind.MESSAGE,
        TimelineKind.REACTION,
        TimelineKind.PIN,
        TimelineKind.MEMBER,
        TimelineKind.CHANNEL,
        TimelineKind.NOTE,
        TimelineKind.ADDED_MESSAGE,
    }
)


_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_PUBLIC_ID = re.compile(r"^INC-(\d{8})-(\d{3,9})$")


def format_public_id(day: date, number: int) -> str:
    """``INC-20261122-001``: readable, sortable, and unique because (day, number) is."""
    return f"INC-{day:%Y%m%d}-{number:03d}"


def parse_public_id(text: str) -> tuple[date, int] | None:
    """The inverse of :func:`format_public_id`; None for anything else (``inc-`` too)."""
    match = _PUBLIC_ID.match(text.strip().upper())
    if match is None:
        return None
    try:
        day = datetime.strptime(match.group(1), "%Y%m%d").date()
    except ValueError:
        return None
    return day, int(match.group(2))


@dataclass(frozen=True, slots=True)
class Incident:
    id: int
    public_id: str
    title: str
    severity: str
    status: IncidentStatus
    declared_by: str
    declared_at: datetime
    description: str = ""
    service: str = ""
    channel_id: str | None = None
    channel_name: str | None = None
    # Why the war room failed to open (a person may retry); None otherwise.
    war_room_error: str | None = None
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None = None
    closed_by: str | None = None
    closed_at: datetime | None = None
    # The single-holder roles; Subject Matter Experts, who may be several, are in ``experts``.
    roles: dict[IncidentRole, str] = field(default_factory=dict)
    experts: tuple[str, ...] = ()
    summary: str = ""
    update_count: int = 0
    last_update_at: datetime | None = None
    resolution: str = ""
    root_cause: str = ""
    card_ts: str | None = None
    announcement_channel_id: str | None = None
    announcement_ts: str | None = None
    # The post-incident report file in the war room, once uploaded.
    report_file_id: str | None = None
    report_permalink: str | None = None
    # The post-mortem: due on resolve (None when its severity has none), owned by the
    # commander unless ``postmortem_owner`` names someone, held with a link to the document.
    postmortem_due_at: datetime | None = None
    postmortem_owner: str | None = None
    postmortem_held_at: datetime | None = None
    postmortem_held_by: str | None = None
    postmortem_link: str | None = None
    # Bumped by every change; writers update only the version they read (optimistic locking).
    version: int = 1
    # When the alert that declared it started firing; None when a person declared it.
    detected_at: datetime | None = None

    @property
    def commander(self) -> str | None:
        return self.roles.get(IncidentRole.COMMANDER)

    @property
    def declared_by_person(self) -> bool:
        """False when an alert source declared it: nobody to invite, nudge or tell."""
        return _USER_ID.match(self.declared_by) is not None

    @property
    def postmortem_pending(self) -> bool:
        return self.postmortem_due_at is not None and self.postmortem_held_at is None

    @property
    def postmortem_owner_or_commander(self) -> str | None:
        return self.postmortem_owner or self.commander or self.resolved_by

    @property
    def role_holders(self) -> frozenset[str]:
        return frozenset((*self.roles.values(), *self.experts))

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        """This incident's contribution to MTTA: from the alert, when an alert declared it."""
        if self.acknowledged_at is None:
            return None
        return self.acknowledged_at - (self.detected_at or self.declared_at)

    @property
    def time_to_resolve(self) -> timedelta | None:
        """This incident's contribution to MTTR."""
        if self.resolved_at is None:
            return None
        return self.resolved_at - self.declared_at


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One fact in the incident's record.

    The ``text`` of Klaxon's own (system) entries is mrkdwn that Klaxon built, with user text
    already escaped and mentions such as ``<@U123>``; the text of captured messages is the
    user's own and must be escaped wherever it is shown.
    """

    id: int
    incident_id: int
    kind: TimelineKind
    occurred_at: datetime
    actor: str | None
    text: str
    slack_ts: str | None = None
    is_key: bool = False
    # What the war room's record adds (bot.domain.timeline): a message's thread, author, edit
    # history, files, reactions and tombstone; ``channel_id``/``permalink`` for added messages.
    thread_ts: str | None = None
    author: str | None = None
    is_bot: bool = False
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    deleted_by: str | None = None
    edits: tuple[Version, ...] = ()
    files: tuple[FileRef, ...] = ()
    reactions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    pinned: bool = False
    channel_id: str | None = None
    permalink: str | None = None
    # Some of its text could not be stored as sent and was replaced with U+FFFD.
    replaced: bool = False
