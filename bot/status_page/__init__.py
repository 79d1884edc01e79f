"""The public status page: what people published about an incident, served to the public.

``domain`` (pure rules), ``service`` (publish and update, the reminder's timer), ``render``
(HTML, JSON and Atom), ``web`` (the cached aiohttp routes), ``statuspage`` (the optional
mirror to Atlassian Statuspage) and ``reminders`` (the stale-page timer's firing).
"""
