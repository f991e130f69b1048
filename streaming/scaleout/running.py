"""`manage.py scaleout` started as a child process and watched through its output: what the load
drill (streaming/bench/bench_load.py) and the fault drills (tests/supervision/test_drills.py)
both run. The supervisor's lines ("started NAME (pid N)", "ready: …") say which process is which
and when nginx answers.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from contextlib import suppress
from pathlib import Path

from django.conf import settings

from events.harness import free_port, stop_group, wait_for

STARTED = re.compile(r"scaleout +\| started (\S+) \(pid (\d+)\)")
READY = re.compile(r"scaleout +\| ready: ")


class RunningPlatform:
    """`manage.py scaleout` on a free port with `env`, its output in `log`; `arguments` are added
    to its command line (`--demo`)."""

    def __init__(self, log: Path, env: dict[str, str], arguments: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "scaleout", "--port", str(self.port), "--backend-port", "0", *arguments],
                cwd=settings.BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float) -> None:
        """Until the supervisor says nginx answers; a RuntimeError with its output if it exited."""

        def ready() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"scaleout exited:\n{self.text()[-3000:]}")
            return bool(READY.search(self.text()))

        wait_for(ready, timeout, "the platform to answer through nginx", every=0.2)

    def pids(self) -> dict[str, int]:
        """The newest pid of every supervised process (a restarted one has a new one)."""
        return {name: int(pid) for name, pid in STARTED.findall(self.text())}

    def stop(self) -> None:
        leftover = self.pids()
        stop_group(self.process, timeout=90)  # the supervisor stops its processes, last started first
        for pid in leftover.values():  # only if it could not
            with suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
