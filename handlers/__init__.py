"""Slack listeners: payload in, one service call, ack and reply out."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.services import Services
from handlers import (
    card_actions,
    commands,
    declare,
    errors,
    events,
    follow_up,
    home,
    lifecycle_forms,
    shortcuts,
    status_page,
    war_room_retry,
)


def register(app: AsyncApp, services: Services) -> None:
    """Attach every listener; the one place that wires Slack to Klaxon's services."""
    errors.register(app, services)
    # Bolt tries listeners in order, and each failed match costs 10-30 µs of argument
    # building (bench/ingest.py profile), so the most frequent requests go first. Over HTTP,
    # channel events never reach Bolt (bot.server.DirectEvents): slash commands and card
    # buttons are the busiest. ``home``'s ``app_home_opened`` must come before ``events``,
    # which matches every event type (and takes Socket Mode's channel events).
    commands.register(app, services)
    card_actions.register(app, services)
    home.register(app, services)
    events.register(app, services)
    declare.register(app, services)
    lifecycle_forms.register(app, services)
    shortcuts.register(app, services)
    war_room_retry.register(app, services)
    status_page.register(app, services)
    follow_up.register(app, services)
