"""`manage.py bench_stage`: cue delivery latency through the stage's fan-out beside the textbook
Channels group, on one daphne with the Redis channel layer. Not part of the test suite."""
