"""A presenter's presence behind a proxy with two server processes: a reload whose new socket lands
on the other process keeps them on air (the first process asks the presenter's group before it
reports a drop), and leaving for good still drops them. Two real daphnes on the test database and
Redis; scaled out only (the embedded default is one process)."""

import os
from contextlib import ExitStack
from pathlib import Path

import pytest
from django.conf import settings

from events import harness
from events.harness import database_url, wait_for
from events.models import Presenter
from tests.factories import PASSWORD, make_event, make_producer
from tests.live import Browser, StageClient

pytestmark = [
    pytest.mark.live,
    pytest.mark.django_db(transaction=True),
    pytest.mark.timeout(120),
    pytest.mark.skipif(not settings.REDIS_URL, reason="server processes share the channel layer over Redis"),
]

GRACE_SECONDS = "0.5"


def servers(stack: ExitStack, folder: Path, count: int) -> list[tuple[str, Path]]:
    """`count` daphnes on the test database and Redis (no workers: nothing here needs one); each
    one's base URL and log."""
    env = os.environ | {
        "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL, "DJANGO_SETTINGS_MODULE": "config.settings",
        "PLAIN_HTTP": "true", "HLS_ROOT": str(folder), "MIXER_AUTOSTART": "false",
        "STAGE_PRESENCE_GRACE_SECONDS": GRACE_SECONDS,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    started = []
    for number in range(count):
        log = folder / f"server-{number}.log"
        started.append((stack.enter_context(harness.running_server(env, log)).url, log))
    return started


def test_a_reload_that_lands_on_another_server_keeps_the_presenter_on_air(tmp_path):
    event = make_event("two-servers", title="Two servers")
    ada = Presenter.objects.create(event=event, name="Ada", position=1)
    make_producer(event)
    room_path = f"/ws/events/{event.pk}/greenroom/{ada.pk}/{ada.access_key}/"
    with ExitStack() as stack:
        (one, one_log), (two, _) = servers(stack, tmp_path, 2)
        producer = Browser(one)
        login = {"username": "producer", "password": PASSWORD}
        producer.post_form(f"/accounts/login/?next=/console/{event.pk}/", login)
        console = StageClient(stack.enter_context(producer.websocket(f"/ws/events/{event.pk}/console/")))
        me = ada.line_id

        first_room = Browser(one).websocket(room_path)
        StageClient(first_room)
        console.until(lambda s: s["presenters"][me]["connected"], 10, "Ada connected")
        assert console.command("set_on_air", line=me, on_air=True)["type"] == "ack"

        # A reload behind the proxy: the new socket opens on the other server, then the old one closes.
        second_room = Browser(two).websocket(room_path)
        StageClient(second_room)
        first_room.close()
        wait_for(lambda: "is back on another server process; no drop" in one_log.read_text(), 20,
                 "the first server to find Ada's socket on the second")
        assert console.state["presenters"][me]["connected"] is True and console.state["lines"][me]["on_air"] is True

        # Gone for good: nobody answers the second server's question, and the drop is reported.
        second_room.close()
        console.until(lambda s: not s["presenters"][me]["connected"] and not s["lines"][me]["on_air"], 20,
                      "Ada dropped and off air")
