"""bench_audience's peer: the media load through the repository's nginx (the media pass checked)
and, at the same time, through a second nginx serving the same folder as plain static files; each
nginx's CPU per request it answered (its workers' user and system time, from /proc)."""

from __future__ import annotations

import os
from contextlib import ExitStack
from pathlib import Path

from events import harness
from streaming.bench import audience_load, nginx_server
from streaming.bench.audience_load import KINDS, STATIC_KINDS, whose


def compare(nginx, players, show, live_dir, newest_files, workdir, options) -> dict:
    """The media file kinds (parts for the low-latency players, playlists and segments for the
    plain ones: `players`) through the repository's nginx (pass checked) and through a plain static
    nginx, side by side for --peer-seconds: each nginx's worker CPU per request."""
    port = harness.free_port()
    site = workdir / "plain" / "plain.conf"
    site.parent.mkdir(parents=True)
    nginx_server.plain_site(Path(os.path.dirname(live_dir)), nginx_server.listen(port), site)
    seconds = options["peer_seconds"]
    kinds = [kind for kind in KINDS if kind.name in STATIC_KINDS and whose(kind, *players)]
    with nginx_server.running(workdir / "plain", site, port) as plain:
        sides = {"protected": nginx, "plain": plain}
        before = {name: side.worker_cpu_seconds() for name, side in sides.items()}
        loads = {}
        with ExitStack() as started:
            for name, side in sides.items():
                (workdir / name).mkdir(exist_ok=True)
                loads[name] = [
                    audience_load.start(kind, whose(kind, *players), show, side.url, seconds, workdir / name,
                                        options["connections"], newest_files, seed)
                    for seed, kind in enumerate(kinds, start=100)
                ]
                for load in loads[name]:
                    started.enter_context(audience_load.ended(load.process))
            done = {name: [audience_load.finish(load, workdir / name, seconds + 60) for load in group]
                    for name, group in loads.items()}
        cpu = {name: side.worker_cpu_seconds() - before[name] for name, side in sides.items()}
    per_request = {}
    for name, results in done.items():
        served = sum(result["requests"] for result in results)
        if sum(result["errors"] for result in results):
            raise RuntimeError(f"the {name} nginx refused requests in the peer run: {results}")
        per_request[name] = cpu[name] / served if served else None
    ratio = per_request["protected"] / per_request["plain"] if all(per_request.values()) else None
    return {
        "cpu_us_per_request": {name: round(value * 1e6, 2) for name, value in per_request.items() if value},
        "requests": {name: sum(r["requests"] for r in results) for name, results in done.items()},
        "ratio": round(ratio, 3) if ratio else None,
    }
