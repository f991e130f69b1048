"""autobahn's per-connection debug text is made only when written (config/autobahn_logs.py)."""

import pprint

from autobahn.websocket import protocol

from config.autobahn_logs import LazyPformat, defer_debug_formatting


def test_the_text_is_made_when_formatted_and_reads_as_pformat(monkeypatch):
    made = []
    monkeypatch.setattr(pprint, "pformat", lambda value: made.append(value) or f"<{value}>")
    attributes = [("openHandshakeTimeout", 5, "WebSocketServerFactory")]
    text = LazyPformat(attributes)
    assert made == []
    assert f"\n{text}" == f"\n<{attributes}>"
    assert made == [attributes]


def test_daphne_s_protocol_gets_the_lazy_one(monkeypatch):
    monkeypatch.setattr(protocol, "pformat", protocol.pformat)  # put back after the test
    defer_debug_formatting()
    assert protocol.pformat is LazyPformat
    assert str(protocol.pformat({"a": [1, 2]})) == pprint.pformat({"a": [1, 2]})
