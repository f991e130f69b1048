"""WebSocket consumers: validate, authorise, apply through the store, broadcast. Nothing else."""

import json

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from events.models import Event
from stage import store
from stage.groups import meters_group, stage_group
from stage.protocol import PRODUCER, ProtocolError, may_send, validate_command

MAX_MESSAGE_BYTES = 16 * 1024


@database_sync_to_async
def _producer_snapshot(event_id: int, user) -> dict | None:
    event = Event.objects.filter(pk=event_id).first()
    if event is None or not event.is_producer(user):
        return None
    return store.load_state(event).document


class ConsoleConsumer(AsyncWebsocketConsumer):
    """The producers' console of one event."""

    role = PRODUCER

    async def connect(self) -> None:
        self.event_id = int(self.scope["url_route"]["kwargs"]["event_id"])
        user = self.scope.get("user")
        state = await _producer_snapshot(self.event_id, user) if user else None
        if state is None:
            await self.close(code=4403)
            return
        self.actor = f"user:{user.pk}"
        self.groups_joined = [stage_group(self.event_id), meters_group(self.event_id)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "snapshot", "state": state})

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            command = self._parse(text_data)
        except ProtocolError as error:
            await self.send_json({"type": "error", "error": error.as_dict()})
            return
        if command["type"] == "snapshot":
            state = await database_sync_to_async(store.snapshot)(self.event_id)
            await self.send_json({"type": "snapshot", "state": state})
            return
        if not may_send(self.role, command["type"]):
            await self.send_json(
                {
                    "type": "refused",
                    "client_id": command["client_id"],
                    "error": {"code": "forbidden", "field": "type", "message": "Not allowed for your role."},
                }
            )
            return
        outcome = await database_sync_to_async(store.submit)(self.event_id, command, actor=self.actor)
        if outcome.error:
            await self.send_json(
                {"type": "refused", "client_id": command["client_id"], "error": outcome.error, "state": outcome.state}
            )
            return
        await self.send_json({"type": "ack", "client_id": command["client_id"], "version": outcome.state["version"]})
        if outcome.applied:
            await self.channel_layer.group_send(
                stage_group(self.event_id),
                {"type": "stage.state", "state": outcome.state, "events": outcome.events},
            )

    def _parse(self, text_data: str | None) -> dict:
        if text_data is None or len(text_data) > MAX_MESSAGE_BYTES:
            raise ProtocolError("malformed", "Commands are JSON text messages of at most 16 KiB.")
        try:
            message = json.loads(text_data)
        except ValueError:
            raise ProtocolError("malformed", "Not valid JSON.") from None
        if isinstance(message, dict) and message.get("type") == "snapshot" and set(message) == {"type"}:
            return message
        return validate_command(message)

    async def stage_state(self, message: dict) -> None:
        await self.send_json({"type": "state", "state": message["state"], "events": message["events"]})

    async def mixer_report(self, message: dict) -> None:
        await self.send_json(message["report"])

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content))
