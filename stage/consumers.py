"""The stage's WebSocket consumers: admitted first, then a snapshot, then the one command path.

`StageSocketConsumer` is what every stage socket shares: once admitted (stage/admission.py), a
snapshot on connect and on request, then the deltas its audience gets from this process's feed
(stage/fanout.py), in version order with nothing lost in between. The console is one subclass;
the green room is another (stage/greenroom.py): set `audience` and `presenter`, and implement
`admit`.
"""

import asyncio
import collections
import contextlib
import json
import logging
import time

from channels.db import database_sync_to_async
from django.conf import settings
from django.db import DatabaseError

from events.models import Event
from stage import fanout, mixer_mail, store
from stage.admission import UNAVAILABLE, Admission, AdmittedSocket, Refusal
from stage.broadcast import apply_and_broadcast
from stage.contract.commands import PRESENTER, PRODUCER, SYSTEM, ProtocolError
from stage.contract.fields import is_clean_text
from stage.contract.signals import is_session, is_signal, monitor_choice, validate_signal
from stage.direct import prepared_writer
from stage.projections import CONSOLE, console_view, conversation, greenroom_view
from stage.shared_reads import SharedReads

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 16 * 1024
STAGE_UNAVAILABLE = {
    "code": "unavailable",
    "field": None,
    "message": "The stage could not be saved just now; nothing changed. Try again.",
}
# A client asks for a snapshot when it sees a gap; more often than this, the requests are
# answered together by one snapshot when the second is up.
SNAPSHOT_INTERVAL_SECONDS = 1.0
# The sockets of an event asking at once (a dead server's, reconnecting here) share reads; the
# state and audit they get are shared too, and only read.
_snapshots = SharedReads(lambda event_id: database_sync_to_async(store.snapshot_with_audit)(event_id))
# Messages whose handlers reach the database only through `database_sync_to_async`, which closes
# the thread's old connections itself (see `StageSocketConsumer.dispatch`).
NO_CLEAN_UP_HOP = frozenset({"websocket.receive", "stage.signal"})


class StageSocketConsumer(AdmittedSocket):
    """A socket following one event's stage and sending commands as its admitted actor and role."""

    audience: str = CONSOLE
    presenter: str | None = None
    following = False
    has_joined = False  # `joined` ran (or began): `left` owes it its undoing
    # A producer's console sends a command per click; twenty a second is more than hands make.
    message_rate = 20.0
    message_burst = 60.0

    @property
    def event_id(self) -> int:
        return int(self.scope["url_route"]["kwargs"]["event_id"])

    async def opened(self) -> None:
        self.synced = False
        self.pending: list[tuple[str, int]] = []
        self.last_snapshot = 0.0
        self.snapshot_due: asyncio.Task | None = None
        self._prepared_writer = prepared_writer(self.scope)
        if not fanout.layer_works(self.event_id):
            # Its pushes could not reach it: the page tries again, with back-off, until they can.
            await self.expel(UNAVAILABLE)
            return
        await fanout.join(self.event_id, self)
        self.following = True
        if await self.resync():
            self.has_joined = True
            await self.joined()

    async def disconnect(self, code: int) -> None:
        if self.following:
            self.following = False
            if self.snapshot_due is not None:
                self.snapshot_due.cancel()
            await fanout.leave(self.event_id, self)
            if self.has_joined:
                self.has_joined = False
                await self.left()

    async def joined(self) -> None:
        """After the snapshot went out (the green room reports presence here)."""

    async def left(self) -> None:
        """After the socket stopped following (the green room reports the drop here, as `system`)."""

    async def dispatch(self, message: dict) -> None:
        """A page's message (a producer's take) straight to its handler. Channels hops to a thread
        and back before every handler, to close that thread's old database connections; on a busy
        server each hop waits its turn in the event loop's queue three times (the thread's answer,
        asyncio's shield, the task), which made most of a take's way to the mixer (bench_audience,
        README). These handlers' database calls close them on their own threads."""
        if message["type"] in NO_CLEAN_UP_HOP:
            await getattr(self, message["type"].replace(".", "_"))(message)
            return
        await super().dispatch(message)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            message = parse(text_data)
        except ProtocolError as error:
            log.warning("stage %s: unreadable message from %s: %s", self.event_id, self.actor, error.message)
            await self.send_json({"type": "error", "error": error.as_dict()})
            return
        if message == {"type": "snapshot"}:
            await self.request_snapshot()
            return
        if is_signal(message):
            await self.signal(message)
            return
        client_id = message.get("client_id")
        # An id the contract refuses (bad_text) is not echoed: the reply must pass the contract too.
        client_id = client_id if isinstance(client_id, str) and is_clean_text(client_id) else None
        try:
            outcome = await apply_and_broadcast(self.event_id, message, actor=self.actor, role=self.role)
        except DatabaseError:
            # Nothing was applied: the sender is told so (no ack), and may send it again.
            log.warning("stage %s: a command from %s found the database down", self.event_id, self.actor)
            await self.send_json({"type": "refused", "client_id": client_id, "error": STAGE_UNAVAILABLE})
            return
        if outcome.error is None:
            reply = {"type": "ack", "client_id": client_id, "version": outcome.state["version"]}
            await self.send_json(reply | {"applied": outcome.applied, "duplicate": outcome.duplicate})
            return
        refusal = {"type": "refused", "client_id": client_id, "error": outcome.error}
        if outcome.state is not None and outcome.error["code"] == "stale_version":
            refusal |= {"version": outcome.state["version"], "state": self.view(outcome.state)}
        await self.send_json(refusal)

    async def signal(self, message: dict) -> None:
        """Hand a WebRTC signal (stage/contract/signals.py) to the event's mixer, which answers
        this socket alone (`stage_signal`); refuse an offer at once when no mixer can answer."""
        session = message.get("session")
        try:
            validate_signal(message, self.role)
        except ProtocolError as error:
            log.warning("stage %s: bad signal from %s: %s", self.event_id, self.actor, error.message)
            # An offer whose session is readable is refused as that session's; anything else is an error.
            if message["type"] == "rtc_offer" and error.field != "session" and is_session(session):
                await self.send_json({"type": "rtc_refused", "session": session, "error": error.as_dict()})
            else:
                await self.send_json({"type": "error", "error": error.as_dict()})
            return
        # A presenter's peer is their line; a producer's is their actor name.
        peer = self.presenter if self.role == PRESENTER else self.actor
        if message["type"] == "monitor":
            mail = {"type": "monitor", "peer": peer, "listen": monitor_choice(message)}
        elif message["type"] == "talk_backstage":
            mail = {"type": "talk_backstage", "peer": peer, "on": message["on"]}
        else:
            kind = "presenter" if self.role == PRESENTER else "producer"
            mail = {"type": "rtc_offer", "peer": peer, "kind": kind, "session": session, "sdp": message["sdp"]}
            mail["reply_to"] = self.channel_name
        if not await mixer_mail.mixer_expected(self.event_id):
            why = "The bridge runs during rehearsal and the show only."
        elif not await mixer_mail.send(self.event_id, mail):
            why = "The bridge cannot be reached."
        else:
            return
        if message["type"] == "rtc_offer":
            await self.send_json({"type": "rtc_refused", "session": session, "error": bridge_off(why)})

    async def stage_signal(self, message: dict) -> None:
        """The mixer's answer to this socket's signal (streaming/reports.py sends it here)."""
        await self.send_json(message["message"])

    async def request_snapshot(self) -> None:
        """A snapshot now, or, within a second of the last one, one when the second is up."""
        wait = self.last_snapshot + SNAPSHOT_INTERVAL_SECONDS - time.monotonic()
        if wait <= 0:
            await self.resync()
        elif self.snapshot_due is None or self.snapshot_due.done():
            self.snapshot_due = asyncio.create_task(self._snapshot_after(wait))

    async def _snapshot_after(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        if self.following:
            await self.resync()

    async def resync(self) -> bool:
        """Send a full snapshot, then the pushes that arrived meanwhile and are newer than it.
        Without the database no snapshot can be made: the socket is closed for the page to
        reconnect (False)."""
        self.synced = False
        self.last_snapshot = time.monotonic()
        try:
            state, audit = await _snapshots.get(self.event_id)
        except DatabaseError:
            log.warning("stage %s: no snapshot for %s, the database is down; closed", self.event_id, self.actor)
            with contextlib.suppress(Exception):  # what it undoes may need the database too
                await self.disconnect(UNAVAILABLE.close_code)
            await self.expel(UNAVAILABLE)
            return False
        await self.send_json(self.snapshot_message(state, audit))
        while self.pending:
            text, version = self.pending.pop(0)
            if version > state["version"]:
                await self.base_send({"type": "websocket.send", "text": text})
        self.synced = True
        return True

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
        return console_view(state) if self.audience == CONSOLE else greenroom_view(state)

    def snapshot_message(self, state: dict, audit: list[dict]) -> dict:
        message = {"type": "snapshot", "version": state["version"], "state": self.view(state)}
        if self.audience == CONSOLE:
            message["audit"] = audit
        elif self.presenter is not None:
            message["conversation"] = conversation(state, self.presenter)
        return message | {"server_time": time.time(), "heartbeat": settings.STAGE_HEARTBEAT_SECONDS}


def bridge_off(message: str) -> dict:
    return {"code": "bridge_unavailable", "field": None, "message": message}


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


# (event id, producer actor) -> consoles open in this process.
_open_consoles: collections.Counter = collections.Counter()


class ConsoleConsumer(StageSocketConsumer):
    """The producers' console of one event: producers of that event only."""

    audience = CONSOLE

    async def joined(self) -> None:
        _open_consoles[(self.event_id, self.actor)] += 1

    async def left(self) -> None:
        """A producer whose last console here closed stops talking back: nobody is left to let go
        of the talk button. A fact about now, reported by the server (`system`)."""
        key = (self.event_id, self.actor)
        _open_consoles[key] -= 1
        if _open_consoles[key] > 0:
            return
        del _open_consoles[key]
        stop = {"type": "set_talkback", "presenters": [], "all": False}
        outcome = await apply_and_broadcast(self.event_id, stop, actor=self.actor, role=SYSTEM)
        if outcome.error is not None:
            log.warning("stage %s: talkback of %s not stopped: %s", self.event_id, self.actor, outcome.error)

    async def admit(self) -> Admission | Refusal:
        user = self.scope.get("user")
        if user is None or not await _is_producer(self.event_id, user):
            who = "anonymous" if user is None or not user.is_authenticated else f"user:{user.get_username()}"
            log.warning("stage %s: console refused to %s", self.event_id, who)
            return Refusal("forbidden", "Only this event's producers may open its console.")
        return Admission(PRODUCER, f"user:{user.get_username()}")
