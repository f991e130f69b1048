"""Requests through the ASGI front (streaming/front.py), as daphne would make them, for tests that
prove the same behaviour of the front and of the Django view behind it.

`FrontClient(client)` wraps Django's test client: a request goes to the front first; if the front
leaves it to Django, the wrapped client sends it to Django as before. Cookies are the wrapped
client's, both ways.
"""

from urllib.parse import urlsplit

import pytest
from asgiref.sync import async_to_sync
from django.http import HttpResponse

from streaming.front import MediaFront


class LeftToDjango(Exception):
    """The front passed the request on."""


async def _django(scope, receive, send):
    raise LeftToDjango


FRONT = MediaFront(_django)


@pytest.fixture(params=["django", "front"], name="client")
def client_both_ways(request, client):
    """Django's test client, and the same through the front: import it into a test module whose
    tests should hold for both."""
    return client if request.param == "django" else FrontClient(client)


class FrontClient:
    def __init__(self, client):
        self.client = client
        # Which answered the last request: "front" or "django".
        self.answered_by = None

    def __getattr__(self, name):
        return getattr(self.client, name)

    def get(self, path, data=None, **extra):
        return self._request("GET", path, b"", extra, lambda: self.client.get(path, data, **extra))

    def head(self, path, data=None, **extra):
        return self._request("HEAD", path, b"", extra, lambda: self.client.head(path, data, **extra))

    def post(self, path, data=None, content_type="application/octet-stream", **extra):
        body = (data or "").encode() if isinstance(data, (str, type(None))) else data
        return self._request(
            "POST", path, body, extra | {"CONTENT_TYPE": content_type},
            lambda: self.client.post(path, data, content_type=content_type, **extra),
        )

    def _request(self, method, path, body, extra, to_django):
        url = urlsplit(path)
        headers = [(b"host", b"testserver")]
        if self.client.cookies:
            cookie = "; ".join(f"{name}={morsel.coded_value}" for name, morsel in self.client.cookies.items())
            headers.append((b"cookie", cookie.encode()))
        for key, value in extra.items():
            if key.startswith("HTTP_") or key == "CONTENT_TYPE":
                headers.append((key.removeprefix("HTTP_").replace("_", "-").lower().encode(), str(value).encode()))
        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
            "path": url.path, "raw_path": url.path.encode(), "query_string": url.query.encode(), "root_path": "",
            "headers": headers, "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
        }
        try:
            status, response_headers, content = async_to_sync(self._call)(scope, body)
        except LeftToDjango:
            self.answered_by = "django"
            return to_django()
        self.answered_by = "front"
        response = HttpResponse(content, status=status)
        del response["Content-Type"]
        for name, value in response_headers:
            if name == b"set-cookie":
                response.cookies.load(value.decode("latin-1"))
            else:
                response[name.decode("latin-1")] = value.decode("latin-1")
        self.client.cookies.update(response.cookies)  # as Django's client keeps them
        return response

    @staticmethod
    async def _call(scope, body):
        messages = []
        sent = False

        async def receive():
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            messages.append(message)

        await FRONT(scope, receive, send)
        start = messages[0]
        assert start["type"] == "http.response.start" and all(m["type"] == "http.response.body" for m in messages[1:])
        assert not messages[-1].get("more_body", False)
        return start["status"], start["headers"], b"".join(m.get("body", b"") for m in messages[1:])
