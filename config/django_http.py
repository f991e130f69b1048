"""Django's HTTP handler under daphne: a sync view's whole request in one hop to a worker thread.

Django's own ASGI handler makes a thread for every request and hops to it and back for the
request signals, for each sync middleware on the way in and out, and for the view: about twenty
hops here, which cost about 3 ms of CPU a request, several times what the views themselves cost
(`manage.py bench_front`). For a sync view this handler runs the request as a WSGI server would,
signals, middleware and view together, in one hop to a thread of a small pool whose threads (and
their database connections, pooled by psycopg) are reused. Async views (low-latency HLS's
blocking reloads) take Django's own async path, unchanged.

A streaming response of a sync iterator is read whole in the same hop, as Django's own ASGI
handler reads it (`sync_to_async(list)`), so the request ends, its database connection too, in
the thread it ran in.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.http import HttpResponse
from django.urls import Resolver404, get_resolver, set_script_prefix


class _SyncChain(BaseHandler):
    """The middleware chain in sync mode, as a WSGI handler loads it."""

    def __init__(self):
        self.load_middleware(is_async=False)


class OneHopHandler(ASGIHandler):
    """ASGI handler: sync views in one hop to a pooled thread; async views as Django does."""

    def __init__(self, threads: int = 4):
        super().__init__()
        self.chain = _SyncChain()
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="django-http")

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or self._async_view(scope):
            return await super().__call__(scope, receive, send)
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        try:
            response = await sync_to_async(self._respond, thread_sensitive=False, executor=self.pool)(scope, body_file)
        finally:
            body_file.close()
        await self.send_response(response, send)

    def _respond(self, scope, body_file) -> HttpResponse:
        """The whole request, in the pool's thread: ended (closed, request_finished sent) before it
        is sent, its body already read."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.chain.get_response(request)
        response._handler_class = self.__class__
        if response.streaming and not response.is_async:
            response.streaming_content = _replay(list(response.streaming_content))
        response.close()
        return response

    @staticmethod
    def _async_view(scope) -> bool:
        """Whether the path routes to an async view (anything unroutable is the sync chain's 404)."""
        try:
            match = get_resolver(settings.ROOT_URLCONF).resolve(scope["path"].removeprefix(scope.get("root_path", "")))
        except Resolver404:
            return False
        return iscoroutinefunction(match.func)


async def _replay(chunks: list[bytes]):
    for chunk in chunks:
        yield chunk
