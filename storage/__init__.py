"""Persistence: models, repositories, unit of work and migrations."""
