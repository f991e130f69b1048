"""asgiref's one thread for thread-sensitive calls, held by something slow."""

import contextlib
import threading

from asgiref.sync import SyncToAsync


@contextlib.contextmanager
def shared_thread_held():
    """Until the block ends, asgiref's shared thread (every thread-sensitive `sync_to_async` and
    `database_sync_to_async` outside a request's context) runs nothing else, as when a slow call
    holds it (a vote recount once held it for most of a second on a saturated server)."""
    release = threading.Event()
    holding = SyncToAsync.single_thread_executor.submit(release.wait)
    try:
        yield
    finally:
        release.set()
        holding.result()
