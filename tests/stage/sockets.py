"""Console sockets in-process: the real WebSocket stack (origin check, session auth, routing)
driven by Channels' WebsocketCommunicator, keeping the state from the snapshot and the deltas.
Every message received is checked against the stage contract (tests/messages.py)."""

import json

from channels.auth import AuthMiddlewareStack
from channels.routing import URLRouter
from channels.security.websocket import AllowedHostsOriginValidator
from channels.testing import WebsocketCommunicator
from django.test import Client

from stage.delta import apply_delta
from stage.routing import websocket_urlpatterns
from tests.messages import CONSOLE, audience_of, received

application = AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
ORIGIN = (b"origin", b"http://127.0.0.1")
# How long to wait for the next message: a condition waited on, so only a failure takes this long
# (a presence push under a machine loaded by other work once took more than 5 s).
TIMEOUT = 15


def session_cookie(user) -> bytes:
    """The session cookie of `user` signed in (sync: call outside the event loop)."""
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


class Console:
    def __init__(self, event_id: int, cookie: bytes | None = None, origin: tuple = ORIGIN):
        headers = [origin] + ([(b"cookie", cookie)] if cookie else [])
        self.socket = WebsocketCommunicator(application, f"/ws/events/{event_id}/console/", headers=headers)
        self.state: dict | None = None
        self.audit: list = []
        self.sent = 0

    async def open(self) -> "Console":
        connected, _ = await self.socket.connect(timeout=TIMEOUT)
        assert connected
        snapshot = await self.next()
        assert snapshot["type"] == "snapshot"
        return self

    async def next(self) -> dict:
        message = received(await self.socket.receive_from(timeout=TIMEOUT), CONSOLE)
        if message["type"] == "snapshot":
            self.state, self.audit = message["state"], message["audit"]
        elif message["type"] == "refused" and "state" in message:
            self.state = message["state"]
        elif message["type"] == "delta":
            assert message["base"] == self.state["version"], "a gap in the deltas"
            self.state = apply_delta(self.state, message, message["version"])
            self.audit.append(message["audit"])
        return message

    async def until(self, type_: str) -> dict:
        while True:
            message = await self.next()
            if message["type"] == type_:
                return message

    async def until_state(self, condition) -> dict:
        """Follow the pushes until the state meets `condition`."""
        while not condition(self.state):
            await self.next()
        return self.state

    async def send(self, type_: str, *, version: int | None = None, client_id: str | None = None, **fields) -> str:
        self.sent += 1
        client_id = client_id or f"{id(self)}-{self.sent}"
        version = self.state["version"] if version is None else version
        await self.socket.send_to(json.dumps({"type": type_, "version": version, "client_id": client_id} | fields))
        return client_id

    async def command(self, type_: str, **fields) -> dict:
        """Send and return the ack or refusal; after an ack, wait until the state includes it."""
        client_id = await self.send(type_, **fields)
        while True:
            message = await self.next()
            if message["type"] in ("ack", "refused") and message["client_id"] == client_id:
                while message["type"] == "ack" and self.state["version"] < message["version"]:
                    await self.next()
                return message

    async def close(self) -> None:
        await self.socket.disconnect()


async def refusal_of(socket: WebsocketCommunicator) -> tuple[dict, int]:
    """The typed error a refused socket is told, and the code it is then closed with."""
    told = await socket.receive_output(timeout=TIMEOUT)
    assert told["type"] == "websocket.send", told
    closing = await socket.receive_output(timeout=TIMEOUT)
    assert closing["type"] == "websocket.close", closing
    return received(told["text"], audience_of(socket.scope["path"]))["error"], closing["code"]
