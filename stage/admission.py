"""Admission: a socket's role is decided before a single message of it is read.

Every WebSocket consumer of the project derives from `AdmittedSocket`. A socket starts as
`NOBODY`, a role that may send nothing, and `admit()` decides whom it speaks for before the
handshake is accepted; a consumer that forgets to decide refuses. A refused socket is accepted
only to be told why and closed with 4403 (so the page stops retrying), and whatever it sent in
the meantime is dropped unread: a command racing the upgrade changes nothing and is not logged as
anyone's. Admitted sockets are throttled before their messages are parsed, so a flood costs
neither a database transaction nor a log line per dropped message.
"""

import contextlib
import functools
import json
import logging
import time
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer

from events import logs, ratelimit
from events.access import redact_keys
from stage.contract.commands import NOBODY
from stage.contract.enums import CLOSE_CODES
from stage.metrics import SOCKETS
from stage.prompt_dispatch import dispatch_each

log = logging.getLogger(__name__)

CLOSE_FORBIDDEN = CLOSE_CODES["forbidden"]
CLOSE_TOO_FAST = CLOSE_CODES["too_fast"]
CLOSE_UNAVAILABLE = CLOSE_CODES["unavailable"]


@dataclass(frozen=True)
class Admission:
    """Who an admitted socket speaks for: its role in the protocol and its name in the audit log."""

    role: str
    actor: str


@dataclass(frozen=True)
class Refusal:
    """Why a socket was not admitted, told to it before the close."""

    code: str
    message: str
    close_code: int = CLOSE_FORBIDDEN


class TokenBucket:
    """What a socket may still send: refilled at `rate` per second, up to `burst`."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.at = burst, time.monotonic()

    def take(self, amount: float = 1) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if amount > self.tokens:
            return False
        self.tokens -= amount
        return True


class AdmittedSocket(AsyncWebsocketConsumer):
    """A WebSocket whose messages are read only once `admit()` has said who sends them."""

    role: str = NOBODY
    actor: str = "nobody"
    admitted: bool = False
    _counted: str | None = None  # the role this socket is counted under (stage/metrics.py)
    # Messages a second and the burst above it; a subclass sets what its honest client needs.
    message_rate: float = 10.0
    message_burst: float = 30.0

    async def admit(self) -> Admission | Refusal:
        """Decide who this socket speaks for. Unless a subclass says otherwise: nobody."""
        return Refusal("forbidden", "This socket admits nobody.")

    async def opened(self) -> None:
        """After the handshake of an admitted socket (join groups, send the first snapshot)."""

    async def __call__(self, scope, receive, send) -> None:
        """Channels' consumer, which ends without `disconnect` when its channel layer fails under
        it (Redis restarting) or a handler raises; here it still lets go of what it held (its
        feed, a presenter's presence) and closes the socket, so the page reconnects."""
        try:
            await self._consume(scope, receive, send)
        except Exception:
            log.warning(
                "socket %s ended by a failure; closed for the page to reconnect",
                redact_keys(scope.get("path", "")),
                exc_info=True,
            )
            with contextlib.suppress(Exception):
                await self.disconnect(CLOSE_UNAVAILABLE)
            with contextlib.suppress(Exception):
                await send({"type": "websocket.close", "code": CLOSE_UNAVAILABLE})

    async def _consume(self, scope, receive, send) -> None:
        """Channels' `AsyncConsumer.__call__`, its messages dispatched as they come (stage/prompt_dispatch.py)."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        sources = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append(self.channel_receive)
        self.base_send = send
        with contextlib.suppress(StopConsumer):
            await dispatch_each(sources, self.dispatch)

    async def websocket_connect(self, message: dict) -> None:
        event_id = self.scope.get("url_route", {}).get("kwargs", {}).get("event_id")
        if event_id is not None:
            logs.bind(event=event_id)  # every record of this socket's handlers names it (LOG_FORMAT=json)
        try:
            decision = await self.admit()
        except Exception:
            # Not a decision about this socket: the database or the cache did not answer.
            log.warning(
                "admission of %s failed; try again later", redact_keys(self.scope.get("path", "")), exc_info=True
            )
            decision = UNAVAILABLE
        if not isinstance(decision, Admission):
            await self.accept()
            await self.expel(decision)
            return
        self.role, self.actor = decision.role, decision.actor
        self.allowance = TokenBucket(self.message_rate, self.message_burst)
        self.admitted = True
        self._counted = decision.role
        SOCKETS.labels(decision.role).inc()
        await self.accept()
        await self.opened()

    async def websocket_disconnect(self, message: dict) -> None:
        self._uncount()
        await super().websocket_disconnect(message)

    def _uncount(self) -> None:
        counted, self._counted = self._counted, None
        if counted is not None:
            SOCKETS.labels(counted).dec()

    async def websocket_receive(self, message: dict) -> None:
        if not self.admitted:
            return  # not admitted (yet, or any more): nothing of it is read
        if not self.allowance.take():
            log.warning("%s flooded its socket; closed", self.actor)
            await self.expel(Refusal("too_fast", "Too many messages; reconnect in a moment.", CLOSE_TOO_FAST))
            return
        await super().websocket_receive(message)

    async def expel(self, refusal: Refusal) -> None:
        """Stop reading this socket, say why and close it."""
        self.admitted = False
        self._uncount()
        self.role, self.actor = NOBODY, "nobody"
        await self.send_error(refusal.code, refusal.message)
        await self.close(code=refusal.close_code)

    async def send_error(self, code: str, message: str, field: str | None = None) -> None:
        await self.send_json({"type": "error", "error": {"code": code, "field": field, "message": message}})

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content))

    def client_address(self) -> str:
        client = self.scope.get("client") or ("unknown", 0)
        return ratelimit.address_of(str(client[0]))


@sync_to_async
def link_guessing_blocked(address: str) -> bool:
    """Whether this address has used up its wrong personal links (join or green-room keys)."""
    return not ratelimit.blocked(ratelimit.BAD_LINKS, address).allowed


@sync_to_async
def count_wrong_link(address: str) -> None:
    ratelimit.hit(ratelimit.BAD_LINKS, address)


UNAVAILABLE = Refusal(
    "unavailable", "The server cannot serve the stage at the moment; reconnecting.", CLOSE_UNAVAILABLE
)
GUESSING = Refusal("too_many_wrong_links", "Too many wrong links from this address; wait a minute.", CLOSE_TOO_FAST)
