"""Snapshot reads shared by the sockets that ask at once (stage/shared_reads.py): never a read
begun before the asker asked, at most one running and one waiting per key, failures to every
sharer, one sharer's cancellation nobody else's."""

import asyncio

import pytest

from stage.shared_reads import SharedReads


class Store:
    """A read that waits until released, and numbers itself by when it began."""

    def __init__(self) -> None:
        self.began: list[str] = []
        self.release = asyncio.Event()
        self.fail_next = False

    async def read(self, key: str) -> tuple[str, int]:
        self.began.append(key)
        number = len(self.began)
        failing, self.fail_next = self.fail_next, False
        await self.release.wait()
        if failing:
            raise RuntimeError("the database is down")
        return key, number


async def until(condition) -> None:
    while not condition():
        await asyncio.sleep(0)


async def test_askers_during_a_read_share_the_next_one_never_the_running_one():
    store = Store()
    reads = SharedReads(store.read)
    first = asyncio.ensure_future(reads.get("event-1"))
    await until(lambda: store.began)
    later = [asyncio.ensure_future(reads.get("event-1")) for _ in range(50)]
    await asyncio.sleep(0)
    store.release.set()
    assert await first == ("event-1", 1)
    assert {await asker for asker in later} == {("event-1", 2)}
    assert store.began == ["event-1", "event-1"]


async def test_keys_are_read_apart():
    store = Store()
    reads = SharedReads(store.read)
    store.release.set()
    assert await asyncio.gather(reads.get("event-1"), reads.get("event-2")) == [("event-1", 1), ("event-2", 2)]


async def test_a_failed_read_fails_its_askers_and_those_who_came_meanwhile_read_anew():
    store = Store()
    reads = SharedReads(store.read)
    store.fail_next = True
    failing = [asyncio.ensure_future(reads.get("event-1")) for _ in range(2)]
    await asyncio.sleep(0)
    await until(lambda: store.began)
    waiting = asyncio.ensure_future(reads.get("event-1"))
    store.release.set()
    for asker in failing:
        with pytest.raises(RuntimeError, match="the database is down"):
            await asker
    assert await waiting == ("event-1", 2)


async def test_a_cancelled_asker_leaves_the_read_to_the_others():
    store = Store()
    reads = SharedReads(store.read)
    leaving, staying = asyncio.ensure_future(reads.get("event-1")), asyncio.ensure_future(reads.get("event-1"))
    await until(lambda: store.began)
    leaving.cancel()
    store.release.set()
    assert await staying == ("event-1", 1)
    assert leaving.cancelled()
    assert store.began == ["event-1"]
