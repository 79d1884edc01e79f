"""``python -m bot sandbox``: Klaxon in a browser, with no Slack workspace.

One process runs three things on loopback: the bundled Slack emulator, the real Klaxon
(signed HTTP requests, the same handlers and database code as in production) and a web
page that plays Slack's client (:mod:`bot.sandbox.page`). :mod:`bot.sandbox.compose` wires
them; :mod:`bot.sandbox.people` seeds the workspace and the drill settings.
"""
