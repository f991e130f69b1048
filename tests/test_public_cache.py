"""The in-process cache of the public JSON the viewers' pages poll (config/public_cache.py)."""

import asyncio

import pytest

from config.public_cache import PublicCache, _public_max_age
from tests.factories import make_event

STATUS = "/e/launch/status.json"


class Django:
    """A stand-in for the app behind: counts requests, answers with the headers it is given, and
    holds each answer until released when told to."""

    def __init__(self, headers=((b"cache-control", b"public, max-age=2"),), status=200):
        self.headers, self.status = list(headers), status
        self.asked = 0
        self.release: asyncio.Event | None = None

    async def __call__(self, scope, receive, send):
        self.asked += 1
        if self.release is not None:
            await self.release.wait()
        await send({"type": "http.response.start", "status": self.status,
                    "headers": [(b"content-type", b"application/json"), *self.headers]})
        await send({"type": "http.response.body", "body": f'{{"n": {self.asked}}}'.encode()})


def request(cache, path=STATUS, method="GET", query=b""):
    async def go():
        sent = []

        async def send(message):
            sent.append(message)

        async def receive():
            return {"type": "http.request", "body": b""}

        scope = {"type": "http", "method": method, "path": path, "query_string": query, "headers": []}
        await cache(scope, receive, send)
        return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])

    return go()


class Clock:
    now = 100.0

    def __call__(self):
        return self.now


def test_one_request_asks_django_the_rest_get_its_answer_until_its_max_age_runs_out():
    django, clock = Django(), Clock()
    cache = PublicCache(django, clock=clock)

    async def scene():
        django.release = asyncio.Event()
        first = [asyncio.ensure_future(request(cache, query=f"v={i}".encode())) for i in range(5)]
        await asyncio.sleep(0)
        django.release.set()
        answers = await asyncio.gather(*first)
        clock.now += 1.9
        kept = await request(cache)
        clock.now += 0.2
        return answers, kept, await request(cache)

    answers, kept, after = asyncio.run(scene())
    assert answers == [(200, b'{"n": 1}')] * 5 and kept == (200, b'{"n": 1}')  # the query string changes nothing
    assert after == (200, b'{"n": 2}') and django.asked == 2


@pytest.mark.parametrize(
    "headers,status",
    [
        ([(b"cache-control", b"max-age=2")], 200),  # not public
        ([(b"cache-control", b"public")], 200),  # no max-age
        ([(b"cache-control", b"public, max-age=0")], 200),
        ([(b"cache-control", b"public, max-age=2"), (b"vary", b"Cookie")], 200),
        ([(b"cache-control", b"public, max-age=2"), (b"set-cookie", b"a=b")], 200),
        ([(b"cache-control", b"public, max-age=2")], 404),
    ],
)
def test_what_may_not_be_kept_goes_to_django_every_time(headers, status):
    django = Django(headers, status)
    cache = PublicCache(django)
    for _ in range(2):
        asyncio.run(request(cache))
    assert django.asked == 2


@pytest.mark.parametrize(("method", "path"), [("POST", STATUS), ("GET", "/e/launch/questions/mine.json"),
                                              ("GET", "/hls/1/live.m3u8")])
def test_other_requests_pass_through(method, path):
    django = Django()
    cache = PublicCache(django)
    for _ in range(2):
        asyncio.run(request(cache, path, method))
    assert django.asked == 2


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/e/launch/status.json", "/e/launch/audience.json"])
def test_djangos_public_json_may_be_kept(client, path):
    make_event()
    # As a viewer's page asks: its join session and CSRF cookie go along, and change nothing.
    response = client.get(path, HTTP_COOKIE=f"sessionid={'s' * 32}; csrftoken={'c' * 32}")
    start = {"status": response.status_code,
             "headers": [(name.lower().encode(), value.encode()) for name, value in response.items()]}
    assert _public_max_age(start) == 2
