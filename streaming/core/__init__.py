"""Django-free core of the audio bridge: lines, mixer, AAC/TS encoder, HLS playlist, engine."""

FRAME_SAMPLES = 960
SAMPLE_RATE = 48000
CHANNELS = 2
TICK_SECONDS = FRAME_SAMPLES / SAMPLE_RATE
