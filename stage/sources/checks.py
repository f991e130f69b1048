"""Which inputs a producer may give a line, and how the mixer opens them. Pure (no Django).

A line is either the presenter's browser (no source) or one of these, opened by the mixer with
PyAV: an encoder pushing RTMP or SRT, an RTP stream (or one an SDP file describes), an HTTP(S)
stream, or a file in the media folder; organisers may also give a test tone (tones.py).
Two checks, against the operator's SourcePolicy:

- `check_source` when a producer or organiser gives the source: its form, scheme, any address
  written in it and, for a file, its folder. Names are not resolved here: the web server need
  not reach an encoder, and the answer could change before the mixer opens the line anyway.
- `admit_source` each time the mixer opens it: the same, then the name resolved and every
  address it has checked, and FFmpeg fenced in: a protocol whitelist (no nested protocol such
  as `concat:`, `subfile:`, `crypto+` or `hls+`), a demuxer whitelist (no playlist that opens
  further URLs), no HTTP redirects, and where the protocol allows it the checked address
  itself instead of the name, so a DNS answer that changes in between is never used.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .policy import IPAddress, SourceError, SourcePolicy
from .tones import TEST_TONE_FORMAT, check_test_tone

MAX_SOURCE_LENGTH = 500
# A refusal's reason as the stage keeps it (set_line_health's `fault`).
MAX_REASON_LENGTH = 500
# Demuxers a producer may name for a source; None lets FFmpeg probe.
FORMATS = frozenset({"sdp", "flv", "mpegts", "matroska", "ogg", "wav", "mp3", "aac", "mov"})
SDP_FORMAT = "sdp"
# What FFmpeg may pick when probing: audio containers only. Never hls, dash, concat or sdp,
# which open further URLs (segments, playlists, RTP) that this check never saw.
PROBED_FORMATS = "aac,flac,flv,live_flv,matroska,mov,mp3,mpegts,ogg,wav"
# The protocols FFmpeg may open for each scheme, nested ones included.
PROTOCOLS = {
    "http": "http,tcp",
    "https": "https,tls,tcp",
    "rtmp": "rtmp,tcp",
    "rtmps": "rtmps,tls,tcp",
    "srt": "srt",
    "rtp": "rtp,udp",
    "udp": "udp",
    "file": "file",
}
# The mixer reads an SDP file itself and hands FFmpeg the bytes it checked: RTP over UDP only.
SDP_PROTOCOLS = "udp,rtp"
MAX_SDP_BYTES = 64 * 1024
# Schemes opened at the checked address instead of the name. TLS needs the name (FFmpeg sends
# no SNI to an address) and RTMP sends it in its tcUrl, so https, rtmp and rtmps keep it.
PINNED_SCHEMES = frozenset({"http", "srt", "rtp", "udp"})

Resolver = Callable[[str], Sequence[str]]

_OFF_LIMITS = "lines may not reach it on this server."
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
# RFC 3986 userinfo: no "@", "/", "\" or anything else a URL parser could read differently.
_USERINFO = re.compile(r"[A-Za-z0-9\-._~%!$&'()*+,;=:]*")
_AUTHORITY = re.compile(r"(?:\[(?P<v6>[^\]]*)\]|(?P<host>[^:\[\]]*))(?::(?P<port>[^:]*))?")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
# A label the C library reads as a number: "2130706433", "0x7f.1" and "0177.0.0.1" are 127.0.0.1.
_NUMERIC_LABEL = re.compile(r"0x[0-9a-f]*|[0-9]+")


@dataclass(frozen=True)
class Admission:
    """What the mixer hands `av.open` for a source: a URL or the checked bytes of an SDP file."""

    target: str | bytes
    format: str | None
    options: dict[str, str]


@dataclass(frozen=True)
class _Source:
    scheme: str
    path: str = ""  # a file: the path FFmpeg would open
    userinfo: str = ""
    host: str = ""  # a lower-case name, or an address written as the producer wrote it
    address: IPAddress | None = None
    port: int | None = None
    rest: str = ""  # path and query of a network source, as given


def check_source(url: str, format: str | None = None, policy: SourcePolicy | None = None) -> None:
    """Raise SourceError unless `url` (with optional demuxer `format`) is a line source the policy
    allows, as far as can be told without resolving its name."""
    _checked(url, format, policy or SourcePolicy())


def admit_source(url: str, format: str | None, policy: SourcePolicy, resolve: Resolver) -> Admission:
    """What to open for a line, checked against the policy with its name resolved by `resolve`;
    raises SourceError with the reason when the line may not be opened."""
    if format == TEST_TONE_FORMAT:
        check_test_tone(url)
        return Admission(url, format, {})
    source = _checked(url, format, policy)
    if source.scheme == "file":
        return _admit_file(source, format, policy)
    addresses = [source.address] if source.address is not None else _resolve(source.host, resolve)
    for address in addresses:
        what = policy.address_refusal(address)
        if what is not None:
            shown = _shown(address)
            where = f"{shown} is" if source.address is not None else f"{source.host} resolves to {shown},"
            raise SourceError(f"{where} {what}: {_OFF_LIMITS}")
    options = {
        "protocol_whitelist": PROTOCOLS[source.scheme],
        "format_whitelist": format or ("rtp" if source.scheme == "rtp" else PROBED_FORMATS),
    }
    if source.scheme in ("http", "https"):
        # FFmpeg would follow a redirect to wherever it points, unchecked: a redirect fails instead.
        options["max_redirects"] = "0"
    if source.address is not None or source.scheme not in PINNED_SCHEMES:
        return Admission(_url(source), format, options)
    if source.scheme == "http":
        options["headers"] = f"Host: {_host_text(source.host)}{'' if source.port is None else f':{source.port}'}\r\n"
    return Admission(_url(source, addresses[0]), format, options)


def system_resolver(host: str) -> list[str]:
    """Every address the system's resolver gives for `host`."""
    return [info[4][0] for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)]


def _checked(url: str, format: str | None, policy: SourcePolicy) -> _Source:
    if not url or len(url) > MAX_SOURCE_LENGTH:
        raise SourceError(f"A source is 1 to {MAX_SOURCE_LENGTH} characters.")
    if any(ch.isspace() or ord(ch) < 32 or ch == "\x7f" for ch in url):
        raise SourceError("A source has no spaces or control characters.")
    if format is not None and format not in FORMATS:
        raise SourceError(f"Format must be one of {', '.join(sorted(FORMATS))}, or empty to probe.")
    source = _parse(url, policy)
    if format == SDP_FORMAT and source.scheme != "file":
        raise SourceError("An SDP description is a file in the media folder, like /srv/media/studio.sdp.")
    if source.scheme == "file":
        refusal = policy.path_refusal(source.path)
        if refusal is not None:
            raise SourceError(refusal)
    elif source.address is not None:
        what = policy.address_refusal(source.address)
        if what is not None:
            raise SourceError(f"{_shown(source.address)} is {what}: {_OFF_LIMITS}")
    elif source.host.removesuffix(".") == "localhost" or source.host.removesuffix(".").endswith(".localhost"):
        # Always this machine (RFC 6761), whatever a resolver says: refused as early as can be.
        what = policy.address_refusal(ipaddress.IPv4Address("127.0.0.1"))
        if what is not None:
            raise SourceError(f"{source.host} is this server itself, {what}: {_OFF_LIMITS}")
    return source


def _parse(url: str, policy: SourcePolicy) -> _Source:
    """The source as FFmpeg would read it, or SourceError."""
    if url.startswith("/"):
        return _allowed(_Source("file", path=url), policy)
    scheme, colon, rest = url.partition(":")
    if not colon or not _SCHEME.fullmatch(scheme):
        raise _unsupported(scheme if colon else url, policy)
    scheme = scheme.lower()
    if scheme == "file":
        # FFmpeg opens whatever follows "file:" as a path: file:///srv/a.mp3 is ///srv/a.mp3.
        if not rest.startswith("/") or (rest.startswith("//") and not rest.startswith("///")):
            raise SourceError("A file source is an absolute path, like file:///srv/media/walk-in.mp3.")
        return _allowed(_Source("file", path=rest), policy)
    _allowed(_Source(scheme), policy)
    if not rest.startswith("//"):
        raise SourceError(f"A network source is written like {scheme}://encoder.example:9000.")
    authority_end = 2 + len(re.match(r"[^/?#]*", rest[2:]).group())
    authority, rest = rest[2:authority_end], rest[authority_end:]
    userinfo, _, hostport = authority.rpartition("@")
    if not _USERINFO.fullmatch(userinfo):
        raise SourceError("A user name and password in a source may not contain @, / or \\.")
    parts = _AUTHORITY.fullmatch(hostport)
    if parts is None or not (parts["v6"] or parts["host"]):
        raise SourceError(f"A network source names a host, like {scheme}://encoder.example:9000.")
    port = None
    if parts["port"] is not None:
        if not parts["port"].isascii() or not parts["port"].isdigit() or not 0 < int(parts["port"]) < 65536:
            raise SourceError("The port must be a number from 1 to 65535.")
        port = int(parts["port"])
    host, address = _host(parts["v6"], parts["host"])
    return _Source(scheme, userinfo=userinfo, host=host, address=address, port=port, rest=rest)


def _host(v6: str | None, text: str | None) -> tuple[str, IPAddress | None]:
    """The host as a lower-case name or an address; numbers the C library would read as an
    address in another form are refused, so what is checked is what is connected to."""
    if v6 is not None:
        try:
            return v6, ipaddress.IPv6Address(v6)
        except ValueError:
            raise SourceError(f"[{v6}] is not an IPv6 address.") from None
    host = text.lower()
    try:
        return host, ipaddress.IPv4Address(host)
    except ValueError:
        pass
    labels = host.removesuffix(".").split(".")
    if all(_NUMERIC_LABEL.fullmatch(label) for label in labels):
        raise SourceError(f"{text} is not an address as written here: use four decimal numbers, like 203.0.113.7.")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise SourceError(f"{text} is not a host name (international names are written in their xn-- form).")
    return host, None


def _allowed(source: _Source, policy: SourcePolicy) -> _Source:
    if source.scheme not in policy.schemes:
        raise _unsupported(source.scheme, policy)
    return source


def _unsupported(scheme: str, policy: SourcePolicy) -> SourceError:
    allowed = sorted(policy.schemes - {"file"})
    if "file" in policy.schemes and policy.media_root is not None:
        allowed.append(f"or a file in the media folder {policy.media_root}")
    if not allowed:
        return SourceError("This server takes no encoder or dial-in sources.")
    return SourceError(f"Unsupported source {scheme!r}: use {', '.join(allowed)}.")


def _resolve(host: str, resolve: Resolver) -> list[IPAddress]:
    try:
        answers = resolve(host) or []
    except OSError:
        answers = []
    addresses = []
    for answer in answers:
        try:
            # A scope (fe80::1%eth0) says where to send, not which address: link-local either way.
            address = ipaddress.ip_address(answer.split("%", 1)[0])
        except ValueError:
            raise SourceError(f"{host} resolves to {answer!r}, which is not an address.") from None
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise SourceError(f"{host} could not be resolved.")
    return addresses


def _url(source: _Source, address: IPAddress | None = None) -> str:
    """The source rebuilt from what was checked, so FFmpeg parses nothing differently."""
    host = _host_text(str(address)) if address is not None else _host_text(source.host)
    userinfo = f"{source.userinfo}@" if source.userinfo else ""
    port = "" if source.port is None else f":{source.port}"
    return f"{source.scheme}://{userinfo}{host}{port}{source.rest}"


def _shown(address: IPAddress) -> str:
    """An address as a producer recognises it: a mapped one with the IPv4 address it stands for."""
    mapped = getattr(address, "ipv4_mapped", None)
    return f"{address} ({mapped})" if mapped is not None else str(address)


def _host_text(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _admit_file(source: _Source, format: str | None, policy: SourcePolicy) -> Admission:
    # The resolved path is what is opened, so no symlink can be swapped in after the check.
    real = os.path.realpath(source.path)
    if format != SDP_FORMAT and not (format is None and source.path.endswith(".sdp")):
        options = {"protocol_whitelist": PROTOCOLS["file"], "format_whitelist": format or PROBED_FORMATS}
        return Admission(f"file:{real}", format, options)
    try:
        with open(real, "rb") as file:
            description = file.read(MAX_SDP_BYTES + 1)
    except OSError as error:
        raise SourceError(f"{source.path} cannot be read ({error.strerror}).") from None
    if len(description) > MAX_SDP_BYTES:
        raise SourceError(f"An SDP file is at most {MAX_SDP_BYTES // 1024} KiB.")
    _check_sdp(description, policy)
    return Admission(description, SDP_FORMAT, {"protocol_whitelist": SDP_PROTOCOLS, "format_whitelist": SDP_FORMAT})


def _check_sdp(description: bytes, policy: SourcePolicy) -> None:
    """Every connection address (c=) of an SDP description is one the policy allows."""
    try:
        text = description.decode("utf-8")
    except UnicodeDecodeError:
        text = "\0"
    if "\0" in text:
        raise SourceError("An SDP file is UTF-8 text.")
    connections = 0
    for line in text.split("\n"):
        # FFmpeg skips leading blanks before a line's type letter.
        line = line.lstrip(" \t\r\v\f")
        if not line.startswith("c="):
            continue
        fields = line[2:].split()
        if len(fields) != 3 or fields[0] != "IN" or fields[1] not in ("IP4", "IP6"):
            raise SourceError(f"The SDP file's connection line {line.strip()[:80]!r} is not IN IP4 or IN IP6.")
        host = fields[2].split("/", 1)[0]
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            raise SourceError(f"The SDP file's connection address {host[:80]!r} is not an IP address.") from None
        what = policy.address_refusal(address)
        if what is not None:
            raise SourceError(f"The SDP file connects to {_shown(address)}, {what}: {_OFF_LIMITS}")
        connections += 1
    if not connections:
        raise SourceError("The SDP file names no connection address (a c= line).")
