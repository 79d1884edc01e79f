"""User group membership for permission checks, cached so that a refusal rarely waits on Slack."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from bot.config import KlaxonConfig
from bot.domain.incident import Incident
from bot.domain.permissions import Actor, GuardedAction, groups_to_check
from bot.errors import SlackUnavailable
from bot.slack_gateway import SlackGateway

logger = logging.getLogger(__name__)


class UserGroups:
    """``usergroups.users.list`` answers, kept for ``ttl`` seconds.

    When Slack cannot answer, the last known membership is used; with none, the group counts
    as empty, so an outage can only refuse an action, never grant one.
    """

    def __init__(self, slack: SlackGateway, *, ttl: float = 300.0) -> None:
        self._slack = slack
        self._ttl = ttl
        self._members: dict[str, tuple[float, frozenset[str]]] = {}
        self._lock = asyncio.Lock()

    def configured(self, config: KlaxonConfig) -> frozenset[str]:
        """Every user group a permission check may need under ``config``."""
        return frozenset(
            group
            for action in GuardedAction
            for severity in config.severities.values()
            for group in groups_to_check(config.permissions, action, severity)
        )

    async def keep_fresh(self, groups: Iterable[str]) -> None:
        """Read ``groups`` now and again every half ``ttl``, until cancelled, so that a
        permission check, which runs before its request is answered, never waits on Slack."""
        wanted = sorted(set(groups))
        if not wanted:
            return
        while True:
            await asyncio.gather(*(self._refresh(group) for group in wanted))
            await asyncio.sleep(self._ttl / 2)

    async def _refresh(self, group: str) -> None:
        try:
            members = frozenset(await self._slack.usergroup_members(group))
        except SlackUnavailable as exc:
            logger.warning("could not read user group %s: %s", group, exc)
            return
        self._members[group] = (time.monotonic() + self._ttl, members)

    async def members(self, group: str) -> frozenset[str]:
        cached = self._members.get(group)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        async with self._lock:
            cached = self._members.get(group)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            try:
                members = frozenset(await self._slack.usergroup_members(group))
            except SlackUnavailable as exc:
                logger.warning("could not read user group %s: %s", group, exc)
                return cached[1] if cached is not None else frozenset()
            self._members[group] = (time.monotonic() + self._ttl, members)
            return members

    async def groups_of(self, user_id: str, groups: Iterable[str]) -> frozenset[str]:
        wanted = sorted(set(groups))
        memberships = await asyncio.gather(*(self.members(group) for group in wanted))
        return frozenset(
            group for group, members in zip(wanted, memberships, strict=True) if user_id in members
        )

    async def actor(
        self, config: KlaxonConfig, user_id: str, incident: Incident, *actions: GuardedAction
    ) -> Actor:
        """``user_id`` with the user groups that matter for ``actions`` on ``incident``."""
        severity = config.severities[incident.severity]
        needed: set[str] = set()
        for action in actions:
            needed |= groups_to_check(config.permissions, action, severity)
        if not needed:
            return Actor(user_id)
        return Actor(user_id, await self.groups_of(user_id, needed))
