"""A presenter's line over HTTP that the test can drop and bring back: a tone as ADTS AAC, served
at about real time (so a drop is heard within a second, not after a buffered minute)."""

import contextlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import numpy as np

SR = 48000
BYTES_PER_SECOND = 8000  # 64 kb/s
NETWORK_LINE_HOST = "127.0.0.1"  # the supervisors' line source policy allows this address alone
HEAD_START_SECONDS = 0.5


def write_tone(path: Path, frequency: float, seconds: float) -> None:
    t = np.arange(round(seconds * SR)) / SR
    samples = (0.25 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)[None, :]
    with av.open(str(path), "w", format="adts") as container:
        stream = container.add_stream("aac", rate=SR, layout="mono")
        stream.bit_rate = 64000
        for start in range(0, samples.shape[1], 4800):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples[:, start : start + 4800]), format="fltp", layout="mono"
            )
            frame.sample_rate = SR
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


class NetworkLine:
    """`url` plays `path`; `drop()` cuts every connection and refuses new ones, `restore()` serves again."""

    def __init__(self, path: Path):
        self.data = path.read_bytes()
        with socket.socket() as probe:
            probe.bind((NETWORK_LINE_HOST, 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://{NETWORK_LINE_HOST}:{self.port}/line.aac"
        self.connections: list[socket.socket] = []
        self.server: ThreadingHTTPServer | None = None
        self.restore()

    def restore(self) -> None:
        line = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                line.connections.append(self.connection)
                self.send_response(200)
                self.send_header("Content-Type", "audio/aac")
                self.end_headers()
                began, sent = time.monotonic(), 0
                try:
                    while sent < len(line.data):
                        allowed = int((time.monotonic() - began + HEAD_START_SECONDS) * BYTES_PER_SECOND)
                        if allowed > sent:
                            self.wfile.write(line.data[sent:allowed])
                            sent = allowed
                        time.sleep(0.05)
                except OSError:
                    pass  # dropped

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((NETWORK_LINE_HOST, self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def drop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.connections.clear()
