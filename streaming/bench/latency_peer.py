"""bench_latency's peer: the same tone as the show's presenter, mixed in real time and cut by
FFmpeg's own HLS muxer (through PyAV, 1 s segments, program date-time on), for nginx to serve.

Run as `python -m streaming.bench.latency_peer FOLDER [--priority N]` until SIGTERM. Its program
date-time is honest, as ours is (the wall clock at which a segment's first sample was mixed):
FFmpeg stamps the first segment with the wall clock when the muxer starts and every later one
with that plus the audio before it, starting from the encoder's first packet, whose 1024 priming
samples come before the first sample mixed; so the mix loop's sample clock starts 1024 samples
after the muxer does, and each 20 ms tick hands its samples over when the clock reaches them
(the mix thread at the same real-time priority as our mixer's). On SIGTERM it writes
FOLDER/clock.json: how far the first program date-time FFmpeg wrote lies from that clock, and
how late the ticks came.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import threading
import time
from datetime import datetime
from pathlib import Path

import av

from streaming.core.realtime import realtime

SAMPLE_RATE = 48000
TICK = 960  # 20 ms, our mixer's tick
PRIMING = 1024  # FFmpeg's AAC encoder: its first packet starts this many samples before the first sample
TONE = "sine=frequency={frequency}:sample_rate=48000"  # the show's presenter line, as lavfi reads it
PLAYLIST = "live.m3u8"
CLOCK = "clock.json"
# A user who picks FFmpeg's muxer for live audio: 1 s segments stamped with program date-time,
# a window of six, old ones deleted, files renamed into place only once complete.
MUXER_OPTIONS = {
    "hls_time": "1",
    "hls_list_size": "6",
    "hls_flags": "program_date_time+independent_segments+delete_segments+temp_file",
    "hls_segment_filename": "segment_%06d.ts",
}
FIRST_PDT = re.compile(r"#EXT-X-MEDIA-SEQUENCE:0\n(?:#EXTINF:[^\n]*\n)?#EXT-X-PROGRAM-DATE-TIME:(\S+)")

# The peer's page, for nginx beside the playlist: hls.js with its defaults and the recovery its
# documentation gives; bench_latency injects the same probe into it as into ours.
PAGE = """<!doctype html>
<html lang="en"><meta charset="utf-8"><title>bench_latency peer</title>
<audio id="program"></audio>
<script src="hls.js"></script>
<script src="player.js"></script>
</html>
"""
PLAYER = """const audio = document.getElementById("program");
const hls = new Hls();
hls.on(Hls.Events.MANIFEST_PARSED, () => audio.play());
hls.on(Hls.Events.ERROR, (_event, data) => {
  if (!data.fatal) return;
  if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
  else hls.startLoad();
});
hls.loadSource("live.m3u8");
hls.attachMedia(audio);
"""
SITE = """server {{
    listen {listen};
    root {root};
    types {{
        text/html html;
        text/javascript js;
        application/vnd.apple.mpegurl m3u8;
        video/mp2t ts;
    }}
    # As nginx-rtmp's and most HLS guides set it: the playlist changes every segment.
    location ~ \\.m3u8$ {{
        add_header Cache-Control no-cache;
    }}
}}
"""


def write_site(folder: Path, hls_js: Path, listen: str, output: Path) -> None:
    """The peer's page, player and nginx site serving them and the HLS files from `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(PAGE)
    (folder / "player.js").write_text(PLAYER)
    (folder / "hls.js").write_bytes(hls_js.read_bytes())
    output.write_text(SITE.format(listen=listen, root=folder))


class Tone:
    """The presenter's line: lavfi's sine, as stereo float frames of any length."""

    def __init__(self, frequency: int) -> None:
        self._container = av.open(TONE.format(frequency=frequency), format="lavfi")
        self._frames = self._container.decode(audio=0)
        self._resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
        self._fifo = av.AudioFifo()

    def read(self, samples: int) -> av.AudioFrame:
        while self._fifo.samples < samples:
            for frame in self._resampler.resample(next(self._frames)):
                self._fifo.write(frame)
        return self._fifo.read(samples)

    def close(self) -> None:
        self._container.close()


def first_pdt_offset(folder: Path, mixed_at: float) -> float | None:
    """Seconds between the first segment's program date-time and the wall clock at which its
    first sample (the encoder's priming) was due; None until the playlist lists it."""
    try:
        found = FIRST_PDT.search((folder / PLAYLIST).read_text())
    except OSError:
        return None
    if not found:
        return None
    stamped = datetime.strptime(found.group(1), "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()
    return stamped - (mixed_at - PRIMING / SAMPLE_RATE)


def run(folder: Path, frequency: int, priority: int, stop: threading.Event) -> dict:
    """Mix and cut until `stop`; the clock's figures."""
    tone = Tone(frequency)
    late: list[float] = []
    offset = None
    options = dict(MUXER_OPTIONS, hls_segment_filename=str(folder / MUXER_OPTIONS["hls_segment_filename"]))
    with av.open(str(folder / PLAYLIST), "w", format="hls", options=options) as container:
        stream = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        stream.bit_rate = 128000  # as ours
        with realtime(priority) as granted:
            container.start_encoding()  # FFmpeg reads the wall clock for the first program date-time here
            # The first sample mixed is due once the priming samples before it have had their time.
            started = time.time() + PRIMING / SAMPLE_RATE
            tick = 0
            while not stop.is_set():
                due = started + tick * TICK / SAMPLE_RATE
                time.sleep(max(0.0, due - time.time()))
                late.append(time.time() - due)
                frame = tone.read(TICK)
                frame.pts = tick * TICK
                for packet in stream.encode(frame):
                    container.mux(packet)
                tick += 1
                if offset is None:
                    offset = first_pdt_offset(folder, started)
    tone.close()
    late.sort()
    return {
        "pdt_offset_ms": None if offset is None else round(1000 * offset, 1),
        "late_ms_p99": round(1000 * late[int(0.99 * (len(late) - 1))], 1) if late else None,
        "late_ms_max": round(1000 * late[-1], 1) if late else None,
        "ticks": len(late),
        "realtime": granted,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--frequency", type=int, default=440)
    parser.add_argument("--priority", type=int, default=0, help="SCHED_RR priority of the mix loop (0: none)")
    arguments = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    figures = run(arguments.folder, arguments.frequency, arguments.priority, stop)
    (arguments.folder / CLOCK).write_text(json.dumps(figures))


if __name__ == "__main__":
    main()
