"""Mixer throughput: our core against FFmpeg's amix graph (PyAV), same AAC encoder and HLS writer.

Run `manage.py bench_mixer [--json]` (or `python -m streaming.bench.bench_mixer [--json]`).
Real-time factor = seconds of programme per CPU second (time.process_time); ratio = ours / amix,
of the best run of each side, and the spread of the ratio over the alternating runs (each run's
ours beside the amix run next to it). Also the CPU share of one live 8-line engine.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path

import av
import av.filter
import numpy as np

from streaming.core import SAMPLE_RATE
from streaming.core.encoder import AacSegmenter
from streaming.core.engine import MixEngine
from streaming.core.lines import LineSpec
from streaming.core.mixer import Mixer
from streaming.core.playlist import PlaylistWriter

SECONDS = 60
LINE_COUNTS = (1, 8, 32, 64)
DISTINCT_FILES = 8
BLOCK = 19200  # 400 ms per mix step offline; the live engine uses 20 ms ticks
GAIN_DB = -18.0
LIVE_SECONDS = 10.0  # how long the live engine is timed


def generate_material(directory: Path, seconds: float = SECONDS) -> list[Path]:
    """Eight AAC-LC 128k stereo files (60 s by default): tones, chords, noise; line i plays file i mod 8."""
    rng = np.random.default_rng(0)
    t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    paths = []
    for index in range(DISTINCT_FILES):
        base = 110 * (index + 2)
        left = 0.3 * np.sin(2 * np.pi * base * t) + 0.1 * np.sin(2 * np.pi * base * 1.5 * t)
        right = 0.3 * np.sin(2 * np.pi * base * 1.25 * t)
        noise = 0.05 * rng.standard_normal((2, t.size))
        signal = (np.stack([left, right]) + noise).astype(np.float32)
        path = directory / f"line{index}.aac"
        with av.open(str(path), "w", format="adts") as container:
            stream = container.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
            stream.bit_rate = 128000
            for start in range(0, t.size, 4800):
                chunk = np.ascontiguousarray(signal[:, start : start + 4800])
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
                frame.sample_rate = SAMPLE_RATE
                container.mux(stream.encode(frame))
            container.mux(stream.encode(None))
        paths.append(path)
    return paths


def decoded_frames(path: Path) -> Iterator[av.AudioFrame]:
    """Every decoded frame of a file, in 48 kHz stereo fltp (resampled only when it is not)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        codec = stream.codec_context
        if (codec.format.name, codec.layout.name, codec.sample_rate) == ("fltp", "stereo", SAMPLE_RATE):
            yield from container.decode(stream)
            return
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
        for frame in container.decode(stream):
            yield from resampler.resample(frame)


class LineDecoder:
    """One line decoded into its row of the mix through an AudioFifo.

    The fifo regroups the decoder's 1024-sample frames in C; measured here it costs half of
    what slicing each frame's planes into the row from Python does (4.3 against 9 ms per
    line-minute, beside 33 ms of AAC decoding).
    """

    def __init__(self, path: Path) -> None:
        self._frames = decoded_frames(path)
        self._fifo = av.AudioFifo()

    def fill(self, row: np.ndarray) -> bool:
        """Fill a (2, N) row with the next N samples; False when the file ended first."""
        wanted = row.shape[1]
        while self._fifo.samples < wanted:
            frame = next(self._frames, None)
            if frame is None:
                return False
            self._fifo.write(frame)
        block = self._fifo.read(wanted)
        left, right = block.planes
        row[0] = np.frombuffer(left, np.float32, wanted)
        row[1] = np.frombuffer(right, np.float32, wanted)
        return True


def publish(writer: PlaylistWriter, segments) -> None:
    for segment in segments:
        writer.add_segment(segment.data, segment.duration, datetime.now(UTC))


def mix_ours(paths: list[Path], out_dir: Path) -> float:
    """Our Mixer + AacSegmenter + PlaylistWriter, offline; returns CPU seconds."""
    began = time.process_time()
    mixer = Mixer(frame_samples=BLOCK)
    names = [f"line{i}" for i in range(len(paths))]
    mixer.set_gains(dict.fromkeys(names, GAIN_DB))
    segmenter = AacSegmenter()
    writer = PlaylistWriter(out_dir)
    writer.begin_run()
    lines = [LineDecoder(path) for path in paths]
    # Each line decodes into its own row; the mixer sums the rows in one product with the gains.
    stack = np.empty((len(paths), 2, BLOCK), dtype=np.float32)
    while all(line.fill(stack[index]) for index, line in enumerate(lines)):
        publish(writer, segmenter.push(mixer.mix_stack(names, stack)))
    publish(writer, segmenter.finish())
    return time.process_time() - began


def mix_amix(paths: list[Path], out_dir: Path) -> float:
    """FFmpeg's amix graph (per line aformat; amix with each line's gain as its weight → alimiter),
    same encoder and writer."""
    began = time.process_time()
    graph = av.filter.Graph()
    # amix's own weights are the cheapest per-line gain FFmpeg has (no filter per line); with
    # normalize=0 it sums weight × line, as ours sums gain × line.
    weights = " ".join([f"{10 ** (GAIN_DB / 20):.9g}"] * len(paths))
    amix = graph.add("amix", f"inputs={len(paths)}:normalize=0:duration=shortest:weights={weights}")
    sources = []
    for index in range(len(paths)):
        source = graph.add_abuffer(
            sample_rate=SAMPLE_RATE, format="fltp", layout="stereo", time_base=Fraction(1, SAMPLE_RATE)
        )
        aformat = graph.add("aformat", "sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo")
        source.link_to(aformat)
        aformat.link_to(amix, 0, index)
        sources.append(source)
    # alimiter's limit is linear: 0.891 = -1 dBFS, the same ceiling as ours.
    limiter = graph.add("alimiter", "limit=0.891:level=0")
    # alimiter works in doubles; convert back for the encoder.
    output_format = graph.add("aformat", "sample_fmts=fltp:sample_rates=48000:channel_layouts=stereo")
    sink = graph.add("abuffersink")
    amix.link_to(limiter)
    limiter.link_to(output_format)
    output_format.link_to(sink)
    graph.configure()
    segmenter = AacSegmenter()
    writer = PlaylistWriter(out_dir)
    writer.begin_run()

    def drain() -> None:
        while True:
            try:
                frame = sink.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return
            publish(writer, segmenter.push(_planes(frame)))

    streams = [decoded_frames(path) for path in paths]
    pts = [0] * len(paths)
    time_base = Fraction(1, SAMPLE_RATE)  # one object: a Fraction per frame would bill amix for our harness
    for frames in zip(*streams, strict=False):
        for index, frame in enumerate(frames):
            frame.pts = pts[index]
            frame.time_base = time_base
            pts[index] += frame.samples
            sources[index].push(frame)
        drain()
    for source in sources:
        source.push(None)
    drain()
    publish(writer, segmenter.finish())
    return time.process_time() - began


def _planes(frame: av.AudioFrame) -> np.ndarray:
    out = np.empty((2, frame.samples), dtype=np.float32)
    for channel, plane in enumerate(frame.planes):
        out[channel] = np.frombuffer(plane, np.float32, frame.samples)
    return out


def live_cpu_share(paths: list[Path], out_dir: Path, seconds: float = LIVE_SECONDS) -> float:
    """CPU seconds per wall second of one real-time engine mixing 8 looping file lines."""
    engine = MixEngine(out_dir)
    specs = [LineSpec(f"line{i}", str(paths[i % len(paths)]), loop=True) for i in range(8)]
    engine.set_lines(specs)
    engine.set_mix(dict.fromkeys((spec.line_id for spec in specs), GAIN_DB))
    stop = threading.Event()
    thread = threading.Thread(target=engine.run, args=(stop,))
    thread.start()
    time.sleep(1.0)  # let the readers open and fill
    cpu, wall = time.process_time(), time.monotonic()
    time.sleep(seconds)
    share = (time.process_time() - cpu) / (time.monotonic() - wall)
    stop.set()
    thread.join()
    engine.end_show()
    return share


def run(
    *,
    as_json: bool = False,
    runs: int = 5,
    line_counts: tuple[int, ...] = LINE_COUNTS,
    seconds: float = SECONDS,
    live_seconds: float = LIVE_SECONDS,
    write: Callable[[str], object] = print,
) -> dict:
    """Measure every line count and the live share; print a line each (or one JSON object)."""
    result: dict = {"lines": {}}
    with tempfile.TemporaryDirectory() as temporary:
        root = Path(temporary)
        files = generate_material(root, seconds)
        for count in line_counts:
            paths = [files[i % DISTINCT_FILES] for i in range(count)]
            # Alternating runs see the same load from anything else on the machine; best of each,
            # and the spread of the paired runs' ratios.
            # Who goes first alternates too, so load that comes and goes every few seconds
            # cannot fall on the same side in every run.
            timings: dict = {mix_ours: [], mix_amix: []}
            for run_number in range(runs):
                order = [mix_ours, mix_amix] if run_number % 2 == 0 else [mix_amix, mix_ours]
                for mix in order:
                    timings[mix].append(mix(paths, _fresh(root, f"{mix.__name__}{count}")))
            ours, amix = min(timings[mix_ours]), min(timings[mix_amix])
            # Each run's ratio pairs the two sides of that run, which saw the same load.
            ratios = [a / o for o, a in zip(timings[mix_ours], timings[mix_amix], strict=True)]
            row = {
                "ours_rtf": seconds / ours,
                "amix_rtf": seconds / amix,
                "ratio": amix / ours,
                "ratio_min": min(ratios),
                "ratio_p50": float(np.median(ratios)),
                "ratio_max": max(ratios),
            }
            result["lines"][str(count)] = {key: round(value, 2) for key, value in row.items()}
            if not as_json:
                write(
                    f"{count:>3} lines: ours {row['ours_rtf']:6.1f}x  amix {row['amix_rtf']:6.1f}x  "
                    f"ours/amix {row['ratio']:.2f}  (runs {row['ratio_min']:.2f}–{row['ratio_max']:.2f}, "
                    f"p50 {row['ratio_p50']:.2f}, n={runs})"
                )
        result["live_cpu_share_8_lines"] = round(live_cpu_share(files, _fresh(root, "live"), live_seconds), 4)
    if as_json:
        write(json.dumps(result))
    else:
        write(f"live engine, 8 lines: {100 * result['live_cpu_share_8_lines']:.2f} % of one core")
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of both entry points: this module's `main` and `manage.py bench_mixer`."""
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--runs", type=int, default=5, help="alternating runs per line count (best and spread)")
    parser.add_argument("--lines", type=int, nargs="+", default=LINE_COUNTS, help="line counts to measure")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="length of every line's file")
    parser.add_argument("--live-seconds", type=float, default=LIVE_SECONDS, help="how long the live engine is timed")


def run_with(options: dict, write: Callable[[str], object]) -> dict:
    """`run` with the parsed options of `add_arguments`."""
    return run(
        as_json=options["json"],
        runs=options["runs"],
        line_counts=tuple(options["lines"]),
        seconds=options["seconds"],
        live_seconds=options["live_seconds"],
        write=write,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    run_with(vars(parser.parse_args()), lambda text: print(text, flush=True))


def _fresh(root: Path, name: str) -> Path:
    directory = root / name / str(time.monotonic_ns())
    directory.mkdir(parents=True)
    return directory


if __name__ == "__main__":
    main()
