"""Which inputs a producer may give a line: FFmpeg input URLs, checked before they are accepted. Pure.

A line is either the presenter's browser (no source) or one of these, opened by the mixer with
PyAV: an encoder pushing RTMP or SRT, an RTP stream described by an SDP file, an HTTP(S) stream,
or a local file. Everything else FFmpeg understands (`concat:`, `subfile:`, `pipe:`, `lavfi`
graphs with `movie=`, ...) can read arbitrary files or run filters, so it is refused.
"""

from urllib.parse import urlsplit

NETWORK_SCHEMES = frozenset({"rtmp", "rtmps", "srt", "rtp", "udp", "http", "https"})
MAX_SOURCE_LENGTH = 500
# Demuxers a producer may name for a source; None lets FFmpeg probe.
FORMATS = frozenset({"sdp", "flv", "mpegts", "matroska", "ogg", "wav", "mp3", "aac", "mov"})


class SourceError(ValueError):
    """Why a line source is refused, in words a producer understands."""


def check_source(url: str, format: str | None = None) -> None:
    """Raise SourceError unless `url` (with optional demuxer `format`) is a line source we open."""
    if not url or len(url) > MAX_SOURCE_LENGTH:
        raise SourceError(f"A source is 1 to {MAX_SOURCE_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise SourceError("A source has no spaces or control characters.")
    if format is not None and format not in FORMATS:
        raise SourceError(f"Format must be one of {', '.join(sorted(FORMATS))}, or empty to probe.")
    if url.startswith("/"):
        return  # a local file (or an SDP file describing an RTP stream)
    parts = urlsplit(url)
    if parts.scheme == "file":
        if not parts.path.startswith("/") or parts.netloc:
            raise SourceError("A file source is an absolute path, like file:///srv/media/walk-in.mp3.")
        return
    if parts.scheme not in NETWORK_SCHEMES:
        allowed = ", ".join(sorted(NETWORK_SCHEMES | {"file"}))
        raise SourceError(f"Unsupported source {parts.scheme or url!r}: use {allowed}, or an absolute file path.")
    if not parts.hostname:
        raise SourceError("A network source names a host, like srt://encoder.example:9000.")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        raise SourceError("The port must be a number from 1 to 65535.") from None


def demuxer_options(url: str, format: str | None) -> dict[str, str]:
    """Options the demuxer needs for this source: an SDP file may only open RTP over UDP."""
    if format == "sdp" or url.endswith(".sdp"):
        return {"protocol_whitelist": "file,udp,rtp"}
    return {}
