"""A small stand-in for Atlassian Statuspage's REST API, served over real HTTP.

It follows the published shape of the two calls Klaxon makes (``POST`` and ``PATCH``
``/v1/pages/{page_id}/incidents[/{incident_id}]`` with ``{"incident": {...}}``,
``Authorization: OAuth <key>``) and its error answers: 401 for a wrong key, 404 for an
unknown page or incident, 422 with a list of problems for an invalid incident, and 429
(rate limited) or 5xx when a test queues them.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.e2e.harness import free_port

STATUSES = {"investigating", "identified", "monitoring", "resolved"}


@dataclass
class Call:
    method: str
    path: str
    authorization: str
    body: Any


@dataclass
class FakeStatuspage:
    api_key: str
    page_id: str
    calls: list[Call] = field(default_factory=list)
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Answers given before the real handling, one per request: (status, headers, body).
    queued: list[tuple[int, dict[str, str], Any]] = field(default_factory=list)
    # Seconds each answer takes, so that a test can overlap two posts.
    delay: float = 0.0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def _check(self, request: web.Request, body: Any) -> web.Response | None:
        if request.headers.get("Authorization") != f"OAuth {self.api_key}":
            return web.json_response({"error": "Could not authenticate"}, status=401)
        if request.match_info["page_id"] != self.page_id:
            return web.json_response(
                {"error": "The requested resource could not be found."}, status=404
            )
        incident = body.get("incident") if isinstance(body, dict) else None
        if not isinstance(incident, dict):
            return web.json_response({"error": ["incident is missing"]}, status=400)
        problems = []
        if request.method == "POST" and not incident.get("name"):
            problems.append("Name can't be blank")
        if "status" in incident and incident["status"] not in STATUSES:
            problems.append("Status is not included in the list")
        if problems:
            return web.json_response({"error": problems}, status=422)
        return None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        await asyncio.sleep(self.delay)
        self.calls.append(
            Call(request.method, request.path, request.headers.get("Authorization", ""), body)
        )
        if self.queued:
            status, headers, answer = self.queued.pop(0)
            return web.json_response(answer, status=status, headers=headers)
        refused = self._check(request, body)
        if refused is not None:
            return refused
        fields = body["incident"]
        if request.method == "POST":
            incident_id = f"sp{next(self._ids):04d}"
            self.incidents[incident_id] = {"id": incident_id, "incident_updates": []}
        else:
            incident_id = request.match_info["incident_id"]
            if incident_id not in self.incidents:
                return web.json_response(
                    {"error": "The requested resource could not be found."}, status=404
                )
        stored = self.incidents[incident_id]
        stored.update({k: v for k, v in fields.items() if k in {"name", "status", "components"}})
        stored["incident_updates"].insert(
            0, {"status": fields.get("status"), "body": fields.get("body")}
        )
        return web.json_response(stored, status=201 if request.method == "POST" else 200)

    @contextlib.asynccontextmanager
    async def run(self) -> AsyncIterator[str]:
        """Serve on loopback; yields the API's base URL (``.../v1/``)."""
        app = web.Application()
        app.router.add_post("/v1/pages/{page_id}/incidents", self._handle)
        app.router.add_patch("/v1/pages/{page_id}/incidents/{incident_id}", self._handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            yield f"http://127.0.0.1:{port}/v1/"
        finally:
            await runner.cleanup()
