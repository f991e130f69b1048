"""Settings for a server process that holds many stage sockets.

A full collection of Python's cyclic garbage collector scans every live object. At a thousand
sockets a daphne process holds about half a million of them: with the default thresholds a full
collection (about 150 ms, measured with `bench_stage`) ran after nearly every cue, stalling that
cue's delivery to everyone. Called once from the ASGI entry point, after the application is
loaded: everything loaded so far is moved out of the collector's way for good (`gc.freeze`); the
youngest generation is collected less often (still a few milliseconds each), and full
collections become rare. Young cyclic garbage is still collected.
"""

import gc

# A young collection after this many new container objects (default 700), a middle one after
# this many young ones (default 10), a full one after this many middle ones (default 10).
THRESHOLDS = (5_000, 10, 100)


def tune_garbage_collector() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
