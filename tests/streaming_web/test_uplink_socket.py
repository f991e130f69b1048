"""The browser microphone's socket, over the real transport of each mode (Redis streams scaled
out, the runner's pipe to its mixer child embedded): a presenter's slices reach their line in
the mixer byte for byte; someone else's line, garbage and a second connection are refused, and
garbage after a good header faults that line in the mixer and no other."""

import asyncio
import os
import threading
from types import SimpleNamespace

import numpy as np
import pytest
import redis
from channels.db import database_sync_to_async
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings

from events.harness import wait_for
from events.invitations import reissue_link
from events.models import Presenter
from stage.sources.policy import SourcePolicy
from streaming.core.lines import LineReader
from streaming.core.uplink import EBML_MAGIC
from streaming.routing import websocket_urlpatterns
from streaming.runners import ChildInput, get_runner
from streaming.uplink import Uplinks, headers_key, stream_key, uses_redis
from streaming.worker import line_specs
from tests.audio import tone_level, webm_opus_tone
from tests.factories import make_event
from tests.messages import UPLINK, received

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db(transaction=True)]

application = URLRouter(websocket_urlpatterns)


@pytest.fixture
def show():
    event = make_event("uplink-show")
    ada = Presenter.objects.create(event=event, name="Ada", position=1)
    bea = Presenter.objects.create(event=event, name="Bea", position=2)
    return event, ada, bea


@pytest.fixture
def mixer_side(show):
    """The mixer's end of the transport, receiving as a mixer of this event would."""
    event = show[0]
    uplinks, stop = Uplinks(event.pk), threading.Event()
    if uses_redis():
        client = redis.Redis.from_url(settings.REDIS_URL)
        client.delete(stream_key(event.pk), headers_key(event.pk))
        uplinks.receive_from_redis(stop)
    else:
        read_end, write_end = os.pipe()
        child = SimpleNamespace(pid=os.getpid(), stdin=open(write_end, "wb"))  # noqa: SIM115 - a child's stdin
        get_runner().inputs[event.pk] = ChildInput(child)
        uplinks.receive_from_pipe(open(read_end, "rb"))  # noqa: SIM115 - the mixer's stdin
    yield uplinks
    stop.set()
    if uses_redis():
        client.delete(stream_key(event.pk), headers_key(event.pk))
        client.close()
    else:
        get_runner().inputs.pop(event.pk).child.stdin.close()


def uplink(event, line: str, presenter: Presenter, key: str | None = None) -> WebsocketCommunicator:
    path = f"/ws/events/{event.pk}/lines/{line}/uplink/{presenter.pk}/{key or presenter.access_key}/"
    return WebsocketCommunicator(application, path)


async def next_message(socket: WebsocketCommunicator) -> dict:
    """What the socket says, checked against the stage contract."""
    return received(await socket.receive_from(timeout=5), UPLINK)


async def refused(socket: WebsocketCommunicator) -> tuple[dict, int]:
    message = await next_message(socket)
    while message["type"] == "uplink":  # a status sent before the refusal
        message = await next_message(socket)
    closed = await socket.receive_output(timeout=5)
    assert closed["type"] == "websocket.close"
    return message["error"], closed["code"]


def stream_of(uplinks: Uplinks, line: str, expected: int) -> bytes:
    """What the line's reader gets: the session's slices in order, read as the mixer reads them.
    (Run it in a thread of its own: Channels needs the database thread between messages.)"""
    stop = threading.Event()
    stream, data = uplinks.buffer(line).open(stop), b""
    while len(data) < expected and (chunk := stream.read(expected - len(data))):
        data += chunk
    return data


async def test_a_presenters_slices_reach_their_line_in_the_mixer_byte_for_byte(show, mixer_side):
    event, ada, _ = show
    slices = webm_opus_tone(440, 2.0)
    socket = uplink(event, ada.line_id, ada)
    assert (await socket.connect())[0]
    for piece in slices:
        await socket.send_to(bytes_data=piece)
    status = await next_message(socket)
    assert status["type"] == "uplink" and status["receiving"] is True
    sent = b"".join(slices)

    received = await asyncio.to_thread(stream_of, mixer_side, ada.line_id, len(sent))
    assert len(received) == len(sent) and received == sent
    await socket.disconnect()


async def test_a_presenter_cannot_send_to_another_presenters_line(show, mixer_side):
    event, ada, bea = show
    socket = uplink(event, bea.line_id, ada)
    assert (await socket.connect())[0]
    error, code = await refused(socket)
    assert (error["code"], code) == ("forbidden", 4403)
    await socket.disconnect()
    wrong_key = uplink(event, ada.line_id, ada, key=bea.access_key)
    assert (await wrong_key.connect())[0]
    assert (await refused(wrong_key))[1] == 4403
    await wrong_key.disconnect()
    assert mixer_side.buffer(bea.line_id).received == mixer_side.buffer(ada.line_id).received == 0


async def test_garbage_instead_of_a_webm_header_is_refused_and_goes_nowhere(show, mixer_side):
    event, ada, _ = show
    socket = uplink(event, ada.line_id, ada)
    assert (await socket.connect())[0]
    await socket.send_to(bytes_data=b"RIFF\x00\x00\x00\x00WAVEfmt not what we take")
    error, code = await refused(socket)
    assert (error["code"], code) == ("bad_media", 4400)
    assert "WebM" in error["message"]
    await socket.disconnect()
    text = uplink(event, ada.line_id, ada)
    assert (await text.connect())[0]
    await text.send_to(text_data='{"type": "audio"}')
    assert (await next_message(text))["error"]["code"] == "malformed"
    await text.disconnect()
    assert mixer_side.buffer(ada.line_id).received == 0


async def test_a_reconnecting_browser_takes_the_line_over_from_its_old_connection(show, mixer_side):
    event, ada, _ = show
    old = uplink(event, ada.line_id, ada)
    assert (await old.connect())[0]
    await old.send_to(bytes_data=EBML_MAGIC + b"first session")
    new = uplink(event, ada.line_id, ada)
    assert (await new.connect())[0]
    error, code = await refused(old)
    assert (error["code"], code) == ("superseded", 4409)
    slices = webm_opus_tone(880, 0.5)
    for piece in slices:
        await new.send_to(bytes_data=piece)
    sent = b"".join(slices)
    buffer = mixer_side.buffer(ada.line_id)
    # The old session's slice, then the new session's.
    await asyncio.to_thread(wait_for, lambda: buffer.received == 1 + len(slices), 5, "every slice at the mixer")
    assert await asyncio.to_thread(stream_of, mixer_side, ada.line_id, len(sent)) == sent
    await old.disconnect()
    await new.disconnect()


async def test_revoking_the_presenters_link_ends_their_uplink(show, mixer_side):
    event, ada, _ = show
    socket = uplink(event, ada.line_id, ada)
    assert (await socket.connect())[0]
    await database_sync_to_async(reissue_link)(ada)
    error, code = await refused(socket)
    assert (error["code"], code) == ("revoked", 4403)
    await socket.disconnect()


async def test_garbage_after_the_header_faults_that_line_in_the_mixer_and_no_other(show, mixer_side):
    event, ada, _ = show
    stage_lines = {
        ada.line_id: {"source": None, "format": None},
        "tone": {"source": "sine=frequency=660:sample_rate=48000", "format": "lavfi"},
    }
    specs = line_specs(stage_lines, mixer_side, SourcePolicy())
    readers = {spec.line_id: LineReader(spec) for spec in specs}
    for reader in readers.values():
        reader.start()
    try:
        socket = uplink(event, ada.line_id, ada)
        assert (await socket.connect())[0]
        await socket.send_to(bytes_data=webm_opus_tone(440, 0.5)[0])
        noise = np.random.default_rng(7)
        for _ in range(40):
            await socket.send_to(bytes_data=noise.integers(0, 256, 1500, dtype=np.uint8).tobytes())
        await asyncio.to_thread(wait_for, lambda: readers[ada.line_id].health == "faulted", 5, "the line to fault")
        tone = await asyncio.to_thread(lambda: [readers["tone"].read_frame(wait=0.5) for _ in range(25)])
        assert readers["tone"].health == "ok" and readers["tone"].underruns == 0
        assert tone_level(np.concatenate(tone, axis=1)[0], 660) > 0.05
        await socket.disconnect()
    finally:
        for reader in readers.values():
            reader.stop()


async def test_more_audio_than_a_microphone_sends_is_refused(show, mixer_side):
    event, ada, _ = show
    socket = uplink(event, ada.line_id, ada)
    assert (await socket.connect())[0]
    await socket.send_to(bytes_data=webm_opus_tone(440, 0.5)[0])
    for _ in range(8):  # 512 KiB at once: a minute of Opus
        await socket.send_to(bytes_data=bytes(64 * 1024))
    error, code = await refused(socket)
    assert (error["code"], code) == ("too_fast", 4400)
    await socket.disconnect()
    assert mixer_side.buffer(ada.line_id).received <= 6  # what the burst allowance let through
