"""PostgreSQL and Redis of a test's own, on free loopback ports in a temporary folder, which the
test may stop and start at will: a fault drill restarts them without disturbing the machine's
shared services or any other test. PostgreSQL refuses to run as root: as root, its processes run
as the `postgres` user (Debian's package has it).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from glob import glob
from pathlib import Path

import psycopg
import redis

from events.harness import free_port, wait_for


def postgres_bin(name: str) -> str | None:
    """Where PostgreSQL's `name` program is: on PATH, or in Debian's versioned folder."""
    return shutil.which(name) or next(iter(sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)


def missing_programs() -> list[str]:
    return [name for name in ("initdb", "postgres") if postgres_bin(name) is None] + (
        [] if shutil.which("redis-server") else ["redis-server"]
    )


class Postgres:
    """A PostgreSQL cluster in a temporary folder of its own (under /tmp: as root, its owner
    `postgres` could not enter pytest's private folders), on 127.0.0.1 only; `url` names database
    `name`. `remove` deletes the folder once it is stopped."""

    def __init__(self, name: str = "webcast") -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="drill-postgres-"))
        self.name = name
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        # As root, the cluster's files and processes belong to `postgres`.
        self.user = pwd.getpwnam("postgres") if os.geteuid() == 0 else None
        if self.user is not None:
            os.chown(self.folder, self.user.pw_uid, self.user.pw_gid)
        data = self.folder / "data"
        subprocess.run(
            [postgres_bin("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
            check=True, capture_output=True, **self._as_owner(),
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{self.name}"

    def start(self) -> None:
        """Start it (again, on the same port) and wait until it answers; create the database once."""
        log = open(self.folder / "postgres.log", "ab")  # noqa: SIM115 (the server writes to it while it runs)
        self.process = subprocess.Popen(
            [postgres_bin("postgres"), "-D", str(self.folder / "data"), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.folder}",
             "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, **self._as_owner(),
        )
        log.close()
        wait_for(self._answers, 30, f"PostgreSQL on port {self.port}", every=0.05)
        with psycopg.connect(self._dsn("postgres"), autocommit=True) as connection:
            if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.name,)).fetchone():
                connection.execute(f'CREATE DATABASE "{self.name}"')

    def stop(self) -> None:
        """A fast shutdown (SIGINT): clients are disconnected, the server exits."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(2)
            self.process.wait(30)

    def query(self, sql: str, *parameters) -> list[tuple]:
        with psycopg.connect(self._dsn(self.name), autocommit=True, connect_timeout=5) as connection:
            return connection.execute(sql, parameters).fetchall()

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"PostgreSQL exited:\n{(self.folder / 'postgres.log').read_text()[-2000:]}")
        try:
            psycopg.connect(self._dsn("postgres"), connect_timeout=2).close()
        except psycopg.OperationalError:
            return False
        return True

    def _dsn(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _as_owner(self) -> dict:
        return {"user": self.user.pw_uid, "group": self.user.pw_gid, "cwd": "/"} if self.user else {}


class Redis:
    """A Redis without persistence on 127.0.0.1, as the drills need it: a restart forgets everything."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        folder.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.folder / "redis.log", "ab")  # noqa: SIM115 (the server writes to it while it runs)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.folder)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()
        wait_for(self._answers, 30, f"Redis on port {self.port}", every=0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)

    def _answers(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"Redis exited:\n{(self.folder / 'redis.log').read_text()[-2000:]}")
        try:
            redis.Redis(port=self.port, socket_timeout=1).ping()
        except redis.RedisError:
            return False
        return True
