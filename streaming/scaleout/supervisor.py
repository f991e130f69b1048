"""Runs a set of processes in the foreground: each in a process group of its own, its output
prefixed with its name; one that exits is started again after a back-off; all stopped, in reverse
order, when asked (Ctrl-C). A small foreman, so that one command brings the platform up and down.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from events.harness import stop_group
from streaming.scaleout.plan import Service


@dataclass
class Backoff:
    """How long to wait before starting a process that exited again: `first` seconds, doubling
    to `most` while it keeps exiting; back to `first` once a run lasted `settled` seconds."""

    first: float = 1.0
    most: float = 30.0
    settled: float = 60.0
    delay: float = field(default=0.0, init=False)

    def after_run(self, ran_for: float) -> float:
        """The wait before the next start, after a run of `ran_for` seconds."""
        self.delay = self.first if ran_for >= self.settled or not self.delay else min(self.delay * 2, self.most)
        return self.delay


@dataclass
class Running:
    service: Service
    process: subprocess.Popen
    started_at: float
    backoff: Backoff
    restart_at: float | None = None  # set while it waits to be started again


class Supervisor:
    """Starts `services` with `env` in `cwd`; `watch` keeps them running until `stop` is set."""

    def __init__(self, services: list[Service], env: dict[str, str], cwd: str, out: TextIO,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.services = services
        self.env = env
        self.cwd = cwd
        self.out = out
        self.clock = clock
        self.running: dict[str, Running] = {}
        self._lock = threading.Lock()
        self.width = max(len(name) for name in ("scaleout", *(service.name for service in services)))

    def say(self, name: str, line: str) -> None:
        with self._lock:
            self.out.write(f"{name:<{self.width}} | {line}\n")
            self.out.flush()

    def start(self) -> None:
        for service in self.services:
            self._start(service, Backoff())

    def _start(self, service: Service, backoff: Backoff) -> None:
        process = subprocess.Popen(
            service.command, cwd=self.cwd, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        self.running[service.name] = Running(service, process, self.clock(), backoff)
        threading.Thread(target=self._pump, args=(service.name, process), daemon=True).start()
        self.say("scaleout", f"started {service.name} (pid {process.pid})")

    def _pump(self, name: str, process: subprocess.Popen) -> None:
        for raw in process.stdout:
            self.say(name, raw.decode(errors="replace").rstrip())

    def watch(self, stop: threading.Event, every: float = 0.2) -> None:
        """Until `stop` is set: start again, after its back-off, every process that exited."""
        while not stop.wait(every):
            now = self.clock()
            for name, running in list(self.running.items()):
                if running.restart_at is None and running.process.poll() is not None:
                    # Its group may hold children (a daphne's, a worker's pool): end them first.
                    stop_group(running.process, timeout=5)
                    wait = running.backoff.after_run(now - running.started_at)
                    running.restart_at = now + wait
                    code = running.process.returncode
                    self.say("scaleout", f"{name} exited ({code}); starting it again in {wait:.0f} s")
                elif running.restart_at is not None and now >= running.restart_at:
                    self._start(running.service, running.backoff)

    def stop(self) -> None:
        """Stop everything, the last started first (nginx before the processes it routes to)."""
        for running in reversed(list(self.running.values())):
            self.say("scaleout", f"stopping {running.service.name}")
            stop_group(running.process)
