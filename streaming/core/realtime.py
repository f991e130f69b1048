"""Real-time scheduling for the threads that keep the bridge's time: the mix loop and the WebRTC loop.

A tick has 20 ms, and every presenter's return leaves with it. Under the kernel's ordinary
scheduler, a busy machine can keep a woken mix thread waiting for a hundred milliseconds and more
(measured here while browsers started beside the mixer), and the browsers then buffer their
returns against that for seconds. Audio servers (JACK, PipeWire) run their audio threads with a
real-time policy for this reason, and so do we: round-robin at a modest priority, for the calling
thread only. Its work per tick is bounded (a few milliseconds), and the kernel's real-time
throttling keeps a share of every second for everything else. Where the process may not ask
for it (no CAP_SYS_NICE, no RLIMIT_RTPRIO), nothing changes and the caller is told so.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

log = logging.getLogger(__name__)


def raise_priority(priority: int) -> bool:
    """Schedule the calling thread SCHED_RR at `priority` (1-99; 0 leaves it alone). True if done."""
    if priority <= 0 or not hasattr(os, "sched_setscheduler"):
        return False
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(priority))
    except OSError as error:  # EPERM without the right; EINVAL for a priority out of range
        log.info("real-time scheduling at priority %s not allowed (%s); scheduled as usual", priority, error)
        return False
    return True


def lower_priority() -> None:
    """Back to the ordinary scheduler for the calling thread."""
    if hasattr(os, "sched_setscheduler"):
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


@contextlib.contextmanager
def realtime(priority: int) -> Iterator[bool]:
    """The calling thread real-time while inside (threads it starts meanwhile inherit it), then
    ordinary again: whether it was granted."""
    granted = raise_priority(priority)
    try:
        yield granted
    finally:
        if granted:
            lower_priority()
