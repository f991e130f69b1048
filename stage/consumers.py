"""WebSocket consumers: admit, parse, hand the command to the one command path, reply.

`StageSocketConsumer` is what every stage socket shares: a snapshot on connect and on request,
then the deltas its audience gets from this process's feed (stage/fanout.py), in version order
with nothing lost in between. The console is one subclass; the green room is another
(stage/greenroom.py): set `role`, `audience` and `presenter`, and implement `admit`.
"""

import json
import logging
import time

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from events.models import Event
from stage import fanout, store
from stage.broadcast import apply_and_broadcast
from stage.direct import prepared_writer
from stage.projections import CONSOLE, conversation, greenroom_view
from stage.protocol import PRODUCER, ProtocolError

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 16 * 1024
CLOSE_FORBIDDEN = 4403


class StageSocketConsumer(AsyncWebsocketConsumer):
    """A socket following one event's stage and sending commands as `actor` in `role`."""

    role: str = PRODUCER
    audience: str = CONSOLE
    presenter: str | None = None
    actor: str = "unknown"

    async def admit(self) -> bool:
        """Whether this socket may follow the event; set `self.actor` when it may."""
        raise NotImplementedError

    async def connect(self) -> None:
        self.event_id = int(self.scope["url_route"]["kwargs"]["event_id"])
        self.synced = False
        self.pending: list[tuple[str, int]] = []
        self.following = False
        self._prepared_writer = prepared_writer(self.scope)
        await self.accept()
        if not await self.admit():
            # Accepted first so the client sees why and does not reconnect.
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await fanout.join(self.event_id, self)
        self.following = True
        await self.resync()
        await self.joined()

    async def disconnect(self, code: int) -> None:
        if self.following:
            self.following = False
            await fanout.leave(self.event_id, self)
            await self.left()

    async def joined(self) -> None:
        """After the snapshot went out (the green room reports presence here)."""

    async def left(self) -> None:
        """After the socket stopped following (the green room reports the drop here, as `system`)."""

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = parse(text_data)
        except ProtocolError as error:
            log.warning("stage %s: unreadable message from %s: %s", self.event_id, self.actor, error.message)
            await self.send_json({"type": "error", "error": error.as_dict()})
            return
        if message == {"type": "snapshot"}:
            await self.resync()
            return
        outcome = await apply_and_broadcast(self.event_id, message, actor=self.actor, role=self.role)
        client_id = message.get("client_id") if isinstance(message.get("client_id"), str) else None
        if outcome.error is None:
            reply = {"type": "ack", "client_id": client_id, "version": outcome.state["version"]}
            await self.send_json(reply | {"applied": outcome.applied, "duplicate": outcome.duplicate})
            return
        refusal = {"type": "refused", "client_id": client_id, "error": outcome.error}
        if outcome.state is not None and outcome.error["code"] == "stale_version":
            refusal |= {"version": outcome.state["version"], "state": self.view(outcome.state)}
        await self.send_json(refusal)

    async def resync(self) -> None:
        """Send a full snapshot, then the pushes that arrived meanwhile and are newer than it."""
        self.synced = False
        state, audit = await database_sync_to_async(store.snapshot_with_audit)(self.event_id)
        await self.send_json(self.snapshot_message(state, audit))
        while self.pending:
            text, version = self.pending.pop(0)
            if version > state["version"]:
                await self.base_send({"type": "websocket.send", "text": text})
        self.synced = True

    @property
    def write_prepared(self):
        """Pushes go straight to the connection once the snapshot is out (stage/direct.py)."""
        return self._prepared_writer if self.synced else None

    async def push(self, text: str, version: int | None) -> None:
        """Called by the feed: forward as it is. Pushes wait while a snapshot is on its way;
        meter reports (no version) are dropped then, the next one supersedes them."""
        if self.synced:
            await self.base_send({"type": "websocket.send", "text": text})
        elif version is not None:
            self.pending.append((text, version))

    def view(self, state: dict) -> dict:
        """The state as this socket's audience sees it."""
        return state if self.audience == CONSOLE else greenroom_view(state)

    def snapshot_message(self, state: dict, audit: list[dict]) -> dict:
        message = {"type": "snapshot", "version": state["version"], "state": self.view(state)}
        if self.audience == CONSOLE:
            message["audit"] = audit
        elif self.presenter is not None:
            message["conversation"] = conversation(state, self.presenter)
        return message | {"server_time": time.time()}

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content))


def parse(text_data: str | None) -> dict:
    """A JSON object of at most MAX_MESSAGE_BYTES, or ProtocolError; the command path checks the rest."""
    if text_data is None or len(text_data) > MAX_MESSAGE_BYTES:
        raise ProtocolError("malformed", "Commands are JSON text messages of at most 16 KiB.")
    try:
        message = json.loads(text_data)
    except ValueError:
        raise ProtocolError("malformed", "Not valid JSON.") from None
    if not isinstance(message, dict):
        raise ProtocolError("malformed", "A command is a JSON object.")
    return message


@database_sync_to_async
def _is_producer(event_id: int, user) -> bool:
    event = Event.objects.filter(pk=event_id).first()
    return event is not None and event.is_producer(user)


class ConsoleConsumer(StageSocketConsumer):
    """The producers' console of one event: producers of that event only."""

    role = PRODUCER
    audience = CONSOLE

    async def admit(self) -> bool:
        user = self.scope.get("user")
        if user is None or not await _is_producer(self.event_id, user):
            self.actor = "anonymous" if user is None or not user.is_authenticated else f"user:{user.get_username()}"
            log.warning("stage %s: console refused to %s", self.event_id, self.actor)
            return False
        self.actor = f"user:{user.get_username()}"
        return True
