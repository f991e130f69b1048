"""The streaming app's benchmarks: `manage.py bench_mixer` (bench_mixer.py), our mixer beside
FFmpeg's amix, and `manage.py bench_uplink` (bench_uplink.py, its server uplink_peer.py),
browser microphone uplinks beside the channel-layer peer. Not part of the test suite."""
