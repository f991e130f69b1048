"""A Redis that restarts without its data forgets which channels are in which group; a server's
stage feed joins its groups again at its next heartbeat, so consoles get pushes again. The
heartbeat reaches every socket with the stage's version."""

import asyncio

import pytest
import redis
from channels.db import database_sync_to_async
from django.conf import settings

from events.harness import wait_for
from stage.groups import stage_group
from tests.factories import make_event, make_producer, make_tone_presenter
from tests.stage.sockets import Console, session_cookie

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not settings.REDIS_URL, reason="group memberships live in Redis"),
]


@pytest.fixture
def show(settings):
    settings.STAGE_HEARTBEAT_SECONDS = 0.5
    event = make_event("recovery")
    line = make_tone_presenter(event, "Ada", 440).line_id
    return {"event": event.pk, "line": line, "cookie": session_cookie(make_producer(event, "alice"))}


def group_keys(client: redis.Redis, event_id: int) -> list[bytes]:
    """The Redis keys that hold the members of the event's stage group."""
    return [key for key in client.scan_iter("*group*") if stage_group(event_id).encode() in key]


def forget_groups(event_id: int) -> int:
    """What a restart without persistence does to the event's group: its members are gone."""
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        keys = group_keys(client, event_id)
        return client.delete(*keys) if keys else 0


def rejoined(event_id: int) -> None:
    """Wait until the server's feed is a member of the event's group again."""
    with redis.Redis.from_url(settings.REDIS_URL) as client:
        wait_for(lambda: any(client.zcard(key) for key in group_keys(client, event_id)), 10, "the feed to rejoin")


async def test_a_feed_whose_group_was_forgotten_joins_again_and_pushes_resume(show):
    watcher = await Console(show["event"], show["cookie"]).open()
    producer = await Console(show["event"], show["cookie"]).open()
    assert await database_sync_to_async(forget_groups)(show["event"]) == 1
    await asyncio.to_thread(rejoined, show["event"])  # at the feed's next refresh
    await producer.command("set_mute", line=show["line"], muted=True)
    await watcher.until("delta")
    assert watcher.state["lines"][show["line"]]["muted"] is True
    await watcher.close()
    await producer.close()


async def test_every_socket_hears_the_heartbeat_with_the_stage_version(show):
    console = await Console(show["event"], show["cookie"]).open()
    await console.command("set_mute", line=show["line"], muted=True)
    beat = await console.until("heartbeat")
    assert (beat["version"], beat["every"]) == (1, 0.5)
    await console.close()
