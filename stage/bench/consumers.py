"""The two paths the benchmark compares, both behind the same command path (validate, store,
audit log): the stage's own (one feed per process and event, pre-serialised pushes) and the
textbook Channels group (every socket in the group, each handler serialising and sending)."""

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from stage import store
from stage.broadcast import push_message
from stage.contract.commands import PRODUCER, validate_command
from stage.greenroom import GreenRoomConsumer

TEXTBOOK_GROUP = "bench.textbook.{event_id}"


class BenchPresenterConsumer(GreenRoomConsumer):
    """The green-room socket without its presence reports, which would add commands of their own
    to the stream the benchmark measures."""

    async def joined(self) -> None:
        pass

    async def left(self) -> None:
        pass


class TextbookConsumer(AsyncWebsocketConsumer):
    """The textbook way: each socket joins the event's group; the sender's consumer applies the
    command and group_sends the change; every consumer serialises it and sends it."""

    async def connect(self) -> None:
        self.event_id = int(self.scope["url_route"]["kwargs"]["event_id"])
        self.group = TEXTBOOK_GROUP.format(event_id=self.event_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        state = await database_sync_to_async(store.snapshot)(self.event_id)
        await self.send(text_data=json.dumps({"type": "snapshot", "version": state["version"], "state": state}))

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        command = validate_command(json.loads(text_data), PRODUCER)
        outcome = await database_sync_to_async(store.submit)(self.event_id, command, actor="bench", role=PRODUCER)
        if outcome.applied:
            push = json.loads(push_message(outcome)["console"])
            await self.channel_layer.group_send(self.group, {"type": "stage.delta", "delta": push})

    async def stage_delta(self, message: dict) -> None:
        await self.send(text_data=json.dumps(message["delta"]))
