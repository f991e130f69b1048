"""autobahn (daphne's WebSocket protocol) pretty-prints its configuration and the transport's
details for a debug log line on every connection, whether debug lines are written or not: about
0.8 ms of CPU a socket here, a sixth of what admitting a socket costs daphne, paid 500 times at
once when the load drill's killed daphne's sockets reconnect (`manage.py bench_load`). Here that
text is made only when a line that names it is written.
"""

import pprint

from autobahn.websocket import protocol


class LazyPformat:
    """`pprint.pformat(value)`, made when formatted, not when passed to a logger."""

    __slots__ = ("value",)

    def __init__(self, value) -> None:
        self.value = value

    def __str__(self) -> str:
        return pprint.pformat(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


def defer_debug_formatting() -> None:
    """Make autobahn's per-connection debug text only when a debug line is written."""
    protocol.pformat = LazyPformat
