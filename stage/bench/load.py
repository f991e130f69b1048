"""The load generator of `bench_stage`, run as its own process: `python -m stage.bench.load PLAN`.

Connects every client of the plan (a JSON file), waits for each one's snapshot, then has the
sender send cues one after another: each cue's latency at a client is the time from the send to
the arrival of the push that carries it, both on this process's monotonic clock. Prints one
JSON object. Imports nothing of Django.

The clients are a minimal RFC 6455 client on asyncio's protocol API: at a thousand sockets a
full client library spends more time per message than the server does, and would measure itself.
"""

import asyncio
import base64
import contextlib
import json
import os
import sys
import time
import uuid
from urllib.parse import urlsplit

CONNECT_BATCH = 100
MARKER = b'"bench:'
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A final, masked frame (clients must mask)."""
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = bytes([0x80 | opcode, 0x80 | length])
    elif length < 1 << 16:
        header = bytes([0x80 | opcode, 0x80 | 126]) + length.to_bytes(2, "big")
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + length.to_bytes(8, "big")
    masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
    return header + mask + masked


class Client(asyncio.Protocol):
    """One WebSocket: calls `on_text(arrived, payload)` for each text message it receives."""

    def __init__(self, on_text):
        self.on_text = on_text
        self.buffer = bytearray()
        self.upgraded = asyncio.get_running_loop().create_future()
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        arrived = time.perf_counter()
        self.buffer += data
        if not self.upgraded.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buffer[:end]).split(b"\r\n", 1)[0]
            del self.buffer[: end + 4]
            if b" 101 " not in status:
                self.upgraded.set_exception(ConnectionError(status.decode(errors="replace")))
                return
            self.upgraded.set_result(None)
        self.frames(arrived)

    def frames(self, arrived: float) -> None:
        buffer = self.buffer
        while len(buffer) >= 2:
            opcode, length, start = buffer[0] & 0x0F, buffer[1] & 0x7F, 2
            if length == 126:
                if len(buffer) < 4:
                    return
                length, start = int.from_bytes(buffer[2:4], "big"), 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, start = int.from_bytes(buffer[2:10], "big"), 10
            if len(buffer) < start + length:
                return
            payload = bytes(buffer[start : start + length])
            del buffer[: start + length]
            if opcode == TEXT:
                self.on_text(arrived, payload)
            elif opcode == PING:
                self.transport.write(client_frame(PONG, payload))
            elif opcode == CLOSE:
                self.transport.close()

    def send_text(self, text: str) -> None:
        self.transport.write(client_frame(TEXT, text.encode()))

    def connection_lost(self, exc) -> None:
        if not self.upgraded.done():
            self.upgraded.set_exception(exc or ConnectionError("closed during the handshake"))


async def open_client(base: str, path: str, headers: dict, on_text) -> Client:
    url = urlsplit(base)
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(lambda: Client(on_text), url.hostname, url.port)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {url.netloc}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    client.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    await asyncio.wait_for(client.upgraded, 60)
    return client


class Round:
    def __init__(self, plan: dict):
        self.plan = plan
        self.expected = len(plan["clients"])
        self.received: dict[int, list[float]] = {}
        self.complete: dict[int, asyncio.Event] = {}
        self.version = 0

    def arrived(self, arrived: float, payload: bytes) -> None:
        at = payload.find(MARKER)
        if at < 0:
            return
        end = payload.index(b'"', at + 1)
        cue = int(payload[at + len(MARKER) : end])
        times = self.received.setdefault(cue, [])
        times.append(arrived)
        if len(times) == self.expected and cue in self.complete:
            self.complete[cue].set()

    async def connect(self, index: int, client: dict) -> Client:
        snapshot = asyncio.get_running_loop().create_future()
        sender = index == self.plan["sender"]

        def on_text(arrived: float, payload: bytes) -> None:
            if not snapshot.done():
                snapshot.set_result(json.loads(payload))
                return
            if sender:
                self.version = max(self.version, json.loads(payload).get("version", 0))
            self.arrived(arrived, payload)

        connection = await open_client(self.plan["base"], client["path"], client.get("headers", {}), on_text)
        first = await asyncio.wait_for(snapshot, 60)
        assert first["type"] == "snapshot", first
        if sender:
            self.version = first["version"]
        return connection

    async def run(self) -> dict:
        clients = self.plan["clients"]
        connections: list[Client] = []
        started = time.perf_counter()
        for start in range(0, len(clients), CONNECT_BATCH):
            batch = enumerate(clients[start : start + CONNECT_BATCH], start)
            connections += await asyncio.gather(*(self.connect(index, client) for index, client in batch))
        connected_in = time.perf_counter() - started
        sender = connections[self.plan["sender"]]
        latencies, missing = [], 0
        warmup, cues = self.plan["warmup"], self.plan["cues"]
        for cue in range(warmup + cues):
            self.complete[cue] = asyncio.Event()
            command = {
                "type": "cue",
                "version": self.version,
                "client_id": f"load-{cue}-{uuid.uuid4().hex[:8]}",
                "to": "all",
                "kind": "custom",
                "text": f"bench:{cue}",
            }
            sent_at = time.perf_counter()
            sender.send_text(json.dumps(command))
            with contextlib.suppress(TimeoutError):  # counted as missing below
                await asyncio.wait_for(self.complete[cue].wait(), self.plan["timeout"])
            times = self.received.get(cue, [])
            if cue >= warmup:
                latencies += [(arrived - sent_at) * 1000 for arrived in times]
                missing += self.expected - len(times)
            await asyncio.sleep(self.plan["gap"])
        for connection in connections:
            connection.transport.write(client_frame(CLOSE, (1000).to_bytes(2, "big")))
            connection.transport.close()
        await asyncio.sleep(0.5)
        return {"latencies_ms": latencies, "missing": missing, "connect_seconds": connected_in}


def main() -> None:
    with open(sys.argv[1]) as plan_file:
        plan = json.load(plan_file)
    if plan.get("cpu") is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {plan["cpu"]})
    result = asyncio.run(Round(plan).run())
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
