"""A small store for counters and logs: Redis scaled out, process memory in the embedded default.

The rate limiter and the presence log need two things Django's cache API does slowly or not at
all: an atomic counter that expires (add + incr is three Redis round trips, and builds a new
client object for each), and an append-only list. Scaled out, both are one round trip on the
Redis that REDIS_URL names (the one behind the cache and the broker). In the embedded default one
server process serves every request, so a dictionary under a lock does the same job; Django's
local-memory cache would not (it keeps 300 entries, then culls a third of them).
"""

import threading
import time
from functools import cache
from typing import Protocol

import redis
from django.conf import settings


class Store(Protocol):
    def incr(self, key: str, ttl: int) -> int:
        """Add one to `key` (created at 0, expiring `ttl` seconds after creation); the new value."""

    def get_int(self, key: str) -> int:
        """The counter's value, 0 if absent."""

    def add(self, key: str, ttl: int) -> bool:
        """Set a marker unless present; True if this call set it."""

    def append(self, key: str, value: str, ttl: int) -> None:
        """Append to the list at `key`, which expires `ttl` seconds after its last append."""

    def read(self, key: str, start: int, count: int) -> list[str]:
        """Up to `count` items of the list from index `start`."""

    def delete(self, *keys: str) -> None: ...


class RedisStore:
    def __init__(self, url: str):
        # Blocking socket reads without the 5 s default are not needed here: every call is short.
        self.client = redis.Redis.from_url(url, decode_responses=True)

    def incr(self, key: str, ttl: int) -> int:
        with self.client.pipeline(transaction=False) as pipe:
            pipe.incr(key)
            pipe.expire(key, ttl, nx=True)
            return pipe.execute()[0]

    def get_int(self, key: str) -> int:
        return int(self.client.get(key) or 0)

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

    def incr(self, key: str, ttl: int) -> int:
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            entry = self._live(key, now)
            expires, value = entry if entry else (now + ttl, 0)
            self._values[key] = (expires, value + 1)
            return value + 1

    def get_int(self, key: str) -> int:
        with self._lock:
            entry = self._live(key, time.monotonic())
            return entry[1] if entry else 0

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


@cache
def _store_for(url: str) -> Store:
    return RedisStore(url) if url else LocalStore()


def store() -> Store:
    """The store of this deployment: Redis when REDIS_URL is set, else this process's memory."""
    return _store_for(settings.REDIS_URL)
