"""The line source policy's decisions, over a table of sources. Nothing here resolves a real name
or opens a socket: names go to a table resolver that fails the test on any name it does not hold."""

import ipaddress
import os

import pytest

from stage.sources.checks import PROBED_FORMATS, SourceError, admit_source, check_source
from stage.sources.policy import SourcePolicy, address_kind

# Public unicast addresses (never contacted: only decided about).
PUBLIC_V4, PUBLIC_V6 = "93.184.216.34", "2606:4700::1111"
NAMES = {
    "encoder.example": [PUBLIC_V4],
    "encoder.example.": [PUBLIC_V4],
    "dual.example": [PUBLIC_V4, PUBLIC_V6],
    "rebind.example": ["10.0.0.7"],
    "metadata.example": ["169.254.169.254"],
    "mixed.example": [PUBLIC_V4, "192.168.1.20"],
    "mixed6.example": [PUBLIC_V6, "fd00::5"],
    "mapped.example": ["::ffff:127.0.0.1"],
    "scoped.example": ["fe80::1%eth0"],
    "studio.example": ["10.20.0.5"],
}


class TableResolver:
    """Answers from NAMES; any other name fails the test (it would have gone to real DNS)."""

    def __init__(self):
        self.asked: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.asked.append(host)
        if host not in NAMES:
            pytest.fail(f"{host!r} would have been resolved for real")
        return NAMES[host]


@pytest.fixture
def resolve():
    return TableResolver()


DEFAULT = SourcePolicy()


def refusal(url: str, policy: SourcePolicy = DEFAULT, format: str | None = None) -> str:
    with pytest.raises(SourceError) as refused:
        admit_source(url, format, policy, TableResolver())
    return str(refused.value)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        # Nested and wrapping protocols, and everything else FFmpeg would open.
        ("concat:/etc/passwd|/etc/hosts", "Unsupported source 'concat'"),
        ("concatf:/srv/media/list.txt", "Unsupported source 'concatf'"),
        ("subfile,,start,0,end,0,,:/etc/passwd", "Unsupported source 'subfile,,start,0,end,0,,'"),
        ("crypto+http://encoder.example/a", "Unsupported source 'crypto+http'"),
        ("crypto:http://encoder.example/a", "Unsupported source 'crypto'"),
        ("hls+http://encoder.example/live.m3u8", "Unsupported source 'hls+http'"),
        ("async:http://encoder.example/a", "Unsupported source 'async'"),
        ("cache:http://encoder.example/a", "Unsupported source 'cache'"),
        ("data:audio/wav;base64,UklGRg==", "Unsupported source 'data'"),
        ("pipe:0", "Unsupported source 'pipe'"),
        ("fd:3", "Unsupported source 'fd'"),
        ("tcp://encoder.example:9000", "Unsupported source 'tcp'"),
        ("tls://encoder.example:9000", "Unsupported source 'tls'"),
        ("gopher://encoder.example/", "Unsupported source 'gopher'"),
        ("ftp://encoder.example/a.mp3", "Unsupported source 'ftp'"),
        ("unix:/run/postgresql/.s.PGSQL.5432", "Unsupported source 'unix'"),
        ("ipfs://bafy/a.mp3", "Unsupported source 'ipfs'"),
        ("sine=frequency=440", "Unsupported source 'sine=frequency=440'"),
        # Loopback, private, link-local, multicast, unspecified and special-purpose addresses.
        ("http://127.0.0.1:8000/", "127.0.0.1 is a loopback address: lines may not reach it on this server."),
        ("rtmp://127.8.9.10/live", "127.8.9.10 is a loopback address"),
        ("http://localhost:8000/", "localhost is this server itself, a loopback address"),
        ("http://studio.localhost./", "studio.localhost. is this server itself, a loopback address"),
        ("http://10.1.2.3/", "10.1.2.3 is a private address"),
        ("http://172.16.0.1/", "172.16.0.1 is a private address"),
        ("srt://192.168.1.1:9000", "192.168.1.1 is a private address"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is a link-local address"),
        ("udp://239.1.2.3:5000", "239.1.2.3 is a multicast address"),
        ("rtp://224.0.0.1:5004", "224.0.0.1 is a multicast address"),
        ("http://0.0.0.0:8000/", "0.0.0.0 is the unspecified address"),
        ("http://100.64.0.1/", "100.64.0.1 is a special-purpose address"),
        ("http://255.255.255.255/", "255.255.255.255 is a special-purpose address"),
        # IPv6, IPv4-mapped, and IPv4 carried inside IPv6 (6to4, NAT64, IPv4-compatible).
        ("http://[::1]:8000/", "::1 is a loopback address"),
        ("http://[::]/", ":: is the unspecified address"),
        ("http://[fe80::1]/", "fe80::1 is a link-local address"),
        ("http://[fd12:3456::1]/", "fd12:3456::1 is a private address"),
        ("udp://[ff02::1]:5000", "ff02::1 is a multicast address"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:7f00:1 (127.0.0.1) is a loopback address"),
        ("http://[::ffff:7f00:1]/", "::ffff:7f00:1 (127.0.0.1) is a loopback address"),
        ("http://[::ffff:169.254.169.254]/", "::ffff:a9fe:a9fe (169.254.169.254) is a link-local address"),
        ("http://[2002:7f00:1::]/", "2002:7f00:1:: is an IPv6 address carrying a loopback address"),
        ("http://[2002:a9fe:a9fe::]/", "is an IPv6 address carrying a link-local address"),
        ("http://[64:ff9b::a9fe:a9fe]/", "64:ff9b::a9fe:a9fe is an IPv6 address carrying a link-local address"),
        ("http://[::127.0.0.1]/", "::7f00:1 is a special-purpose address"),
        ("http://[127.0.0.1]/", "[127.0.0.1] is not an IPv6 address."),
        # IPv4 in the forms the C library also reads: decimal, octal, hex, short.
        ("http://2130706433/", "2130706433 is not an address as written here: use four decimal numbers"),
        ("http://0x7f000001/", "0x7f000001 is not an address as written here"),
        ("http://0x7f.0.0.1/", "0x7f.0.0.1 is not an address as written here"),
        ("http://0177.0.0.1/", "0177.0.0.1 is not an address as written here"),
        ("http://127.1/", "127.1 is not an address as written here"),
        ("http://0/", "0 is not an address as written here"),
        ("http://127.0.0.1./", "127.0.0.1. is not an address as written here"),
        ("http://169.254.43518/", "169.254.43518 is not an address as written here"),
        # Userinfo tricks: what counts is the host after the last "@", and no "@" may hide in it.
        ("http://encoder.example@127.0.0.1/", "127.0.0.1 is a loopback address"),
        ("http://user:pass@169.254.169.254/", "169.254.169.254 is a link-local address"),
        ("http://a@encoder.example@127.0.0.1/", "may not contain @, / or \\"),
        ("http://encoder.example\\@127.0.0.1/", "may not contain @, / or \\"),
        # Names resolved (by the injected resolver) and every address checked.
        ("http://rebind.example/", "rebind.example resolves to 10.0.0.7, a private address"),
        ("http://metadata.example/latest/", "metadata.example resolves to 169.254.169.254, a link-local address"),
        ("https://mixed.example/", "mixed.example resolves to 192.168.1.20, a private address"),
        ("rtmp://mixed6.example/live", "mixed6.example resolves to fd00::5, a private address"),
        ("http://mapped.example/", "mapped.example resolves to ::ffff:7f00:1 (127.0.0.1), a loopback address"),
        ("srt://scoped.example:9000", "scoped.example resolves to fe80::1, a link-local address"),
        # Malformed.
        ("srt://", "A network source names a host"),
        ("srt://:9000", "A network source names a host"),
        ("udp://@:5000", "A network source names a host"),
        ("rtmp://encoder.example:99999/live", "The port must be a number from 1 to 65535."),
        ("rtmp://encoder.example:0/live", "The port must be a number from 1 to 65535."),
        ("http:encoder.example/a", "A network source is written like http://encoder.example:9000."),
        ("http://under_score.example/", "is not a host name"),
        ("http://münchen.example/", "is not a host name (international names are written in their xn-- form)"),
        ("http://encoder.example/a b", "A source has no spaces or control characters."),
        ("http://encoder.example/\x00", "A source has no spaces or control characters."),
        ("x" * 501, "A source is 1 to 500 characters."),
        # Files: off unless a media folder is configured.
        ("/etc/passwd", "File sources are off on this server (no media folder is configured)."),
        ("file:///etc/passwd", "File sources are off on this server"),
        ("file://host/etc/passwd", "A file source is an absolute path"),
        ("file:etc/passwd", "A file source is an absolute path"),
    ],
)
def test_a_source_the_policy_does_not_allow_is_refused_with_the_reason(url, reason):
    assert reason in refusal(url)


def test_the_names_resolved_are_the_hosts_ffmpeg_would_connect_to(resolve):
    admit_source("http://127.0.0.1@encoder.example:8000/live", None, DEFAULT, resolve)
    admit_source("http://10.0.0.1:80@dual.example/", None, DEFAULT, resolve)
    admit_source("rtmps://ENCODER.example./live/key", None, DEFAULT, resolve)
    assert resolve.asked == ["encoder.example", "dual.example", "encoder.example."]


def test_an_address_is_never_resolved(resolve):
    admit_source(f"http://{PUBLIC_V4}/a", None, DEFAULT, resolve)
    admit_source(f"udp://[{PUBLIC_V6}]:5000", None, DEFAULT, resolve)
    assert resolve.asked == []


def test_a_name_that_does_not_resolve_is_refused():
    def nothing(host):
        raise OSError("no such name")

    with pytest.raises(SourceError, match=r"^encoder\.example could not be resolved\.$"):
        admit_source("srt://encoder.example:9000", None, DEFAULT, nothing)


@pytest.mark.parametrize(
    ("url", "format", "target", "options"),
    [
        (
            "http://encoder.example:8000/live?mount=a",
            None,
            f"http://{PUBLIC_V4}:8000/live?mount=a",
            {
                "protocol_whitelist": "http,tcp",
                "format_whitelist": PROBED_FORMATS,
                "max_redirects": "0",
                "headers": "Host: encoder.example:8000\r\n",
            },
        ),
        (
            "https://encoder.example/live.aac",
            "aac",
            "https://encoder.example/live.aac",
            {"protocol_whitelist": "https,tls,tcp", "format_whitelist": "aac", "max_redirects": "0"},
        ),
        (
            "rtmp://encoder.example/live/key",
            "flv",
            "rtmp://encoder.example/live/key",
            {"protocol_whitelist": "rtmp,tcp", "format_whitelist": "flv"},
        ),
        (
            "rtmps://encoder.example:443/live/key",
            None,
            "rtmps://encoder.example:443/live/key",
            {"protocol_whitelist": "rtmps,tls,tcp", "format_whitelist": PROBED_FORMATS},
        ),
        (
            "srt://dual.example:9000?streamid=ada",
            "mpegts",
            f"srt://{PUBLIC_V4}:9000?streamid=ada",
            {"protocol_whitelist": "srt", "format_whitelist": "mpegts"},
        ),
        (
            "rtp://encoder.example:5004",
            None,
            f"rtp://{PUBLIC_V4}:5004",
            {"protocol_whitelist": "rtp,udp", "format_whitelist": "rtp"},
        ),
        (
            f"udp://[{PUBLIC_V6}]:5000",
            None,
            f"udp://[{PUBLIC_V6}]:5000",
            {"protocol_whitelist": "udp", "format_whitelist": PROBED_FORMATS},
        ),
        (
            "HTTP://u:p@encoder.example/a",
            None,
            f"http://u:p@{PUBLIC_V4}/a",
            {
                "protocol_whitelist": "http,tcp",
                "format_whitelist": PROBED_FORMATS,
                "max_redirects": "0",
                "headers": "Host: encoder.example\r\n",
            },
        ),
    ],
)
def test_an_allowed_source_is_opened_fenced_in_and_at_the_checked_address(url, format, target, options, resolve):
    """Protocol and demuxer whitelists on every input, no redirects over HTTP(S), and the checked
    address in place of the name where the protocol allows (TLS and RTMP need the name)."""
    admission = admit_source(url, format, DEFAULT, resolve)
    assert (admission.target, admission.format, admission.options) == (target, format, options)


def test_listed_networks_allow_what_they_list_and_nothing_public_unless_listed(resolve):
    studio = SourcePolicy.from_config(networks=["10.20.0.0/16", "239.69.0.0/16", "127.0.0.1"])
    for url in ("srt://10.20.3.4:9000", "srt://studio.example:9000", "rtp://239.69.1.1:5004", "http://127.0.0.1/"):
        admit_source(url, None, studio, resolve)
    assert "127.0.0.2 is a loopback address" in refusal("http://127.0.0.2/", studio)
    assert "10.21.0.1 is a private address" in refusal("http://10.21.0.1/", studio)
    assert refusal(f"http://{PUBLIC_V4}/", studio) == (
        f"{PUBLIC_V4} is a public address outside the networks this server lists: "
        "lines may not reach it on this server."
    )
    # With "public" as well, public addresses come back; other private ones stay out.
    both = SourcePolicy.from_config(networks=["public", "10.20.0.0/16"])
    admit_source(f"http://{PUBLIC_V4}/", None, both, resolve)
    admit_source("http://[::ffff:10.20.0.9]/", None, both, resolve)
    assert "10.0.0.7, a private address" in refusal("http://rebind.example/", both)


def test_no_networks_means_no_network_sources():
    nothing = SourcePolicy.from_config(networks=[])
    assert refusal("http://encoder.example/", nothing) == (
        f"encoder.example resolves to {PUBLIC_V4}, a public address outside the networks this server lists: "
        "lines may not reach it on this server."
    )


def test_schemes_are_only_those_listed():
    srt_only = SourcePolicy.from_config(schemes=["srt"])
    assert refusal("http://encoder.example/", srt_only) == "Unsupported source 'http': use srt."
    assert refusal("/srv/media/a.mp3", srt_only) == "Unsupported source 'file': use srt."
    assert refusal("srt://x.example", SourcePolicy.from_config(schemes=[])) == (
        "This server takes no encoder or dial-in sources."
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"schemes": ["http", "gopher"]}, "LINE_SOURCE_SCHEMES: unknown gopher"),
        ({"networks": ["encoder.example"]}, "LINE_SOURCE_NETWORKS: 'encoder.example' is not a network"),
        ({"networks": ["10.0.0.1/8"]}, "LINE_SOURCE_NETWORKS: '10.0.0.1/8' is not a network"),
    ],
)
def test_a_policy_the_environment_gets_wrong_names_the_entry(config, message):
    with pytest.raises(ValueError, match=message):
        SourcePolicy.from_config(**config)


def test_a_policy_allows_only_schemes_the_mixer_can_fence_in():
    with pytest.raises(ValueError, match="Unknown line source schemes: concat"):
        SourcePolicy(schemes=frozenset({"http", "concat"}))


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        (PUBLIC_V4, None),
        (PUBLIC_V6, None),
        ("8.8.8.8", None),
        ("192.0.2.1", "a special-purpose address"),  # documentation
        ("198.18.0.1", "a special-purpose address"),  # benchmarking
        ("240.0.0.1", "a special-purpose address"),
        ("2001:db8::1", "a special-purpose address"),
        ("2001::1", "an IPv6 address carrying a special-purpose address"),  # Teredo
        ("64:ff9b::808:808", "a special-purpose address"),  # NAT64 of a public address: still not listed
    ],
)
def test_what_counts_as_public(address, kind):
    assert address_kind(ipaddress.ip_address(address)) == kind


# --- files: only under the media folder, symlinks and ".." resolved, never the webcast's own output


@pytest.fixture
def media(tmp_path):
    root = tmp_path / "media"
    (root / "walk-in").mkdir(parents=True)
    (root / "walk-in" / "music.mp3").write_bytes(b"")
    outside = tmp_path / "secret.wav"
    outside.write_bytes(b"")
    hls = root / "hls"  # an operator who put HLS_ROOT inside the media folder
    (hls / "7" / "private").mkdir(parents=True)
    (hls / "7" / "private" / "live.m3u8").write_text("#EXTM3U\n")
    (root / "escape.wav").symlink_to(outside)
    (root / "rehearsal").symlink_to(hls / "7" / "private")
    policy = SourcePolicy.from_config(media_root=root, private_roots=[hls])
    return root, policy


def test_a_file_in_the_media_folder_is_opened_by_its_real_path(media, resolve):
    root, policy = media
    for source in (
        f"{root}/walk-in/music.mp3",
        f"file://{root}/walk-in/music.mp3",
        f"{root}/walk-in/../walk-in/music.mp3",
    ):
        admission = admit_source(source, None, policy, resolve)
        assert admission.target == f"file:{root}/walk-in/music.mp3"
        assert admission.options == {"protocol_whitelist": "file", "format_whitelist": PROBED_FORMATS}


def test_a_file_outside_the_media_folder_is_refused_however_it_is_reached(media, tmp_path):
    root, policy = media
    assert refusal("/etc/passwd", policy) == f"/etc/passwd is outside the media folder {root}."
    assert refusal(f"{root}/../secret.wav", policy) == f"{root}/../secret.wav is outside the media folder {root}."
    assert refusal(f"file://{root}/walk-in/../../secret.wav", policy).endswith(f"outside the media folder {root}.")
    assert refusal(f"{root}/escape.wav", policy) == f"{root}/escape.wav is outside the media folder {root}."
    sibling = tmp_path / "media-old"  # a prefix of the folder's name is not the folder
    sibling.mkdir()
    assert "outside the media folder" in refusal(f"{sibling}/a.mp3", policy)


def test_the_webcasts_own_output_is_never_a_source_even_inside_the_media_folder(media):
    root, policy = media
    reason = "is in the webcast's own output folder, which is never a line source."
    assert reason in refusal(f"{root}/hls/7/private/live.m3u8", policy)
    assert reason in refusal(f"{root}/rehearsal/live.m3u8", policy)  # through a symlink
    assert reason in refusal(f"{root}/walk-in/../hls/7/private/live.m3u8", policy)


def test_an_sdp_description_is_a_file(media):
    _, policy = media
    message = "An SDP description is a file in the media folder, like /srv/media/studio.sdp."
    assert refusal("http://encoder.example/studio.sdp", policy, format="sdp") == message


def sdp(*connections: str) -> str:
    lines = ["v=0", "o=- 0 0 IN IP4 127.0.0.1", "s=line", *connections, "t=0 0", "m=audio 5004 RTP/AVP 14"]
    return "\r\n".join(lines) + "\r\n"


@pytest.mark.parametrize(
    ("description", "reason"),
    [
        (sdp("c=IN IP4 127.0.0.1"), "The SDP file connects to 127.0.0.1, a loopback address"),
        (sdp("c=IN IP4 239.1.1.1/32"), "The SDP file connects to 239.1.1.1, a multicast address"),
        (sdp(f"c=IN IP4 {PUBLIC_V4}", " c=IN IP4 169.254.169.254"), "connects to 169.254.169.254, a link-local"),
        (sdp("c=IN IP6 ::1"), "The SDP file connects to ::1, a loopback address"),
        (sdp("c=IN IP4 encoder.example"), "The SDP file's connection address 'encoder.example' is not an IP address."),
        (sdp("c=IN IP4 2130706433"), "The SDP file's connection address '2130706433' is not an IP address."),
        (sdp("c=IN IP4"), "is not IN IP4 or IN IP6"),
        (sdp(), "The SDP file names no connection address (a c= line)."),
        (sdp(f"c=IN IP4 {PUBLIC_V4}") + "\0c=IN IP4 10.0.0.1", "An SDP file is UTF-8 text."),
    ],
)
def test_an_sdp_file_may_only_connect_where_the_policy_allows(media, description, reason):
    root, policy = media
    (root / "studio.sdp").write_text(description)
    assert reason in refusal(f"{root}/studio.sdp", policy)


def test_an_allowed_sdp_file_is_handed_to_ffmpeg_as_the_bytes_checked(media, resolve):
    root, policy = media
    description = sdp(f"c=IN IP4 {PUBLIC_V4}")
    (root / "studio.sdp").write_text(description)
    admission = admit_source(f"{root}/studio.sdp", None, policy, resolve)
    assert (admission.target, admission.format) == (description.encode(), "sdp")
    assert admission.options == {"protocol_whitelist": "udp,rtp", "format_whitelist": "sdp"}
    os.rename(root / "studio.sdp", root / "studio.txt")
    assert admit_source(f"{root}/studio.txt", "sdp", policy, resolve).target == description.encode()


def test_check_source_decides_without_resolving_and_with_the_strict_default():
    check_source("srt://encoder.example:9000")  # a name: resolved and checked when the mixer opens it
    for url in ("http://127.0.0.1/", "http://169.254.169.254/", "/srv/media/a.mp3", "concat:/etc/passwd"):
        with pytest.raises(SourceError):
            check_source(url)
