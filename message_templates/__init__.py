"""Message templates: pure functions from domain objects to Block Kit."""
