"""A small store for counters and logs: Redis scaled out, process memory in the embedded default.

The rate limiter and the presence log need two things Django's cache API does slowly or not at
all: a log of recent attempts (a sliding window: its count, and when its oldest attempt leaves
it), and an append-only list. Scaled out, both are one round trip on the
Redis that REDIS_URL names (the one behind the cache and the broker). In the embedded default one
server process serves every request, so a dictionary under a lock does the same job; Django's
local-memory cache would not (it keeps 300 entries, then culls a third of them).
"""

import collections
import itertools
import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Protocol

import redis
from django.conf import settings


@dataclass(frozen=True)
class Window:
    """Attempts within a sliding window: how many, and the time of the oldest (None if none)."""

    count: int
    oldest: float | None


class Store(Protocol):
    def attempt(self, key: str, now: float, window: float, keep: int) -> Window:
        """Log an attempt at `now` and return the attempts within the `window` seconds up to it
        (at most `keep` newest are kept: more cannot change a verdict)."""

    def attempt_soon(self, key: str, now: float, window: float, keep: int) -> Callable[[], Window]:
        """`attempt`, its answer read later: the attempt is logged now and the returned function
        answers the window (the caller works meanwhile instead of waiting on a round trip)."""

    def attempts(self, key: str, now: float, window: float) -> Window:
        """The attempts within the `window` seconds up to `now`, without logging one."""

    def add(self, key: str, ttl: int) -> bool:
        """Set a marker unless present; True if this call set it."""

    def append(self, key: str, value: str, ttl: int) -> None:
        """Append to the list at `key`, which expires `ttl` seconds after its last append."""

    def read(self, key: str, start: int, count: int) -> list[str]:
        """Up to `count` items of the list from index `start`."""

    def delete(self, *keys: str) -> None: ...


# One command a hit (EVALSHA): forget what left the window, log this attempt, keep the newest
# `keep`, and answer the count and the oldest. A MULTI of six commands cost the client seven
# more replies to read, a third of a registration's time in Redis.
ATTEMPT_SCRIPT = """
local key, now, window, keep = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
redis.call('ZADD', key, now, ARGV[4])
redis.call('ZREMRANGEBYRANK', key, 0, -(keep + 1))
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
redis.call('EXPIRE', key, math.floor(window) + 1)
return {redis.call('ZCARD', key), oldest[2]}
"""


class _AttemptIds:
    """Members that tell two attempts at the same instant apart: a random token per process and a
    counter (no system call a hit, unlike uuid4: where system calls are dear, that was a tenth of
    a registration's time)."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._pid = 0
        self._token = ""

    def next(self) -> str:
        if self._pid != os.getpid():  # a forked child draws its own token
            self._pid, self._token = os.getpid(), uuid.uuid4().hex[:8]
        return f"{self._token}{next(self._counter)}"


_attempt_ids = _AttemptIds()


class RedisStore:
    def __init__(self, url: str):
        # Blocking socket reads without the 5 s default are not needed here: every call is short.
        self.client = redis.Redis.from_url(url, decode_responses=True)
        self._attempt = self.client.register_script(ATTEMPT_SCRIPT)
        self._url = url
        self._own = threading.local()

    def _connection(self) -> redis.Redis:
        """This thread's own connection, for the hot path (a registration's rate limit): taken
        from the shared pool, every command pays redis-py's check that the connection holds no
        stray reply (two socket timeouts and a read: three system calls, dear in a sandbox)."""
        own = getattr(self._own, "client", None)
        if own is None or self._own.pid != os.getpid():
            own = redis.Redis.from_url(self._url, decode_responses=True, single_connection_client=True)
            self._own.client, self._own.pid = own, os.getpid()
        return own

    def attempt(self, key: str, now: float, window: float, keep: int) -> Window:
        return self.attempt_soon(key, now, window, keep)()

    def attempt_soon(self, key: str, now: float, window: float, keep: int) -> Callable[[], Window]:
        """The script's command is written to the socket now and its reply read when the caller
        asks: Redis runs the script while the caller works (a registration validates its form),
        instead of the caller waiting the round trip out first. The reply is read before this
        thread's connection sends anything else, so a caller that never asks cannot hand its
        reply to the next one."""
        client = self._connection()
        self._read_unanswered(client)
        args = (key, now, window, keep, f"{now}:{_attempt_ids.next()}")
        sent = _SentAttempt(self, client, args)
        try:
            client.connection.send_command("EVALSHA", self._attempt.sha, 1, *args)
        except (redis.ConnectionError, redis.TimeoutError):  # the script's own call reconnects, retries
            client.connection.disconnect()
            sent.window = self._run_attempt(client, args)
            return sent
        self._own.unanswered = sent
        return sent

    def _read_unanswered(self, client: redis.Redis) -> None:
        sent, self._own.unanswered = getattr(self._own, "unanswered", None), None
        if sent is not None and sent.client is client:  # (a forked child has a client of its own)
            sent()

    def _answer(self, sent: "_SentAttempt") -> Window:
        """Read the reply of an attempt sent on this thread's connection."""
        if getattr(self._own, "unanswered", None) is sent:
            self._own.unanswered = None
        try:
            reply = sent.client.parse_response(sent.client.connection, "EVALSHA")
        except redis.exceptions.NoScriptError:  # a restarted or flushed Redis: not run; load it and run
            return self._run_attempt(sent.client, sent.args)
        except (redis.ConnectionError, redis.TimeoutError):
            # As redis-py's own retry does: a new connection and the command again (if the lost
            # one had counted the attempt, this address has one more in its window for a minute).
            sent.client.connection.disconnect()
            return self._run_attempt(sent.client, sent.args)
        return _window_of(reply)

    def _run_attempt(self, client: redis.Redis, args: tuple) -> Window:
        """The script through redis-py's call: loaded if Redis lacks it, retried on a broken connection."""
        key, *rest = args
        return _window_of(self._attempt(keys=[key], args=rest, client=client))

    def attempts(self, key: str, now: float, window: float) -> Window:
        with self.client.pipeline(transaction=False) as pipe:
            pipe.zcount(key, f"({now - window}", "+inf")
            pipe.zrangebyscore(key, f"({now - window}", "+inf", start=0, num=1, withscores=True)
            count, oldest = pipe.execute()
        return Window(count, oldest[0][1] if oldest else None)

    def add(self, key: str, ttl: int) -> bool:
        return bool(self.client.set(key, 1, ex=ttl, nx=True))

    def append(self, key: str, value: str, ttl: int) -> None:
        with self.client.pipeline(transaction=False) as pipe:
            pipe.rpush(key, value)
            pipe.expire(key, ttl)
            pipe.execute()

    def read(self, key: str, start: int, count: int) -> list[str]:
        return self.client.lrange(key, start, start + count - 1)

    def delete(self, *keys: str) -> None:
        if keys:
            self.client.delete(*keys)


class _SentAttempt:
    """An attempt on its way to Redis; calling it reads (once) and answers its window."""

    def __init__(self, store: RedisStore, client: redis.Redis, args: tuple) -> None:
        self.store, self.client, self.args = store, client, args
        self.window: Window | None = None

    def __call__(self) -> Window:
        if self.window is None:
            self.window = self.store._answer(self)
        return self.window


def _window_of(reply) -> Window:
    count, oldest = reply
    return Window(int(count), float(oldest) if oldest is not None else None)


class LocalStore:
    """The same in this process's memory; expired entries are dropped as they are met and swept
    every SWEEP_SECONDS."""

    SWEEP_SECONDS = 60

    def __init__(self):
        self._lock = threading.Lock()
        self._values: dict[str, tuple[float, int | list[str]]] = {}
        self._swept = time.monotonic()

    def _live(self, key: str, now: float):
        entry = self._values.get(key)
        if entry is not None and entry[0] <= now:
            del self._values[key]
            return None
        return entry

    def _sweep(self, now: float) -> None:
        if now - self._swept > self.SWEEP_SECONDS:
            self._swept = now
            self._values = {key: entry for key, entry in self._values.items() if entry[0] > now}

    def attempt(self, key: str, now: float, window: float, keep: int) -> Window:
        clock = time.monotonic()
        with self._lock:
            self._sweep(clock)
            entry = self._live(key, clock)
            log = entry[1] if entry else collections.deque(maxlen=keep)
            log.append(now)
            self._values[key] = (clock + window + 1, log)
            return _window(log, now, window)

    def attempt_soon(self, key: str, now: float, window: float, keep: int) -> Callable[[], Window]:
        answer = self.attempt(key, now, window, keep)  # no round trip to overlap
        return lambda: answer

    def attempts(self, key: str, now: float, window: float) -> Window:
        with self._lock:
            entry = self._live(key, time.monotonic())
            return _window(entry[1], now, window) if entry else Window(0, None)

    def add(self, key: str, ttl: int) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._live(key, now):
                return False
            self._values[key] = (now + ttl, 1)
            return True

    def append(self, key: str, value: str, ttl: int) -> None:
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            entry = self._live(key, now)
            items = entry[1] if entry else []
            items.append(value)
            self._values[key] = (now + ttl, items)

    def read(self, key: str, start: int, count: int) -> list[str]:
        with self._lock:
            entry = self._live(key, time.monotonic())
            return list(entry[1][start : start + count]) if entry else []

    def delete(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._values.pop(key, None)


def _window(log: collections.deque[float], now: float, window: float) -> Window:
    inside = [at for at in log if at > now - window]
    return Window(len(inside), min(inside) if inside else None)


@cache
def _store_for(url: str) -> Store:
    return RedisStore(url) if url else LocalStore()


def store() -> Store:
    """The store of this deployment: Redis when REDIS_URL is set, else this process's memory."""
    return _store_for(settings.REDIS_URL)
