"""On-call rotations (issue 22): who is on call at an instant, the handoff, the user group and
the calendar feed. :mod:`bot.oncall.rotation` is the pure rule; the rest are services."""
