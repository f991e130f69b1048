"""The embedded default's HLS file view: right types and caching, nothing outside an event's folder.
Every request here holds a media pass, got as a page gets it (tests/streaming_web/test_media_pass.py
shows the refusals without one)."""

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streaming import front
from tests.factories import make_event, make_producer
from tests.front import client_both_ways  # noqa: F401  (each test through Django, then through the front)
from tests.media import get_pass

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db]


def event_with_pass(client, slug: str) -> int:
    """A new event's id, for which `client` (one of its producers) holds a media pass."""
    event = make_event(slug=slug)
    client.force_login(make_producer(event, username=f"producer-{slug}"))
    get_pass(client, event.pk)
    return event.pk


@pytest.fixture
def event_dir(hls_root, client):
    directory = hls_root / str(event_with_pass(client, "seven"))
    directory.mkdir()
    (directory / "live.m3u8").write_text("#EXTM3U\n")
    (directory / "segment_000001.ts").write_bytes(b"\x47" * 188)
    (hls_root / "secret.ts").write_bytes(b"not yours")
    return directory


def test_playlist_is_served_uncached_with_the_hls_type(client, event_dir):
    response = client.get(f"/hls/{event_dir.name}/live.m3u8")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.apple.mpegurl"
    assert response["Cache-Control"] == "no-cache"
    assert response.content == b"#EXTM3U\n"


def test_segments_are_immutable_transport_streams(client, event_dir):
    response = client.get(f"/hls/{event_dir.name}/segment_000001.ts")
    assert response.status_code == 200
    assert response["Content-Type"] == "video/mp2t"
    assert "immutable" in response["Cache-Control"]
    assert response.content == b"\x47" * 188


@pytest.mark.parametrize(
    "name",
    ["missing.ts", "..%2Fsecret.ts", "live.m3u8.bak", "playlist_state.json", "line_envelopes.jsonl", ".ts"],
)
def test_anything_else_is_not_found(client, event_dir, name):
    (event_dir / "playlist_state.json").write_text("{}")
    assert client.get(f"/hls/{event_dir.name}/{name}").status_code == 404


def test_no_such_event_folder_is_not_found(client, hls_root):
    # The pass names an event the mixer has not written anything for (yet).
    assert client.get(f"/hls/{event_with_pass(client, 'eight')}/live.m3u8").status_code == 404
    assert client.get("/hls/x/live.m3u8").status_code == 404


def test_only_get_is_allowed(client, event_dir):
    assert client.post(f"/hls/{event_dir.name}/live.m3u8").status_code == 405


def test_head_gets_the_headers_without_the_body(client, event_dir):
    response = client.head(f"/hls/{event_dir.name}/segment_000001.ts")
    assert response.status_code == 200 and response.content == b""
    assert response["Content-Type"] == "video/mp2t" and response["Content-Length"] == "188"


@pytest.mark.parametrize("client", ["front"], indirect=True)
@pytest.mark.parametrize("query", ["_HLS_msn=5", "_HLS_msn=5&_HLS_part=0", "x=1&_HLS_skip=YES"])
def test_low_latency_reloads_are_left_to_django(client, event_dir, query):
    # Blocking playlist reloads are an async Django view's to hold open; the front stays simple.
    client.get(f"/hls/{event_dir.name}/live.m3u8?{query}")
    assert client.answered_by == "django"
    client.get(f"/hls/{event_dir.name}/live.m3u8?v=1")
    assert client.answered_by == "front"


@pytest.fixture
def recording(hls_root, client):
    directory = hls_root / str(event_with_pass(client, "nine"))
    directory.mkdir()
    (directory / "program.m4a").write_bytes(bytes(range(256)) * 4)  # 1024 bytes
    return directory


@pytest.mark.parametrize(
    ("header", "status", "content_range", "body"),
    [
        ("bytes=0-99", 206, "bytes 0-99/1024", bytes(range(100))),
        ("bytes=1000-", 206, "bytes 1000-1023/1024", bytes(range(232, 256))),
        ("bytes=-10", 206, "bytes 1014-1023/1024", bytes(range(246, 256))),
        ("bytes=1020-5000", 206, "bytes 1020-1023/1024", bytes(range(252, 256))),
        ("bytes=2000-", 416, "bytes */1024", b""),
        ("BYTES=0-0", 206, "bytes 0-0/1024", b"\x00"),
        ("bytes=-5000", 206, "bytes 0-1023/1024", bytes(range(256)) * 4),
        ("bytes=0-" + "9" * 5000, 206, "bytes 0-1023/1024", bytes(range(256)) * 4),
        ("bytes=" + "9" * 5000 + "-", 416, "bytes */1024", b""),
        ("bytes=-" + "9" * 5000, 206, "bytes 0-1023/1024", bytes(range(256)) * 4),
        ("bytes=" + "0" * 5000 + "-1", 206, "bytes 0-1/1024", b"\x00\x01"),
        ("bytes=5-3", 416, "bytes */1024", b""),
        ("bytes=-0", 416, "bytes */1024", b""),
        ("bytes=-", 416, "bytes */1024", b""),
        ("bytes=0-1,5-6", 416, "bytes */1024", b""),
        ("bytes=\u0663-", 416, "bytes */1024", b""),  # an Arabic-Indic digit is no byte position
        ("bytes=abc", 416, "bytes */1024", b""),
    ],
)
def test_the_recording_is_served_in_byte_ranges(client, recording, header, status, content_range, body):
    response = client.get(f"/hls/{recording.name}/program.m4a", HTTP_RANGE=header)
    assert response.status_code == status
    assert response["Content-Range"] == content_range
    assert response.content == body


def test_the_whole_recording_without_a_range(client, recording):
    response = client.get(f"/hls/{recording.name}/program.m4a")
    assert response.status_code == 200 and len(response.content) == 1024
    assert response["Accept-Ranges"] == "bytes" and response["Content-Type"] == "audio/mp4"
    assert response["Content-Disposition"] == f'attachment; filename="event-{recording.name}.m4a"'


@pytest.mark.parametrize("client", ["front"], indirect=True)
def test_the_front_sends_a_recording_in_pieces(client, recording, monkeypatch):
    monkeypatch.setattr(front, "CHUNK_BYTES", 100)
    whole = client.get(f"/hls/{recording.name}/program.m4a")
    part = client.get(f"/hls/{recording.name}/program.m4a", HTTP_RANGE="bytes=50-349")
    assert whole.content == bytes(range(256)) * 4 and part.content == (bytes(range(256)) * 4)[50:350]


def test_a_range_in_another_unit_is_ignored(client, recording):
    response = client.get(f"/hls/{recording.name}/program.m4a", HTTP_RANGE="items=0-1")
    assert response.status_code == 200 and len(response.content) == 1024


# Byte positions: none, ordinary numbers, and runs of digits longer than int() converts (4300).
POSITIONS = st.just("") | st.integers(0, 10**30).map(str) | st.integers(1, 6000).map(lambda n: "9" * n)
RANGE_HEADERS = st.one_of(
    st.text(),
    st.from_regex(r"\A\s*bytes=[0-9,\- ]{0,30}\s*\Z"),
    st.builds("bytes={}-{}".format, POSITIONS, POSITIONS),
)


@given(header=RANGE_HEADERS)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_range_header_is_served_or_refused_never_an_error(client, recording, header):
    response = client.get(f"/hls/{recording.name}/program.m4a", HTTP_RANGE=header)
    assert response.status_code in (200, 206, 416)
    whole = bytes(range(256)) * 4
    if response.status_code == 206:
        start, end = map(int, re.fullmatch(r"bytes (\d+)-(\d+)/1024", response["Content-Range"]).groups())
        assert response.content == whole[start : end + 1]
    elif response.status_code == 200:
        assert response.content == whole
