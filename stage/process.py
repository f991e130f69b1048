"""Settings for a server process that holds many stage sockets.

A full collection of Python's cyclic garbage collector scans every live object. At a thousand
sockets a daphne process holds about half a million of them, and with the default thresholds a
full collection (about 150 ms, measured with `bench_stage`) ran after nearly every cue, stalling
that cue's delivery to everyone. Called once from the ASGI entry point, after the application is
loaded: everything loaded so far is moved out of the collector's way for good (`gc.freeze`), and
collections run less often, so young garbage is still collected and long pauses become rare.
"""

import gc

# Collections of the youngest generation after this many new container objects (default 700),
# and of the older ones after this many of the younger (default 10 and 10).
THRESHOLDS = (50_000, 20, 20)


def tune_garbage_collector() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
