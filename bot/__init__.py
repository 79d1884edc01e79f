"""Klaxon: the bot process (configuration, composition root, services, Slack gateway, server)."""
