"""The ASGI applications bench_front serves beside the project's own (config.asgi): Django's stock
ASGI handler, as every HTTP request was served before the front, and daphne's floor, an
application that answers at once."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
stock_django = get_asgi_application()


async def floor(scope, receive, send):
    """204 to any HTTP request: what daphne costs by itself."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})
