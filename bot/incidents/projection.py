"""Slack as a projection of stored state (ARCHITECTURE.md, decision 2).

After any change the incident card, the channel topic and the stakeholder announcement are
re-rendered from what is stored and edited in place. Refreshes of one incident never overlap:
a change arriving while a refresh runs marks the incident dirty, and one more refresh follows
with the latest state, so a slow older render can never land after a newer one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

from bot.config import KlaxonConfig
from bot.errors import SlackUnavailable
from bot.slack_gateway import SlackGateway
from bot.tasks import BackgroundTasks
from message_templates.announcement import render_declared
from message_templates.catalog import Templates
from message_templates.incident_card import channel_topic, incident_card
from message_templates.message import Message
from storage.unit_of_work import UnitOfWorkFactory

logger = logging.getLogger(__name__)


class Projections:
    def __init__(
        self,
        config: KlaxonConfig,
        unit_of_work: UnitOfWorkFactory,
        slack: SlackGateway,
        tasks: BackgroundTasks,
        templates: Templates,
    ) -> None:
        self._config = config
        self._uow = unit_of_work
        self._slack = slack
        self._tasks = tasks
        self._templates = templates
        self._running: set[int] = set()
        self._done: dict[int, asyncio.Event] = {}
        self._dirty: set[int] = set()
        # What Slack shows now, as far as this process knows. Only what differs is sent:
        # chat.update is Tier 3 and conversations.setTopic Tier 2 (~20/min) and the latter
        # posts a channel message each time.
        self._topics: dict[str, str] = {}
        self._messages: dict[tuple[str, str], Message] = {}

    def refresh(self, incident_id: int) -> None:
        """Bring Slack in line with storage, in the background; cheap to call often."""
        if incident_id in self._running:
            self._dirty.add(incident_id)
            return
        self._running.add(incident_id)
        self._done.pop(incident_id, None)
        self._tasks.spawn(self._refresh_until_clean(incident_id), name=f"refresh {incident_id}")

    async def refreshed(self, incident_id: int, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        """Refresh and wait until Slack shows the latest state (or ``timeout`` passes)."""
        self.refresh(incident_id)
        done = self._done.setdefault(incident_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), timeout)

    def remember_topic(self, channel_id: str, topic: str) -> None:
        self._topics[channel_id] = topic

    def remember_message(self, channel_id: str, ts: str, message: Message) -> None:
        self._messages[(channel_id, ts)] = message

    async def _refresh_until_clean(self, incident_id: int) -> None:
        try:
            while True:
                self._dirty.discard(incident_id)
                await self._refresh_once(incident_id)
                if incident_id not in self._dirty:
                    return
        finally:
            self._running.discard(incident_id)
            self._dirty.discard(incident_id)
            done = self._done.pop(incident_id, None)
            if done is not None:
                done.set()

    async def _refresh_once(self, incident_id: int) -> None:
        async with self._uow(write=False) as work:
            incident = await work.incidents.get(incident_id)
        if incident is None or incident.channel_id is None:
            return
        severity = self._config.severities.get(incident.severity)
        if severity is None:
            logger.warning(
                "%s: severity %r is not configured", incident.public_id, incident.severity
            )
            return
        steps: list[tuple[str, Coroutine[Any, Any, None]]] = []
        if incident.card_ts:
            card = incident_card(
                incident,
                self._config.severities,
                status_page=self._config.status_page.enabled,
            )
            steps.append(("card", self._update(incident.channel_id, incident.card_ts, card)))
        topic = channel_topic(incident, severity)
        if self._topics.get(incident.channel_id) != topic:
            steps.append(("topic", self._set_topic(incident.channel_id, topic)))
        if incident.announcement_channel_id and incident.announcement_ts:
            notice = render_declared(self._templates.declared, incident, severity)
            steps.append(
                (
                    "announcement",
                    self._update(
                        incident.announcement_channel_id, incident.announcement_ts, notice
                    ),
                )
            )
        results = await asyncio.gather(*(step for _, step in steps), return_exceptions=True)
        for (what, _), result in zip(steps, results, strict=True):
            if isinstance(result, SlackUnavailable):
                logger.warning("%s: could not update the %s: %s", incident.public_id, what, result)
            elif isinstance(result, BaseException):
                raise result

    async def _update(self, channel_id: str, ts: str, message: Message) -> None:
        if self._messages.get((channel_id, ts)) == message:
            return
        await self._slack.update_message(channel_id, ts, message.text, message.blocks)
        self._messages[(channel_id, ts)] = message

    async def _set_topic(self, channel_id: str, topic: str) -> None:
        await self._slack.set_topic(channel_id, topic)
        self._topics[channel_id] = topic
