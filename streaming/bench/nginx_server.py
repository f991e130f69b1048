"""A real nginx for a benchmark: on a free loopback port, its own prefix in a folder, in the
foreground (`daemon off;`) as the leader of its own process group, so stopping the group leaves
nothing running. Two sites: the repository's (config/nginx/webcast.conf.template rendered by
`manage.py nginx_config` with the servers' environment) and, as the peer, the same files served
as plain static files with no pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from events import harness
from streaming.nginx import standalone

NGINX = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin") or "/usr/sbin/nginx"
# Within the hard limit of open files this machine gives a process; a proxied request holds two.
OPEN_FILES = 19000
# wrk opens thousands of connections at once, and nginx accepted them one per turn of its loop
# between the answers it was sending: at 10,000 viewers the kinds started last waited in the accept
# queue (2,000 deep after 8 s) and got no answer in the run. The accept queue overflowed too: nginx's
# default (511) made the kernel fall back to SYN cookies and drop what followed (read errors).
# So: accept every waiting connection at once (multi_accept), and a deeper queue (Linux caps it at
# somaxconn).
BACKLOG = 4096
# One worker a core, as `worker_processes auto` gives a deployment. With one worker, 10,000 viewers'
# connections and the proxied ones behind them came within a sixteenth of its worker_connections,
# where nginx starts closing idle keep-alive connections to make room ("worker_connections are not
# enough, reusing connections"): a client whose next request crossed that close got no answer (wrk
# `read` errors). Each worker has connections of its own.
WORKERS = os.cpu_count() or 1


def listen(port: int) -> str:
    """What the benchmark's nginx servers listen on."""
    return f"127.0.0.1:{port} backlog={BACKLOG}"
PLAIN_SITE = """server {{
    listen {listen};
    location ~ "^/hls/(?<hls_event>\\d+)/(?<hls_name>[A-Za-z0-9_-]{{1,64}}\\.(?:m3u8|ts))$" {{
        alias {root}/$hls_event/$hls_name;
        types {{
            application/vnd.apple.mpegurl m3u8;
            video/mp2t ts;
        }}
    }}
}}
"""


@dataclass(frozen=True)
class Nginx:
    url: str
    process: subprocess.Popen

    def worker_cpu_seconds(self) -> float:
        """User and system time of the master's worker processes so far (from /proc)."""
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:  # the parent's pid is the fourth field of stat
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")


def render_site(env: dict[str, str], listen: str, upstreams: list[str], output: Path) -> None:
    """The repository's site, rendered by `manage.py nginx_config` with the servers' settings."""
    command = [sys.executable, "manage.py", "nginx_config", "--listen", listen, "--output", str(output),
               "--cache-dir", str(output.parent / "cache")]
    for upstream in upstreams:
        command += ["--upstream", upstream]
    subprocess.run(command, cwd=settings.BASE_DIR, env=env, check=True, capture_output=True)


def plain_site(hls_root: Path, listen: str, output: Path) -> None:
    output.write_text(PLAIN_SITE.format(listen=listen, root=hls_root))


@contextmanager
def running(folder: Path, site: Path, port: int, workers: int = WORKERS) -> Iterator[Nginx]:
    """nginx serving `site` (which listens on 127.0.0.1:`port`) until the block ends."""
    folder.mkdir(parents=True, exist_ok=True)
    # Root would start the workers as "nobody", who cannot read the benchmark's private folders.
    config = standalone(str(folder), str(site), workers=workers, as_root=os.geteuid() == 0,
                        connections=OPEN_FILES, open_files=OPEN_FILES, access_log=False)
    (folder / "nginx.conf").write_text(config)
    command = [NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log")]
    url = f"http://127.0.0.1:{port}"
    with harness.running([command], os.environ.copy(), folder / "nginx.out") as (process,):

        def answers() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited:\n{(folder / 'nginx.out').read_text(errors='replace')}")
            return harness.http_answers(url + "/hls/0/none.ts")

        harness.wait_for(answers, 15, f"nginx on port {port}")
        yield Nginx(url, process)
