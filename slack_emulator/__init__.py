"""An emulated Slack for testing Klaxon end to end, on both sides of the wire.

Web API side (the bot calls it)::

    emulator = SlackEmulator(signing_secret="s3cret")       # workspace T0001, token
    ws = emulator.default_workspace                         #   "xoxb-emulator-token"
    alice = ws.add_user("alice", email="alice@example.com")
    ws.add_usergroup("oncall", [alice.id])
    war_room = ws.create_channel("inc-1", members=[alice.id], bot_is_member=True)
    async with emulator.run(host="127.0.0.1", port=0) as server:
        client = AsyncWebClient(token=ws.bot_token, base_url=server.api_url)

Slack side (the emulator calls the bot, every request signed with the secret)::

        slack = SlackClient(emulator, request_url="http://127.0.0.1:PORT/slack/events")
        resp = await slack.slash_command("/incident", "help", user_id=alice.id,
                                         channel_id=war_room.id)
        resp.status, resp.data                                   # the bot's HTTP answer
        msg = ws.last_message("inc-1")
        await slack.press_button(msg, label="Acknowledge", user_id=alice.id)
        view = ws.open_views(alice.id)[-1]
        await slack.submit_view(view, values={"title": "DB down"})
        await slack.user_posts("inc-1", alice.id, "rolling back")  # + message event
        await emulator.wait_for_events()        # events caused by the bot's own calls
        await emulator.wait_until(lambda: ws.replies("inc-1", msg.ts))  # bot reacts later

Inspection (plain Python, no HTTP): ``ws.channel(id_or_name)``, ``ws.members(ch)``,
``ws.topic(ch)``, ``ws.messages(ch)``, ``ws.replies(ch, ts)``, ``ws.pins(ch)``,
``ws.views(user=..., kind=...)``, ``ws.open_views(user)``, ``ws.home_view(user)``,
``ws.files``, ``ws.ephemerals(channel=..., user=...)``, ``ws.response_url_posts``,
``ws.calls(method)`` / ``emulator.calls(method)`` (every Web API call with its outcome),
``emulator.deliveries`` / ``emulator.delivered_events(type)`` (events sent to the bot).

Faults (``emulator.faults``): ``ratelimit(method, retry_after=, times=)``,
``http_error(method, status, times=)``, ``connection_reset(method, times=)``,
``latency(method, seconds)``, ``random_fault(method, Fault.ratelimited(), probability)``
(seeded RNG), ``set_rate_limit(method, RateLimit(...))``, ``enable_slack_rate_limits()``,
``clear()``. Use ``"*"`` as the method to target every method.

Channels made with ``ws.create_channel`` do not contain the bot unless
``bot_is_member=True``. Other knobs: ``ws.scopes`` (all granted by default; drop
``chat:write.public`` to get ``not_in_channel`` in public channels), ``emulator.bot_events``
(None: bot-caused events go to ``event_request_url`` when set), ``emulator.subscribed_events``,
``emulator.bot_message_subtype``, ``emulator.add_workspace(team_id=, bot_token=)``.

Time: ``emulator.clock.advance(seconds)`` expires trigger_ids (3 s) and response_urls
(30 min). Event retries: ``emulator.events.config`` (``timeout``, ``retry_delays``).
"""

from slack_emulator.client import BotResponse, SlackClient
from slack_emulator.emulator import DEFAULT_BOT_TOKEN, DEFAULT_TEAM_ID, SlackEmulator
from slack_emulator.errors import ApiError
from slack_emulator.events import (
    SLACK_RETRY_DELAYS,
    Attempt,
    Delivery,
    DeliveryConfig,
)
from slack_emulator.faults import SLACK_RATE_LIMITS, Fault, FaultInjector, RateLimit
from slack_emulator.payloads import ElementNotFound
from slack_emulator.server import EmulatorServer
from slack_emulator.signing import compute_signature, signed_headers, verify_signature
from slack_emulator.state import (
    CallRecord,
    Channel,
    EphemeralMessage,
    Message,
    ResponseUrlPost,
    UploadedFile,
    User,
    UserGroup,
    View,
)
from slack_emulator.workspace import ALL_SCOPES, Workspace

__all__ = [
    "ALL_SCOPES",
    "DEFAULT_BOT_TOKEN",
    "DEFAULT_TEAM_ID",
    "SLACK_RATE_LIMITS",
    "SLACK_RETRY_DELAYS",
    "ApiError",
    "Attempt",
    "BotResponse",
    "CallRecord",
    "Channel",
    "Delivery",
    "DeliveryConfig",
    "ElementNotFound",
    "EmulatorServer",
    "EphemeralMessage",
    "Fault",
    "FaultInjector",
    "Message",
    "RateLimit",
    "ResponseUrlPost",
    "SlackClient",
    "SlackEmulator",
    "UploadedFile",
    "User",
    "UserGroup",
    "View",
    "Workspace",
    "compute_signature",
    "signed_headers",
    "verify_signature",
]
