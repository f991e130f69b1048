"""ASGI middleware that lets the mixer runner live inside the server process."""

import asyncio

from streaming.runners import get_runner


class MixerRunnerMiddleware:
    """On the first connection, hand the server's event loop to the runner and start its watchdog."""

    def __init__(self, app):
        self.app = app
        self.attached = False

    async def __call__(self, scope, receive, send):
        if not self.attached:
            self.attached = True
            get_runner().attach(asyncio.get_running_loop())
        return await self.app(scope, receive, send)
