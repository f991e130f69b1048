"""The way of WebRTC signals to the mixer and of its answers back: control frames on the embedded
pipe and entries in the Redis stream, the mixer's dispatch, and answers routed to one socket."""

import io
import json
import threading

import pytest

from events.harness import wait_for
from stage.groups import meters_group
from streaming import reports
from streaming.core.peers import PRODUCER_PEER, PeerAudio
from streaming.signalling import Signalling
from streaming.uplink import Uplinks, encode_control, encode_frame, read_frames, send_control, stream_key


def test_control_frames_round_trip_between_slices_and_never_reach_a_line():
    message = {"type": "rtc_offer", "peer": "p1", "kind": "presenter", "session": "s", "sdp": "v=0\r\n…"}
    pipe = io.BytesIO(
        encode_frame("p1", "a", 0, b"header") + encode_control(message) + encode_frame("p1", "a", 1, b"x")
    )
    assert [frame[0] for frame in read_frames(io.BytesIO(pipe.getvalue()))] == ["p1", "", "p1"]
    controls = []
    uplinks = Uplinks(1, on_control=controls.append)
    uplinks.receive_from_pipe(pipe).join(5)
    assert controls == [message]
    assert list(uplinks._buffers) == ["p1"]


def test_a_broken_control_message_is_dropped_and_the_reader_goes_on():
    def fails(message):
        raise KeyError("peer")

    pipe = io.BytesIO(
        encode_frame("", "", 0, b"{not json") + encode_control({"type": "x"}) + encode_frame("p2", "a", 0, b"h")
    )
    uplinks = Uplinks(1, on_control=fails)
    uplinks.receive_from_pipe(pipe).join(5)
    assert list(uplinks._buffers) == ["p2"]


def test_scaled_out_control_messages_go_through_the_stream(settings):
    if not settings.REDIS_URL:
        pytest.skip("the Redis stream is the scaled-out transport")
    import redis

    event_id = 900_000 + threading.get_ident() % 1000
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.delete(stream_key(event_id))
    controls = []
    stop = threading.Event()
    Uplinks(event_id, on_control=controls.append).receive_from_redis(stop)
    try:
        # The reader starts at the stream's end: wait until it has looked before sending.
        message = {"type": "monitor", "peer": "user:alice", "listen": "program"}
        wait_for(lambda: send_and_seen(event_id, message, controls), 10, "the control message read from Redis")
    finally:
        stop.set()
        client.delete(stream_key(event_id))
        client.close()


def send_and_seen(event_id, message, controls) -> bool:
    import asyncio

    if not controls:
        asyncio.run(send_control(event_id, message))
    return bool(controls) and controls[0] == message


class FakeLayer:
    def __init__(self):
        self.sent, self.grouped = [], []

    async def send(self, channel, message):
        self.sent.append((channel, message))

    async def group_send(self, group, message):
        self.grouped.append((group, message))


def test_the_forwarder_sends_an_addressed_report_to_that_socket_alone(monkeypatch):
    layer = FakeLayer()
    monkeypatch.setattr(reports, "get_channel_layer", lambda: layer)
    forwarder = reports.Forwarder()
    answer = {"type": "rtc_answer", "to": "specific.abc!def", "session": "s-1", "sdp": "v=0"}
    forwarder.forward(7, answer)
    forwarder.forward(7, {"type": "fallback", "active": True})
    wait_for(lambda: layer.sent and layer.grouped, 5, "both reports sent")
    assert layer.sent == [
        (
            "specific.abc!def",
            {"type": "stage.signal", "message": {"type": "rtc_answer", "session": "s-1", "sdp": "v=0"}},
        )
    ]
    assert [group for group, _ in layer.grouped] == [meters_group(7)]


def test_without_the_bridge_an_offer_is_refused_to_its_socket_and_monitors_wait_for_their_peer():
    told, peers = [], {}
    signalling = Signalling(peers.__setitem__, told.append, enabled=False)
    signalling.on_control(
        {"type": "rtc_offer", "peer": "p1", "kind": "presenter", "session": "s", "sdp": "v=0", "reply_to": "c!1"}
    )
    assert told == [
        {
            "type": "rtc_refused",
            "session": "s",
            "to": "c!1",
            "error": {"code": "bridge_unavailable", "field": None, "message": "WebRTC is off on this server."},
        }
    ]
    signalling.on_control({"type": "monitor", "peer": "user:alice", "listen": "line:p1"})
    alice = PeerAudio("user:alice", PRODUCER_PEER)
    signalling.on_peer("user:alice", alice)
    assert peers == {"user:alice": alice} and alice.monitor == "line:p1"
    assert json.dumps(told)  # reports are JSON lines on the embedded pipe
