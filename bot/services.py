"""What listeners may use: built once by the composition root and handed to ``register``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import KlaxonConfig
from bot.incidents.home_viewers import HomeViewers
from bot.incidents.projection import Projections
from bot.incidents.service import Declarations
from bot.incidents.user_groups import UserGroups
from bot.slack_gateway import SlackGateway
from bot.tasks import BackgroundTasks
from bot.timeline.capture import TimelineCapture
from message_templates.catalog import Templates
from storage.batch_writer import BatchWriter
from storage.unit_of_work import UnitOfWorkFactory

if TYPE_CHECKING:
    from bot.status_page.service import StatusPage

# Eight setups of ~10 Slack calls each outrun Slack's own Tier 2 limit on conversations.create
# (about 20 a minute) many times over, and leave the event loop to the requests.
WAR_ROOMS_AT_ONCE = 8
# A storm of presses waits its turn in memory instead of taking every pooled database
# connection: with thousands in flight, a declare waited five seconds behind them for one.
PRESSES_AT_ONCE = 8


@dataclass(frozen=True, slots=True)
class Services:
    config: KlaxonConfig
    unit_of_work: UnitOfWorkFactory
    slack: SlackGateway
    tasks: BackgroundTasks
    templates: Templates
    projections: Projections
    user_groups: UserGroups
    # Names this process in timer claims; unique per start.
    process_id: str
    timeline: TimelineCapture
    # The one writer thread of a SQLite file (or PostgreSQL's run_sync): declarations (stored
    # before Slack gets its answer) and the war rooms' bookkeeping.
    writer: BatchWriter
    declarations: Declarations
    # Users whose App Home this process published, refreshed when incidents change.
    home_viewers: HomeViewers = field(default_factory=HomeViewers)
    # War rooms being opened at once by this process (bot.incidents.war_room).
    war_room_slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(WAR_ROOMS_AT_ONCE)
    )
    # Card presses being carried out at once (handlers.card_actions), acknowledged already.
    press_slots: asyncio.Semaphore = field(
        default_factory=lambda: asyncio.Semaphore(PRESSES_AT_ONCE)
    )
    # The public status page; None when ``[status_page] enabled = false``.
    status_page: StatusPage | None = None
