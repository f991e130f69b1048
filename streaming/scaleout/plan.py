"""Which processes make the scaled-out platform, and how each is started.

nginx in front; page servers (WSGI, `config.pages`) for Django's pages, daphnes (`config.serve`)
for the WebSockets and the viewers' Q&A; Celery workers for short tasks (mail, slides) and
for mixers (one mixer a worker process, prefetch 1) and off-air monitors, and beat (the watchdogs, attendance,
reminders). Every process gets the operator's environment as it is, plus what the shape implies:
mixers on Celery, web processes behind a proxy, links pointing at nginx.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

# Debian's nginx (nginx-core: with secure_link and gzip_static), wherever PATH finds it.
NGINX = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin") or "/usr/sbin/nginx"


@dataclass(frozen=True)
class Service:
    """One supervised process: its name in the output, its command, and the port it serves (if any)."""

    name: str
    command: tuple[str, ...]
    port: int | None = None


@dataclass(frozen=True)
class Shape:
    """How many of each, and where: nginx on `port`, the web processes on `pages_ports` and
    `socket_ports` (loopback), `mixers` mixer workers, nginx's files in `nginx_dir`."""

    port: int
    pages_ports: tuple[int, ...]
    socket_ports: tuple[int, ...]
    mixers: int
    nginx_dir: Path
    beat_schedule: Path
    mixer_queue: str = "mixer"
    monitor_queue: str = "monitor"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def python(*arguments: str) -> tuple[str, ...]:
    return (sys.executable, *arguments)


def services(shape: Shape) -> list[Service]:
    """The processes in the order they start (and stop in reverse): workers and beat first, then
    the web processes, nginx last, so nothing is routed to a process that is not there yet."""
    quiet = ("--loglevel", "INFO", "--without-gossip", "--without-mingle")
    started = [
        Service("worker", python("-m", "celery", "-A", "config", "worker", "-Q", "celery", "--concurrency", "2",
                                 "-n", "worker@%h", *quiet)),
        *(
            Service(f"mixer-{n}", python("-m", "celery", "-A", "config", "worker", "-Q", shape.mixer_queue,
                                         "--concurrency", "1", "--prefetch-multiplier", "1", "-O", "fair",
                                         "-n", f"mixer{n}@%h", *quiet))
            for n in range(1, shape.mixers + 1)
        ),
        # Off-air monitors (one a live event, mostly waiting on the next segment): a few a process.
        Service("monitor", python("-m", "celery", "-A", "config", "worker", "-Q", shape.monitor_queue,
                                  "--concurrency", "4", "--prefetch-multiplier", "1", "-O", "fair",
                                  "-n", "monitor@%h", *quiet)),
        Service("beat", python("-m", "celery", "-A", "config", "beat", "--schedule", str(shape.beat_schedule),
                               "--loglevel", "INFO")),
    ]
    for n, port in enumerate(shape.pages_ports, 1):
        started.append(Service(f"pages-{n}", python("-m", "config.pages", "-b", "127.0.0.1", "-p", str(port)), port))
    for n, port in enumerate(shape.socket_ports, 1):
        daphne = python("-m", "config.serve", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application")
        started.append(Service(f"sockets-{n}", daphne, port))
    folder = shape.nginx_dir
    nginx = (NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log"))
    started.append(Service("nginx", nginx, shape.port))
    return started


def environment(base: dict[str, str], shape: Shape) -> dict[str, str]:
    """The processes' environment: the operator's, with what this shape implies."""
    return base | {
        "DJANGO_SETTINGS_MODULE": base.get("DJANGO_SETTINGS_MODULE", "config.settings"),
        # Mixers are Celery tasks here, on the mixer workers' queue; the web processes start none.
        "MIXER_RUNNER": "celery",
        "MIXER_QUEUE": shape.mixer_queue,
        "OFF_AIR_QUEUE": shape.monitor_queue,
        # Only nginx reaches the web processes: the client's address comes from its X-Forwarded-For.
        "BEHIND_PROXY": "true",
        # Links in emails and the demo's printout point at nginx unless the operator says otherwise.
        "SITE_URL": base.get("SITE_URL") or shape.url,
    }
