"""A socket's messages reach their handlers on the event loop's next turn (stage/prompt_dispatch.py),
one handler at a time, in order, and nothing is handled after a handler ended the consumer."""

import asyncio

import pytest
from channels.exceptions import StopConsumer

from stage.prompt_dispatch import dispatch_each


class Source:
    """A message source as a consumer has them (the page's `receive`, the layer's): each call
    waits for the next message, handed over with `give`."""

    def __init__(self) -> None:
        self.waiting: asyncio.Future | None = None

    async def __call__(self) -> dict:
        self.waiting = asyncio.get_running_loop().create_future()
        return await self.waiting

    async def ready(self) -> None:
        while self.waiting is None or self.waiting.done():
            await asyncio.sleep(0)

    def give(self, message: dict) -> None:
        self.waiting.set_result(message)


async def test_a_message_is_handled_on_the_loops_next_turn():
    """Channels' own dispatch handles it on the third (its source's task, asyncio.wait, the consumer)."""
    page, layer, handled = Source(), Source(), []

    async def dispatch(message: dict) -> None:
        handled.append(message["n"])

    running = asyncio.ensure_future(dispatch_each([page, layer], dispatch))
    await page.ready()
    page.give({"n": 1})
    await asyncio.sleep(0)  # one turn
    assert handled == [1]
    await layer.ready()
    layer.give({"n": 2})
    await asyncio.sleep(0)
    assert handled == [1, 2]
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    assert page.waiting.cancelled() and layer.waiting.cancelled()  # nothing left waiting


async def test_handlers_run_one_at_a_time_each_sources_messages_in_order():
    page, layer, log = Source(), Source(), []
    first_may_end = asyncio.Event()

    async def dispatch(message: dict) -> None:
        log.append(("begin", message["n"]))
        if message["n"] == 1:
            await first_may_end.wait()
        log.append(("end", message["n"]))

    running = asyncio.ensure_future(dispatch_each([page, layer], dispatch))
    await page.ready()
    page.give({"n": 1})
    await layer.ready()
    layer.give({"n": 2})  # while the first is being handled
    while log != [("begin", 1)]:
        await asyncio.sleep(0)
    for _ in range(5):
        await asyncio.sleep(0)
    assert log == [("begin", 1)]  # the second waits its turn
    first_may_end.set()
    await page.ready()
    page.give({"n": 3})
    while len(log) < 6:
        await asyncio.sleep(0)
    assert log == [("begin", 1), ("end", 1), ("begin", 2), ("end", 2), ("begin", 3), ("end", 3)]
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running


async def test_nothing_is_handled_after_a_handler_ended_the_consumer():
    page, layer, handled = Source(), Source(), []
    closing = asyncio.Event()

    async def dispatch(message: dict) -> None:
        handled.append(message["n"])
        if message["n"] == 1:
            await closing.wait()
            raise StopConsumer

    running = asyncio.ensure_future(dispatch_each([page, layer], dispatch))
    await page.ready()
    page.give({"n": 1})
    await layer.ready()
    layer.give({"n": 2})  # waits for the turn the first handler ends the consumer with
    while handled != [1]:
        await asyncio.sleep(0)
    closing.set()
    with pytest.raises(StopConsumer):
        await running
    assert handled == [1]


async def test_a_failing_handler_ends_the_dispatch_with_its_error():
    page = Source()

    async def dispatch(message: dict) -> None:
        raise ValueError(message["n"])

    running = asyncio.ensure_future(dispatch_each([page], dispatch))
    await page.ready()
    page.give({"n": 7})
    with pytest.raises(ValueError, match="7"):
        await running


async def test_a_failing_source_ends_the_dispatch_once_the_handler_under_way_has_finished():
    """The page's connect is being admitted when the channel layer fails (Redis down): the
    admission still answers the page (come back later) before the consumer ends."""
    page, handled = Source(), []
    admitting = asyncio.Event()

    async def failing_layer() -> dict:
        await page.ready()
        page.give({"n": 1})
        while handled != ["begin"]:
            await asyncio.sleep(0)
        raise ConnectionError("the layer's Redis is down")

    async def dispatch(message: dict) -> None:
        handled.append("begin")
        await admitting.wait()
        handled.append("end")

    running = asyncio.ensure_future(dispatch_each([page, failing_layer], dispatch))
    while handled != ["begin"]:
        await asyncio.sleep(0)
    for _ in range(5):
        await asyncio.sleep(0)
    assert not running.done()  # the failure waits for the handler
    admitting.set()
    with pytest.raises(ConnectionError):
        await running
    assert handled == ["begin", "end"]
