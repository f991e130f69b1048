"""Django under daphne (config/django_http.py): a sync view's request, signals and middleware
included, runs in one thread of the handler's pool, and ends there before it is sent; an async
view takes Django's own async path. The routes are this module's own (ROOT_URLCONF)."""

import asyncio
import threading

import pytest
from django.core.signals import request_finished
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path

from config.django_http import OneHopHandler

seen: dict[str, str] = {}


def sync_view(request):
    seen["view"] = threading.current_thread().name
    return HttpResponse(b"sync", content_type="text/plain")


def streaming_view(request):
    def chunks():
        seen["iterated"] = threading.current_thread().name
        yield b"one,"
        yield b"two"

    return StreamingHttpResponse(chunks(), content_type="text/csv")


async def async_view(request):
    seen["loop"] = asyncio.get_running_loop() is not None
    return HttpResponse(b"async", content_type="text/plain")


urlpatterns = [path("sync/", sync_view), path("streamed/", streaming_view), path("async/", async_view)]


@pytest.fixture
def handler(settings):
    settings.ROOT_URLCONF = __name__
    seen.clear()

    def finished(**kwargs):
        seen["finished"] = threading.current_thread().name

    request_finished.connect(finished)
    yield OneHopHandler(threads=2)
    request_finished.disconnect(finished)


def get(handler, path: str) -> tuple[int, bytes]:
    async def go():
        sent, asked = [], []

        async def receive():
            if asked:  # the client stays: no disconnect comes
                await asyncio.Future()
            asked.append(True)
            return {"type": "http.request", "body": b""}

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "root_path": "",
                 "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80)}
        await handler(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    return asyncio.run(go())


def test_a_sync_view_runs_and_ends_in_one_thread_of_the_pool(handler):
    assert get(handler, "/sync/") == (200, b"sync")
    assert seen["view"].startswith("django-http") and seen["finished"] == seen["view"]


def test_a_streamed_answer_is_read_and_ended_in_the_views_thread(handler):
    assert get(handler, "/streamed/") == (200, b"one,two")
    assert seen["iterated"].startswith("django-http") and seen["finished"] == seen["iterated"]


def test_an_async_view_takes_djangos_async_path(handler):
    assert get(handler, "/async/") == (200, b"async")
    assert seen["loop"] is True and not seen["finished"].startswith("django-http")


def test_a_path_nothing_routes_is_the_sync_chains_404(handler):
    assert get(handler, "/nowhere/")[0] == 404
    assert seen["finished"].startswith("django-http")
