"""The war room's record: capturing channel events, the add-to-timeline shortcut, reading it."""
