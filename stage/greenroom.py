"""The presenters' green-room socket: their view of the stage, their own commands, their presence.

A presenter is admitted by their magic link (presenter id and key in the path, the same rules as
registrants' join links). Presence follows the presenter's sockets in this process: the first one
to open reports them connected; when the last one closes and none opens again within
STAGE_PRESENCE_GRACE_SECONDS, the drop is reported (which the machine turns into "off air, back
to the green room"). A second tab, a reload or a reconnect after a network blip therefore never
flickers the console nor costs a presenter their place on air. Behind a proxy the new socket may
open on another server process: before reporting a drop, this process asks the presenter's group
(every process's sockets of theirs are in it) whether any socket is still there, and a socket that
answers within STAGE_PRESENCE_PROBE_SECONDS keeps them connected. A drop that cannot be written
(PostgreSQL is down) is tried again, with growing pauses, until it is written or the presenter
is back; only the end of this process loses it.
"""

import asyncio
import collections
import contextlib
import logging

from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import InterfaceError, OperationalError

from events.access import access_key_matches
from events.models import Presenter
from stage.admission import (
    GUESSING,
    Admission,
    AdmittedSocket,
    Refusal,
    count_wrong_link,
    link_guessing_blocked,
)
from stage.broadcast import apply_and_broadcast
from stage.consumers import StageSocketConsumer
from stage.contract.commands import PRESENTER, SYSTEM, presenter_actor
from stage.groups import presenter_group
from stage.projections import GREENROOM
from stage.shared_reads import SharedReads

log = logging.getLogger(__name__)

# (event id, presenter id) -> sockets open in this process.
_open_sockets: collections.Counter = collections.Counter()
# Drops waiting out their grace (kept referenced, so the loop does not lose them).
_pending_drops: set[asyncio.Task] = set()
# Pauses between attempts to write a drop while the database is down: doubling, up to the last.
DROP_RETRY_FIRST_SECONDS = 0.5
DROP_RETRY_LONGEST_SECONDS = 5.0


def _roster(event_id: int) -> dict[int, tuple[str, str]]:
    """The event's presenters as the links name them: id → (access key, stage id)."""
    presenters = Presenter.objects.filter(event_id=event_id).only("pk", "access_key")
    return {presenter.pk: (presenter.access_key, presenter.line_id) for presenter in presenters}


# The green rooms of an event opening at once (a dead server's, reconnecting here) share one read
# of its roster, begun after each asked: a link revoked before it asked is never admitted.
_rosters = SharedReads(lambda event_id: database_sync_to_async(_roster)(event_id))


async def admitted_presenter(event_id: int, presenter_pk: int, key: str) -> str | None:
    """The stage id of the presenter this link belongs to, or None for a wrong or revoked link."""
    found = (await _rosters.get(event_id)).get(presenter_pk)
    if found is None or not access_key_matches(found[0], key):
        return None
    return found[1]


REVOKED = Refusal("revoked", "This link was revoked.")
WRONG_LINK = Refusal("forbidden", "This green-room link is wrong or was replaced; ask the organiser for a new one.")


async def admit_by_link(socket: AdmittedSocket, event_id: int) -> str | Refusal:
    """The stage id of the presenter whose link opened `socket`, or why it is refused. Wrong
    links count against the address, as join links do, so keys cannot be guessed over sockets."""
    address = socket.client_address()
    if await link_guessing_blocked(address):
        return GUESSING
    kwargs = socket.scope["url_route"]["kwargs"]
    presenter = await admitted_presenter(event_id, kwargs["presenter_pk"], kwargs["key"])
    if presenter is None:
        await count_wrong_link(address)
        log.warning("stage %s: a socket was refused (wrong or revoked link)", event_id)
        return WRONG_LINK
    return presenter


class GreenRoomConsumer(StageSocketConsumer):
    audience = GREENROOM
    # Check-in, ready, chat and cue acknowledgements: a person's pace.
    message_rate = 10.0
    message_burst = 30.0

    async def admit(self) -> Admission | Refusal:
        presenter = await admit_by_link(self, self.event_id)
        if isinstance(presenter, Refusal):
            return presenter
        self.presenter = presenter
        return Admission(PRESENTER, presenter_actor(presenter))

    async def joined(self) -> None:
        key = (self.event_id, self.presenter)
        _open_sockets[key] += 1
        self.counted = True
        await self.channel_layer.group_add(presenter_group(self.event_id, self.presenter), self.channel_name)
        if _open_sockets[key] == 1:
            await self._report_presence(True)

    async def left(self) -> None:
        if not getattr(self, "counted", False):
            return  # its joining failed before it counted
        self.counted = False
        with contextlib.suppress(Exception):  # a channel layer that is down forgot the group anyway
            await self.channel_layer.group_discard(presenter_group(self.event_id, self.presenter), self.channel_name)
        key = (self.event_id, self.presenter)
        _open_sockets[key] -= 1
        if _open_sockets[key] <= 0:
            del _open_sockets[key]
            # After this socket is gone: the grace runs on the server's loop, not the consumer's.
            task = asyncio.get_running_loop().create_task(self._drop_unless_back(key))
            _pending_drops.add(task)
            task.add_done_callback(_pending_drops.discard)

    async def _drop_unless_back(self, key: tuple[int, str]) -> None:
        await asyncio.sleep(settings.STAGE_PRESENCE_GRACE_SECONDS)
        if not _open_sockets.get(key) and await self._held_elsewhere():
            log.info("stage %s: %s is back on another server process; no drop", self.event_id, self.presenter)
            return
        pause = DROP_RETRY_FIRST_SECONDS
        while not _open_sockets.get(key):
            try:
                await self._report_presence(False)
                return
            except ObjectDoesNotExist:  # the event was deleted meanwhile: nobody left to tell
                return
            except (OperationalError, InterfaceError) as error:  # the database is down: not lost, later
                log.warning("stage %s: the drop of %s is not written yet (%s); again in %.1f s",
                            self.event_id, self.presenter, error, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, DROP_RETRY_LONGEST_SECONDS)

    async def _held_elsewhere(self) -> bool:
        """Whether a socket of this presenter's is open in another server process: their group is
        asked, and any of its sockets answers on a channel of this process. An in-memory layer is
        this process's alone (its sockets are counted already); a layer that fails cannot tell, and
        the drop goes ahead as it would have."""
        layer = self.channel_layer
        if isinstance(layer, InMemoryChannelLayer):
            return False
        try:
            reply_to = await layer.new_channel()
            probe = {"type": "presence.probe", "reply_to": reply_to}
            await layer.group_send(presenter_group(self.event_id, self.presenter), probe)
            await asyncio.wait_for(layer.receive(reply_to), settings.STAGE_PRESENCE_PROBE_SECONDS)
        except TimeoutError:
            return False
        except Exception as error:  # Redis down: nobody can answer
            log.warning("stage %s: could not ask for %s's other sockets (%s)", self.event_id, self.presenter, error)
            return False
        return True

    async def presence_probe(self, message: dict) -> None:
        """Another server process asks whether this presenter still has a socket: this one is."""
        if getattr(self, "counted", False):
            await self.channel_layer.send(message["reply_to"], {"type": "presence.here"})

    async def presenter_revoked(self, message: dict) -> None:
        """Their link was revoked: this socket goes now, not at its next reconnect."""
        await self.expel(REVOKED)

    async def _report_presence(self, connected: bool) -> None:
        """Presence is a fact about now, reported by the server (`system`), never refused as stale."""
        command = {"type": "set_presence", "presenter": self.presenter, "connected": connected}
        outcome = await apply_and_broadcast(self.event_id, command, actor=presenter_actor(self.presenter), role=SYSTEM)
        if outcome.error is not None:
            log.warning("stage %s: presence of %s not recorded: %s", self.event_id, self.presenter, outcome.error)
