"""Pure domain: incidents, their lifecycle and timeline. No Slack I/O, no storage."""
