"""Tables. The schema itself is created by the Alembic migrations in ``storage/migrations``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false

# Named constraints let Alembic alter them later, including in SQLite batch mode.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always returns aware datetimes; SQLite would otherwise drop the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; use bot.clock.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class IncidentRow(Base):
    """An incident; its public id ``INC-<declared_on>-<number>`` is derived, never stored."""

    __tablename__ = "incidents"
    __table_args__ = (UniqueConstraint("declared_on", "number", name="uq_incidents_day_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    declared_on: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    service: Mapped[str] = mapped_column(String(200), default="")
    severity: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), index=True)
    # A Slack user id, or an alert source ("Alertmanager (receiver klaxon)", migration 0007).
    declared_by: Mapped[str] = mapped_column(String(255))
    declared_at: Mapped[datetime]
    # When the alert that declared it started firing (migration 0007): MTTA counts from here.
    detected_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(32))
    acknowledged_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[datetime | None]
    channel_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    channel_name: Mapped[str | None] = mapped_column(String(80))
    # Why the war room failed to open, in words; None while it opens, once open, and after a
    # retry is claimed.
    war_room_error: Mapped[str | None] = mapped_column(Text)
    card_ts: Mapped[str | None] = mapped_column(String(32))
    announcement_channel_id: Mapped[str | None] = mapped_column(String(32))
    announcement_ts: Mapped[str | None] = mapped_column(String(32))
    # The latest status update's summary: what the card and scheduled updates show.
    summary: Mapped[str] = mapped_column(Text, default="")
    update_count: Mapped[int] = mapped_column(Integer, default=0)
    last_update_at: Mapped[datetime | None]
    resolution: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    closed_by: Mapped[str | None] = mapped_column(String(32))
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]
    # The post-incident report uploaded to the war room (migration 0005), linked from the card.
    report_file_id: Mapped[str | None] = mapped_column(String(32))
    report_permalink: Mapped[str | None] = mapped_column(Text)
    # What made the declaration (migration 0008): a slash command's trigger id, a form's view
    # id, hashed. A declare request that arrives again finds its incident instead of a new one.
    declare_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # The post-mortem (migration 0009): due on resolve, held with a link. The
    # owner is the Incident Commander unless someone was named.
    postmortem_due_at: Mapped[datetime | None]
    postmortem_owner: Mapped[str | None] = mapped_column(String(32))
    postmortem_held_at: Mapped[datetime | None]
    postmortem_held_by: Mapped[str | None] = mapped_column(String(32))
    postmortem_link: Mapped[str | None] = mapped_column(Text)
    # Bumped by every update; a conditional UPDATE on it turns racing writers into one winner.
    version: Mapped[int] = mapped_column(Integer, default=1)

    roles: Mapped[list[IncidentRoleRow]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - typed by SQLAlchemy


class IncidentRoleRow(Base):
    __tablename__ = "incident_roles"
    # Several Subject Matter Experts may serve at once; the single-holder roles are kept single
    # by the lifecycle service, under the incident's version check.
    __table_args__ = (
        UniqueConstraint("incident_id", "role", "user_id", name="uq_incident_roles_holder"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    assigned_by: Mapped[str] = mapped_column(String(32))
    assigned_at: Mapped[datetime]

    incident: Mapped[IncidentRow] = relationship(back_populates="roles")


class TimelineEntryRow(Base):
    __tablename__ = "timeline_entries"
    __table_args__ = (
        # Slack redelivers events and users double-click: a second copy of one fact is a no-op.
        UniqueConstraint("incident_id", "dedup_key", name="uq_timeline_entries_dedup"),
        Index("ix_timeline_entries_incident_time", "incident_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime]
    actor: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    is_key: Mapped[bool] = mapped_column(Boolean, default=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedup_key: Mapped[str | None] = mapped_column(String(200))
    recorded_at: Mapped[datetime]
    # Captured from the war room (migration 0002_timeline): a message's edit history, files,
    # reactions and pin live in ``details``; these columns are what listings filter and show.
    is_bot: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    deleted_by: Mapped[str | None] = mapped_column(String(32))


class ActionItemRow(Base):
    """A follow-up from an incident (``/incident action``), listed in its report."""

    __tablename__ = "action_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(32))
    due: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    # When it was marked done (None while open).
    done_at: Mapped[datetime | None]


class ChecklistTickRow(Base):
    """One ticked item of an incident's post-incident checklist: by whom, when."""

    __tablename__ = "checklist_ticks"
    __table_args__ = (UniqueConstraint("incident_id", "item", name="uq_checklist_ticks_item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(40))
    ticked_by: Mapped[str | None] = mapped_column(String(32))
    ticked_at: Mapped[datetime]


class StatsChartRow(Base):
    """A stats chart uploaded by ``/incident stats``; the Home tab links the latest."""

    __tablename__ = "stats_charts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[str] = mapped_column(String(32))
    permalink: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(index=True)


class ProcessedEventRow(Base):
    """Events API deliveries already handled, keyed by Slack's ``event_id``."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)


class TimerRow(Base):
    """A scheduled action ("next status update", "next escalation step") stored, not in memory.

    A replica claims a due timer by setting ``claimed_by``/``claim_expires_at`` with a
    conditional UPDATE before firing it; an expired claim is free again, so a replica that
    dies mid-work never holds a timer forever.
    """

    __tablename__ = "timers"
    __table_args__ = (UniqueConstraint("incident_id", "kind", name="uq_timers_incident_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[datetime] = mapped_column(index=True)
    step: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_expires_at: Mapped[datetime | None]
    # When this timer last fired: a scheduled update with no manual update since says so.
    last_fired_at: Mapped[datetime | None]


class AlertGroupRow(Base):
    """An alert group (one group key of one receiver of one source) and its open incident.

    ``group_id`` is unique and points at one incident at a time: however many copies of a
    notification arrive (HA peers, retries, replicas), a group has one incident while it is
    open. ``firing`` maps each firing alert's fingerprint to how it is described.
    """

    __tablename__ = "alert_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(20))
    receiver: Mapped[str] = mapped_column(String(200))
    group_key: Mapped[str] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), unique=True
    )
    firing: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16))
    updated_at: Mapped[datetime]


class AlertNotificationRow(Base):
    """Every distinct notification received, stored before it is answered; a second copy of
    one (same ``dedup_key``) is not stored again."""

    __tablename__ = "alert_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    group_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime]
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RotationHandoffRow(Base):
    """One on-call handoff (migration 0011): a timer of its own, since it belongs to
    no incident. One row per rotation and moment, so a handoff is fired once; claimed like
    :class:`TimerRow` before it fires, and ``fired_at`` set once it has."""

    __tablename__ = "rotation_handoffs"
    __table_args__ = (
        UniqueConstraint("rotation", "due_at", name="uq_rotation_handoffs_rotation_due"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rotation: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime] = mapped_column(index=True)
    outgoing: Mapped[str] = mapped_column(String(32))
    incoming: Mapped[str] = mapped_column(String(32))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_expires_at: Mapped[datetime | None]
    fired_at: Mapped[datetime | None]


# The public status page's tables live beside their repository; importing them here puts them
# in Base.metadata wherever the models are loaded (migrations, schema checks).
from storage import status_page as _status_page  # noqa: E402, F401
