"""A push framed once and written straight to daphne's connections, and the fallback elsewhere."""

import functools
import json

from autobahn.twisted.websocket import WebSocketServerFactory, WebSocketServerProtocol
from twisted.internet.testing import StringTransport

from stage.direct import SCOPE_KEY, prepare, prepared_writer


def open_protocol() -> tuple[WebSocketServerProtocol, StringTransport]:
    factory = WebSocketServerFactory()
    factory.protocol = WebSocketServerProtocol  # the Twisted one, as daphne's protocol is
    protocol = factory.buildProtocol(None)
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.state = protocol.STATE_OPEN
    transport.clear()
    return protocol, transport


async def daphne_like_send(protocol, message):
    """Stands for daphne's Server.handle_reply; only its shape (a partial over the protocol) matters."""


def test_a_prepared_text_is_one_final_unmasked_text_frame_written_to_each_connection():
    text = json.dumps({"type": "delta", "version": 7, "set": {"phase": "live"}, "unset": []})
    message = prepare(text)
    written = []
    for _ in range(3):
        protocol, transport = open_protocol()
        write = prepared_writer({SCOPE_KEY: functools.partial(daphne_like_send, protocol)})
        write(message)
        written.append(transport.value())
    payload = text.encode()
    assert written == [bytes([0x81, len(payload)]) + payload] * 3


def test_a_long_text_uses_the_16_bit_length():
    payload = ("x" * 300).encode()
    protocol, transport = open_protocol()
    prepared_writer({SCOPE_KEY: functools.partial(daphne_like_send, protocol)})(prepare("x" * 300))
    assert transport.value() == bytes([0x81, 126]) + (300).to_bytes(2, "big") + payload


def test_a_closing_connection_gets_nothing():
    protocol, transport = open_protocol()
    protocol.state = protocol.STATE_CLOSING
    prepared_writer({SCOPE_KEY: functools.partial(daphne_like_send, protocol)})(prepare("late"))
    assert transport.value() == b""


def test_other_servers_and_tests_take_the_asgi_send():
    async def send(message):
        pass

    assert prepared_writer({}) is None
    assert prepared_writer({SCOPE_KEY: send}) is None
    assert prepared_writer({SCOPE_KEY: functools.partial(daphne_like_send, object())}) is None
