"""The policy at open time, with real FFmpeg through PyAV, on loopback only: what FFmpeg is allowed
to open (protocol and demuxer whitelists, no redirects), at which address, and what the mixer says
when it refuses. 127.0.0.2 plays an address outside the policy: loopback, never off this machine."""

import contextlib
import functools
import io
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import av
import numpy as np
import pytest

from events.harness import wait_for
from stage.sources.checks import PROBED_FORMATS, admit_source
from stage.sources.policy import SourcePolicy
from streaming.core.engine import MixEngine
from streaming.core.lines import HEALTH_FAULTED, HEALTH_OK
from streaming.policed import policed_spec

SR = 48000
ALLOWED, OUTSIDE = "127.0.0.1", "127.0.0.2"
POLICY = SourcePolicy.from_config(networks=[f"{ALLOWED}/32"])


def no_names(host: str) -> list[str]:
    pytest.fail(f"{host!r} would have been resolved")


def encoded(container_format: str, codec: str, seconds: float = 2.0, frequency: float = 440.0) -> bytes:
    """A mono tone in this container, as bytes."""
    t = np.arange(round(seconds * SR)) / SR
    samples = (0.3 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)
    out = io.BytesIO()
    with av.open(out, "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=SR, layout="mono")
        step = 1152
        for start in range(0, len(samples) - step, step):
            frame = av.AudioFrame.from_ndarray(samples[None, start : start + step], format="flt", layout="mono")
            frame.sample_rate = SR
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return out.getvalue()


WAV = encoded("wav", "pcm_s16le")


class Site:
    """A loopback HTTP server: `routes` maps a path to (status, headers, body); every request is
    recorded with its Host header."""

    def __init__(self, host: str, routes: dict):
        site = self
        self.requests: list[tuple[str, str]] = []
        self.routes = routes

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.requests.append((self.path, self.headers.get("Host")))
                status, headers, body = site.routes.get(self.path, (404, {}, b""))
                self.send_response(status)
                for name, value in (headers | {"Content-Length": str(len(body))}).items():
                    self.send_header(name, value)
                self.end_headers()
                with contextlib.suppress(OSError):
                    self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sites():
    opened = []

    def open_site(host: str, routes: dict | None = None) -> Site:
        site = Site(host, routes or {})
        opened.append(site)
        return site

    yield open_site
    for site in opened:
        site.close()


@pytest.fixture
def readers(readers):
    """Readers that decode as fast as they are read (the sources here are files and loopback)."""
    return functools.partial(readers, realtime=False)




def test_a_redirect_is_not_followed_to_an_address_the_policy_never_checked(sites, readers):
    target = sites(OUTSIDE, {"/tone.wav": (200, {}, WAV)})
    redirector = sites(ALLOWED, {"/line": (302, {"Location": f"{target.url}/tone.wav"}, b"")})
    reader = readers(policed_spec("a", f"{redirector.url}/line", policy=POLICY, resolve=no_names))
    wait_for(lambda: reader.health == HEALTH_FAULTED and reader.opens >= 2, 5, "the line's health")
    assert redirector.requests and target.requests == []
    assert reader.fault is None  # not the policy's refusal: FFmpeg's own "no redirects"
    # Left to itself FFmpeg follows the redirect: the fence above is what kept it off the target.
    with av.open(f"{redirector.url}/line", timeout=5) as container:
        assert container.streams.audio
    assert [path for path, _ in target.requests] == ["/tone.wav"]


def test_a_name_is_opened_at_the_address_that_was_checked(sites, readers):
    """The checked address replaces the name, so FFmpeg never asks DNS itself: here the resolver
    says localhost is 127.0.0.2, where the line is served; the system would say 127.0.0.1."""
    site = sites(OUTSIDE, {"/tone.wav": (200, {}, WAV)})
    port = site.server.server_address[1]
    policy = SourcePolicy.from_config(networks=["127.0.0.0/8"])
    reader = readers(
        policed_spec("a", f"http://localhost:{port}/tone.wav", policy=policy, resolve=lambda host: [OUTSIDE])
    )
    assert reader.read_frame(wait=5.0).any()
    assert reader.health == HEALTH_OK
    assert site.requests[0] == ("/tone.wav", f"localhost:{port}")


def test_a_name_resolving_outside_the_policy_is_refused_and_never_contacted(sites, readers):
    site = sites(OUTSIDE, {"/tone.wav": (200, {}, WAV)})
    port = site.server.server_address[1]
    reader = readers(
        policed_spec("a", f"http://encoder.test:{port}/tone.wav", policy=POLICY, resolve=lambda host: [OUTSIDE])
    )
    wait_for(lambda: reader.health == HEALTH_FAULTED, 5, "the line's health")
    assert (
        reader.fault == "encoder.test resolves to 127.0.0.2, a loopback address: lines may not reach it on this server."
    )
    time.sleep(0.6)  # a retry or two
    assert site.requests == []


@contextlib.contextmanager
def ffmpeg_log():
    """FFmpeg's log lines meanwhile (the mixer keeps PyAV's log forwarding off)."""
    level = av.logging.get_level()
    av.logging.set_level(av.logging.VERBOSE)
    try:
        with av.logging.Capture() as logs:
            yield logs
    finally:
        av.logging.set_level(level)


def whitelist_refusals(logs) -> list[str]:
    return [text.strip() for _, _, text in logs if "not on whitelist" in text]


@pytest.mark.parametrize("wrapper", ["async", "cache", "crypto", "subfile,,start,0,end,0,,", "concat", "concatf"])
def test_ffmpeg_itself_refuses_a_protocol_wrapped_around_an_allowed_one(sites, wrapper):
    """The whitelist is applied by FFmpeg to every protocol it opens, the first one included."""
    site = sites(ALLOWED, {"/tone.wav": (200, {}, WAV)})
    admission = admit_source(f"{site.url}/tone.wav", None, POLICY, no_names)
    with av.open(admission.target, options=admission.options, timeout=5) as container:
        assert container.format.name == "wav"  # the options are accepted: the plain source opens
    with ffmpeg_log() as logs, pytest.raises(av.error.FFmpegError):
        av.open(f"{wrapper}:{admission.target}", options=admission.options, timeout=5)
    name = wrapper.split(",")[0]
    assert whitelist_refusals(logs) == [f"Protocol '{name}' not on whitelist 'http,tcp'!"]
    assert len(site.requests) == 1


def hls_playlist(key_url: str, segment_url: str) -> bytes:
    return (
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
        f'#EXT-X-KEY:METHOD=AES-128,URI="{key_url}"\n'
        f"#EXTINF:2.0,\n{segment_url}\n#EXT-X-ENDLIST\n"
    ).encode()


def test_a_playlist_that_would_open_further_urls_is_refused_by_the_demuxer_whitelist(sites, readers):
    segments = sites(OUTSIDE, {"/0.ts": (200, {}, WAV), "/key": (200, {}, bytes(16))})
    playlist = hls_playlist(f"{segments.url}/key", f"{segments.url}/0.ts")
    site = sites(ALLOWED, {"/live.m3u8": (200, {}, playlist)})
    reader = readers(policed_spec("a", f"{site.url}/live.m3u8", policy=POLICY, resolve=no_names))
    wait_for(lambda: reader.health == HEALTH_FAULTED and reader.opens >= 2, 5, "the line's health")
    assert site.requests and segments.requests == []
    # The hls demuxer, were it allowed, would fetch the key and segments nobody checked.
    admission = admit_source(f"{site.url}/live.m3u8", None, POLICY, no_names)
    options = admission.options | {"format_whitelist": f"{PROBED_FORMATS},hls"}
    with contextlib.suppress(av.error.FFmpegError), av.open(admission.target, options=options, timeout=5):
        pass
    assert [path for path, _ in segments.requests] == ["/key"]


def test_a_nested_protocol_a_demuxer_opens_is_refused_by_ffmpeg_itself(sites):
    """Behind the demuxer whitelist, the protocol whitelist: an encrypted HLS segment is opened as
    crypto+http, which FFmpeg refuses on its own, so the segment is never fetched."""
    site = sites(ALLOWED, {"/0.ts": (200, {}, WAV), "/key": (200, {}, bytes(16))})
    site.routes["/live.m3u8"] = (200, {}, hls_playlist(f"{site.url}/key", f"{site.url}/0.ts"))
    admission = admit_source(f"{site.url}/live.m3u8", None, POLICY, no_names)
    options = admission.options | {"format_whitelist": f"{PROBED_FORMATS},hls"}
    with ffmpeg_log() as logs, contextlib.suppress(av.error.FFmpegError):
        av.open(admission.target, options=options, timeout=5).close()
    assert whitelist_refusals(logs) == ["Protocol 'crypto' not on whitelist 'http,tcp'!"]
    assert [path for path, _ in site.requests] == ["/live.m3u8", "/key"]
    unfenced = {name: value for name, value in options.items() if name != "protocol_whitelist"}
    with contextlib.suppress(av.error.FFmpegError):
        av.open(admission.target, options=unfenced, timeout=5).close()
    assert "/0.ts" in [path for path, _ in site.requests]


@pytest.mark.parametrize(
    ("container_format", "codec", "name"),
    [
        ("wav", "pcm_s16le", "a.wav"),
        ("mp3", "libmp3lame", "a.mp3"),
        ("adts", "aac", "a.aac"),
        ("ogg", "libopus", "a.ogg"),
        ("flac", "flac", "a.flac"),
        ("matroska", "aac", "a.mka"),
        ("mp4", "aac", "a.m4a"),
        ("mpegts", "mp2", "a.ts"),
        ("flv", "aac", "a.flv"),
    ],
)
def test_files_in_the_media_folder_play_in_every_probed_format(tmp_path, readers, container_format, codec, name):
    media = tmp_path / "media"
    media.mkdir()
    (media / name).write_bytes(encoded(container_format, codec))
    policy = SourcePolicy.from_config(media_root=media)
    reader = readers(policed_spec("a", f"file://{media}/{name}", policy=policy, resolve=no_names))
    assert reader.read_frame(wait=5.0).any()


def test_a_file_reached_through_a_symlink_out_of_the_media_folder_is_refused_at_open(tmp_path, readers):
    media, outside = tmp_path / "media", tmp_path / "outside.wav"
    media.mkdir()
    outside.write_bytes(WAV)
    (media / "walk-in.wav").write_bytes(WAV)
    policy = SourcePolicy.from_config(media_root=media)
    reader = readers(policed_spec("a", f"{media}/walk-in.wav", policy=policy, resolve=no_names))
    assert reader.read_frame(wait=5.0).any()
    # Swapped for a symlink after the line was accepted: the mixer checks again at every open.
    (media / "walk-in.wav").unlink()
    (media / "walk-in.wav").symlink_to(outside)
    again = readers(policed_spec("b", f"{media}/walk-in.wav", policy=policy, resolve=no_names))
    wait_for(lambda: again.health == HEALTH_FAULTED, 5, "the line's health")
    assert again.fault == f"{media}/walk-in.wav is outside the media folder {media}."


def free_udp_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((ALLOWED, 0))
            port = probe.getsockname()[1]
        if port % 2 == 0:  # RTP on an even port, RTCP on the next
            return port


@contextlib.contextmanager
def rtp_sender(port: int):
    """MPEG audio over RTP to 127.0.0.1:port until the block ends."""
    stop = threading.Event()

    def send() -> None:
        with av.open(f"rtp://{ALLOWED}:{port}", "w", format="rtp") as container:
            stream = container.add_stream("mp2", rate=SR, layout="stereo")
            for n in range(100_000):
                if stop.is_set():
                    break
                t = (np.arange(1152) + n * 1152) / SR
                tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
                frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
                frame.sample_rate, frame.pts = SR, n * 1152
                for packet in stream.encode(frame):
                    container.mux(packet)
                time.sleep(1152 / SR)

    thread = threading.Thread(target=send, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


def sdp(address: str, port: int) -> str:
    return f"v=0\no=- 0 0 IN IP4 {ALLOWED}\ns=line\nc=IN IP4 {address}\nt=0 0\nm=audio {port} RTP/AVP 14\n"


def test_an_sdp_line_plays_rtp_from_an_allowed_address_and_is_refused_for_another(tmp_path, readers):
    media = tmp_path / "media"
    media.mkdir()
    port = free_udp_port()
    (media / "studio.sdp").write_text(sdp(ALLOWED, port))
    (media / "other.sdp").write_text(sdp(OUTSIDE, port))
    policy = SourcePolicy.from_config(networks=[f"{ALLOWED}/32"], media_root=media)
    with rtp_sender(port):
        reader = readers(policed_spec("a", f"{media}/studio.sdp", policy=policy, resolve=no_names))
        refused = readers(policed_spec("b", f"{media}/other.sdp", policy=policy, resolve=no_names))
        wait_for(lambda: reader.health == HEALTH_OK, 10, "the line's health")
        wait_for(lambda: refused.health == HEALTH_FAULTED, 5, "the line's health")
        reader.stop()  # while RTP still flows, so its read ends at once
    assert refused.fault == (
        "The SDP file connects to 127.0.0.2, a loopback address: lines may not reach it on this server."
    )


def test_the_mixer_reports_why_a_line_was_refused(tmp_path):
    reports = []
    engine = MixEngine(tmp_path, on_report=reports.append)
    engine.set_lines([policed_spec("a", "http://169.254.169.254/latest/meta-data/", policy=POLICY, resolve=no_names)])
    stop = threading.Event()
    thread = threading.Thread(target=engine.run, args=(stop,))
    thread.start()
    try:
        wait_for(lambda: any(r.get("health") == HEALTH_FAULTED for r in reports), 5, "the line's health")
    finally:
        stop.set()
        thread.join(5)
    faulted = [r for r in reports if r["type"] == "line_health" and r["health"] == HEALTH_FAULTED]
    assert faulted[0] == {
        "type": "line_health",
        "line": "a",
        "health": "faulted",
        "fault": "169.254.169.254 is a link-local address: lines may not reach it on this server.",
    }
