"""One push, framed once, to many sockets of this process.

Under daphne each ASGI send of a text goes through Channels' session wrapper, daphne's reply
handling and autobahn, which frames the message anew for every socket. For a push that goes to
every socket of an event, autobahn's own broadcast API frames it once (`PreparedMessage`) and
writes it to each connection (`sendPreparedMessage`). The server's send callable (daphne's
`partial(handle_reply, protocol)`) is kept in the scope by `ServerSendMiddleware`; under any
other server, and in tests, `prepared_writer` returns None and pushes take the ASGI send.
"""

import functools
from collections.abc import Callable

from autobahn.twisted.websocket import WebSocketServerProtocol
from autobahn.websocket.protocol import PreparedMessage

SCOPE_KEY = "stage.server_send"


class ServerSendMiddleware:
    """Outermost WebSocket middleware: keeps the server's own send callable in the scope."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        return await self.app({**scope, SCOPE_KEY: send}, receive, send)


def prepare(text: str) -> PreparedMessage:
    """A text message framed once for any number of server-side connections."""
    return PreparedMessage(text.encode(), isBinary=False, applyMask=False, doNotCompress=False)


def prepared_writer(scope: dict) -> Callable[[PreparedMessage], None] | None:
    """A function writing a prepared message straight to this socket's connection, or None."""
    send = scope.get(SCOPE_KEY)
    if not isinstance(send, functools.partial) or not send.args:
        return None
    protocol = send.args[0]
    if not isinstance(protocol, WebSocketServerProtocol):
        return None

    def write(prepared: PreparedMessage) -> None:
        if protocol.state == protocol.STATE_OPEN:
            protocol.sendPreparedMessage(prepared)

    return write
