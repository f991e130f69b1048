"""nginx's configuration for the scaled-out setup, rendered from config/nginx/webcast.conf.template.

Every value goes into nginx's syntax unquoted or inside a quoted string, so each is checked
against a narrow pattern first: a value that could end a directive or a string is refused.
"""

import re
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"@([A-Z_]+)@")
# A folder path nginx reads the files from: no spaces, quotes, ";", braces or "$".
ROOT = re.compile(r"/[A-Za-z0-9/._-]*")
SECRET = re.compile(r"[A-Za-z0-9_-]{32,}")
# What `listen` takes here: a port, or an address and port, then plain parameters ("443 ssl").
LISTEN = re.compile(r"(?:\d{1,5}|[A-Za-z0-9.-]+:\d{1,5}|\[[0-9A-Fa-f:]+\]:\d{1,5})(?: [a-z_]+(?:=[A-Za-z0-9]+)?)*")
# A web process: host:port, [v6]:port, or a unix socket.
UPSTREAM = re.compile(r"[A-Za-z0-9.-]+:\d{1,5}|\[[0-9A-Fa-f:]+\]:\d{1,5}|unix:/[A-Za-z0-9/._-]+")


class BadValue(ValueError):
    """A value that cannot go into the configuration; its message says which and why."""


@dataclass(frozen=True)
class Site:
    hls_root: str
    pass_secret: str
    listen: str
    upstreams: tuple[str, ...]  # the page servers
    slides_root: str = "/var/lib/webcast/slides"
    static_root: str = "/var/lib/webcast/static"
    # daphne processes for the WebSockets and the viewers' Q&A; none: the page servers
    # are daphnes and serve those too.
    socket_upstreams: tuple[str, ...] = ()
    # The largest deck upload nginx lets through to Django (SLIDES_MAX_UPLOAD_BYTES and its envelope).
    slides_upload_bytes: int = 50 * 1024 * 1024
    cache_dir: str = "/var/cache/nginx/webcast"  # the public JSON's cache; nginx's own folder
    # How long a blocking playlist reload may wait at the origin (three target durations), and more.
    hls_hold_seconds: int = 8


def render(template: str, site: Site) -> str:
    """The template with every placeholder filled from `site`; BadValue for a value that does not fit."""
    root = site.hls_root.rstrip("/") or "/"
    _check(ROOT, root, "HLS_ROOT", "an absolute path of letters, digits, '/', '.', '-' and '_'")
    if not SECRET.fullmatch(site.pass_secret):  # not repeated in the message: it is a secret
        raise BadValue("HLS_PASS_SECRET does not fit: expected 32 or more letters, digits, '-' or '_'.")
    slides_root = site.slides_root.rstrip("/") or "/"
    _check(ROOT, slides_root, "SLIDES_ROOT", "an absolute path of letters, digits, '/', '.', '-' and '_'")
    static_root = site.static_root.rstrip("/") or "/"
    _check(ROOT, static_root, "STATIC_ROOT", "an absolute path of letters, digits, '/', '.', '-' and '_'")
    cache_dir = site.cache_dir.rstrip("/") or "/"
    _check(ROOT, cache_dir, "cache folder", "an absolute path of letters, digits, '/', '.', '-' and '_'")
    _check(LISTEN, site.listen, "listen", "a port or address:port, then plain parameters such as 'ssl'")
    if not site.upstreams:
        raise BadValue("upstream: name at least one web process (host:port or unix:/path).")
    sockets = site.socket_upstreams or site.upstreams
    for upstream in (*site.upstreams, *sockets):
        _check(UPSTREAM, upstream, "upstream", "host:port, [address]:port or unix:/path")
    if not 1 <= site.hls_hold_seconds <= 3600:
        raise BadValue(f"hold {site.hls_hold_seconds!r} does not fit: expected 1 to 3600 seconds.")
    values = {
        "HLS_ROOT": root,
        "HLS_PASS_SECRET": site.pass_secret,
        "LISTEN": site.listen,
        "SLIDES_ROOT": slides_root,
        "STATIC_ROOT": static_root,
        "SLIDES_UPLOAD_BYTES": str(int(site.slides_upload_bytes)),
        "CACHE_DIR": cache_dir,
        "HLS_HOLD_SECONDS": str(int(site.hls_hold_seconds)),
        "UPSTREAM": _servers(site.upstreams),
        "SOCKET_UPSTREAM": _servers(sockets),
    }
    unknown = set(PLACEHOLDER.findall(template)) - values.keys()
    if unknown:
        raise BadValue(f"the template has placeholders nothing fills: {', '.join(sorted(unknown))}.")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def _servers(upstreams: tuple[str, ...]) -> str:
    """No web process is ever set aside (max_fails=0): a dead one refuses at once and the next is
    tried anyway, while one set aside for a failure stays aside in each nginx worker on its own.
    A starved daphne resets a slow WebSocket handshake, which nginx counts as a failure: with the
    other daphne dead (the drill's reconnection storm) both were set aside and every socket and
    renewal answered 502 "no live upstreams"; the page servers, refused at once by the readiness
    probe while they started, answered the load drill's first presence beats so, 20 s later."""
    return "\n    ".join(f"server {upstream} max_fails=0;" for upstream in upstreams)


def standalone(
    folder: str, site_conf: str, *, workers: int = 1, as_root: bool = False, connections: int = 4096,
    open_files: int | None = None, access_log: bool = True,
) -> str:
    """A whole nginx.conf around the rendered site, for an nginx of its own (`nginx -p folder -c
    …`): in the foreground, its pid, logs and temporary files in `folder`, the site included.
    `as_root`: its workers run as root too, to read folders only root may (tests, loopback).
    `connections` is each worker's worker_connections; `open_files` raises its limit of open files
    (a proxied request holds two). Every waiting connection is accepted at once (multi_accept): a
    benchmark's thousands of viewers connect together, and one accepted a turn of the loop left the
    last of them in the accept queue. The error log is at warn, where nginx says it ran out of
    connections."""
    _check(ROOT, folder, "nginx folder", "an absolute path of letters, digits, '/', '.', '-' and '_'")
    _check(ROOT, site_conf, "site configuration", "an absolute path of letters, digits, '/', '.', '-' and '_'")
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = "\n".join(f"    {kind}_temp_path {folder}/{kind};" for kind in kinds)
    return (
        ("user root;\n" if as_root else "")
        + f"daemon off;\nworker_processes {int(workers)};\n"
        + (f"worker_rlimit_nofile {int(open_files)};\n" if open_files else "")
        + f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log warn;\n"
        + f"events {{ worker_connections {int(connections)}; multi_accept on; }}\n"
        + f"http {{\n    access_log {f'{folder}/access.log' if access_log else 'off'};\n{temp}\n"
        + f"    include {site_conf};\n}}\n"
    )


def _check(pattern: re.Pattern, value: str, name: str, expected: str) -> None:
    if not pattern.fullmatch(value):
        raise BadValue(f"{name} {value!r} does not fit the nginx configuration: expected {expected}.")
