"""The stage's benchmark: `manage.py bench_stage` (bench_stage.py), cue delivery latency through
the stage's fan-out beside the textbook Channels group, on one daphne with the Redis channel
layer; its server (asgi.py, consumers.py) and load process (load.py). Not part of the test suite."""
