"""How a page's stage socket waits before connecting again, shared by the pages (socket.js, through
the contract) and by the load drill's clients (streaming/bench/load_sockets.py). Pure.

Full jitter: a random wait up to a bound that doubles with every failed attempt, from FIRST to
MOST seconds, back to FIRST once a snapshot came. When a server dies, its sockets all drop in the
same instant; a fixed back-off (even with a little jitter) brings them to the next server in the
same instant again, and a starved server's admissions then outlast their attempts, which come
back together once more. Spread over the whole bound, they arrive as a stream the server can take.
"""

from collections.abc import Callable

FIRST_SECONDS = 0.5
MOST_SECONDS = 8.0


def reconnect_delay(attempt: int, random: Callable[[], float]) -> float:
    """Seconds to wait before attempt `attempt` + 1 (0 after the drop), `random()` in [0, 1)."""
    if attempt < 0:
        raise ValueError(f"attempt {attempt!r} is not a count of attempts")
    return random() * min(FIRST_SECONDS * 2 ** min(attempt, 32), MOST_SECONDS)
