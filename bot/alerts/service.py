"""Alert notifications in: store first, then declare the group's incident or add to it.

The webhook is answered only after :meth:`AlertIntake.receive` returns, that is after the
notification is committed (ARCHITECTURE.md, decision 3). Notifications that arrive together
(a storm, an HA pair) share one transaction on the batch writer (:mod:`bot.group_commit`).
Slack comes after, in tracked background tasks: the war room through the same flow as a
person's ``/incident declare``, and the group's later changes as gathered notices.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from bot.alerts import rules
from bot.alerts.notices import Gathered
from bot.alerts.payload import Notification
from bot.clock import utcnow
from bot.group_commit import GroupCommit
from bot.incidents import posting
from bot.incidents import service as incidents
from bot.incidents.requester import Extras, Requester
from bot.incidents.war_room import open_war_room
from bot.reports import home
from bot.services import Services
from message_templates import alerts as wording
from storage.alerts import AlertTexts, PendingAlerts, StoredAlerts, store_alerts

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Received:
    """What the webhook answers: stored (or a copy already was), and the incident, if any."""

    duplicate: bool
    incident: str | None


class AlertIntake:
    def __init__(self, services: Services) -> None:
        self._services = services
        # A copy of a notification is stored once (unique key), so a batch that failed and
        # may have committed can safely be retried item by item.
        self._commits: GroupCommit[PendingAlerts, StoredAlerts] = GroupCommit(
            self._write, services.tasks, name="alerts"
        )
        interval = services.config.alerts.notice_interval.total_seconds()
        self._notices: Gathered[tuple[str, str]] = Gathered(services.tasks, interval, self._send)

    async def _write(self, batch: Sequence[PendingAlerts]) -> list[StoredAlerts]:
        return await self._services.writer.run(functools.partial(store_alerts, batch=batch))

    async def receive(self, notification: Notification) -> Received:
        """Store the notification, raising when it cannot be; then start the Slack side."""
        services = self._services
        decision = rules.decide(services.config, notification)
        pending = self._pending(notification, decision)
        stored = await self._commits.submit(pending)
        if not stored.duplicate:
            self._follow_up(notification, decision, stored)
        public_id = stored.declared.public_id if stored.declared else None
        return Received(duplicate=stored.duplicate, incident=public_id)

    def _pending(self, notification: Notification, decision: rules.Decision) -> PendingAlerts:
        services, now = self._services, utcnow()
        shared = rules.group_labels(notification)
        firing = {
            alert.fingerprint: rules.describe_alert(alert, shared) for alert in notification.firing
        }
        declaration = None if decision.notify_only else rules.declaration(notification, decision)
        severity = services.config.severities[decision.severity]
        started = min((a.starts_at for a in notification.firing), default=now)
        actor = notification.actor
        texts = AlertTexts(
            declared=wording.declared_entry(
                severity.label, declaration.title if declaration else "", actor, started
            ),
            firing=wording.firing_entry,
            resolved=wording.resolved_entry,
            all_resolved=wording.all_resolved_entry(now),
            to_monitoring=wording.to_monitoring_entry(actor),
        )
        return PendingAlerts(
            dedup_key=notification.dedup_key,
            group_id=notification.group_id,
            source=notification.source.value,
            receiver=notification.receiver[:200],
            group_key=notification.group_key,
            status=notification.status,
            firing=firing,
            payload=notification.body,
            declaration=declaration,
            declared_by=actor[:255],
            detected_at=started,
            move_to_monitoring=decision.moves_to_monitoring,
            texts=texts,
            now=now,
            holder=services.process_id,
            setup_lease=incidents.SETUP_LEASE,
        )

    def _follow_up(
        self, notification: Notification, decision: rules.Decision, stored: StoredAlerts
    ) -> None:
        services = self._services
        if stored.declared is not None:
            incident = stored.declared
            logger.info(
                "%s declared by %s for alert group %s",
                incident.public_id,
                notification.source.label,
                notification.group_id[:12],
            )
            extras = Extras(responders=decision.responders, announce_to=decision.channel)
            services.tasks.spawn(
                open_war_room(
                    services,
                    incident,
                    Requester(incident.declared_by),
                    fresh_claim=True,
                    extras=extras,
                ),
                name=f"open war room {incident.public_id}",
            )
            home.incidents_changed(services)
            return
        if decision.notify_only and decision.channel is not None:
            resolved = notification.status == "resolved" and bool(stored.stopped)
            if stored.started or resolved:
                line = wording.notify_only_line(
                    rules.title(notification),
                    notification.status,
                    stored.started or stored.stopped,
                    notification.source.label,
                )
                self._notices.add(("channel", decision.channel), line)
            return
        if stored.incident_id is None:
            return
        lines = []
        if stored.started:
            lines.append(wording.firing_line(stored.started))
        if stored.all_resolved:
            lines.append(
                wording.all_resolved_line(utcnow(), moved_to_monitoring=stored.moved_to_monitoring)
            )
        elif stored.stopped:
            lines.append(wording.resolved_line(stored.stopped))
        if lines:
            self._notices.add(("incident", str(stored.incident_id)), *lines)
        if stored.moved_to_monitoring:
            services.projections.refresh(stored.incident_id)
            home.incidents_changed(services)

    async def _send(self, key: tuple[str, str], lines: list[str]) -> bool:
        services = self._services
        kind, target = key
        channel: str | None = target
        if kind == "incident":
            async with services.unit_of_work(write=False) as work:
                incident = await work.incidents.get(int(target))
            if incident is None:
                return True
            channel = incident.channel_id
            if channel is None:
                return not incident.status.is_open  # the war room is still being opened
        await posting.post(services, channel, wording.alert_notice(lines), "alert notice")
        return True
