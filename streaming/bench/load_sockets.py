"""The WebSocket side of `bench_load`, run as its own process: `python -m streaming.bench.load_sockets PLAN`.

Opens every socket of the plan (a JSON file) through nginx and keeps it as a page does: it follows
the stage (snapshot, then deltas; a gap asks for a snapshot), and when its connection drops it
connects again with the page's back-off (operator/static/operator/socket.js, by the rule of
stage/contract/reconnect.py: a random wait up to a bound doubling from 0.5 s to 8 s, the first
before the first attempt) until a snapshot comes. The producers' consoles among them change the show every
`command_every` seconds (preview a presenter, take), each command named by a client id; a
`stale_version` refusal (another producer was first) is sent again at the version it names, and
a take whose preview another producer's take emptied meanwhile is a race lost, not an error.

Prints one JSON object at the end: every drop and reconnection with its time on CLOCK_MONOTONIC
(shared by the processes of the machine, so the benchmark can tell the killed server's sockets by
the time of the kill), the commands acknowledged as applied (by client id, for the audit log), the refused
and the unanswered, and latencies: socket connect (to the snapshot), command (send to ack), fan-out
(send to each socket's delta). Imports nothing of Django; the socket is stage/bench/load.py's
minimal RFC 6455 client, and the back-off the contract's (pure, no Django either).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import sys
import time

from stage.bench.load import CLOSE, client_frame, open_client
from stage.contract.reconnect import reconnect_delay

# Sockets opened at once at the start: people arrive over minutes, not all in one second (a
# storm of a thousand upgrades times out daphne's handshakes on a busy machine; the storm after
# the kill is the drill's, and half as big).
CONNECT_BATCH = 10
ANSWER_SECONDS = 10.0
# The first connections of a thousand sockets queue behind each other on a busy machine.
FIRST_SNAPSHOT_SECONDS = 60.0
SETTLE_SECONDS = 15.0
# Refusals a producer meets when another was first: their take emptied the preview this one's
# take was for. Right answers, counted apart.
RACES = {"empty_preview"}


class Socket:
    """One page's socket: its state version, and every drop and reconnection."""

    def __init__(self, run: Run, number: int, client: dict) -> None:
        self.run = run
        self.number = number
        self.path = client["path"]
        self.headers = client.get("headers", {})
        self.producer = client.get("producer", False)
        self.connection = None
        self.version: int | None = None
        self.awaiting_snapshot = False
        self.synced = asyncio.Event()
        self.lost = asyncio.Event()
        self.answers: dict[str, asyncio.Future] = {}

    def on_text(self, arrived: float, payload: bytes) -> None:
        message = json.loads(payload)
        kind = message.get("type")
        if kind == "snapshot":
            self.version = message["state"]["version"]
            self.awaiting_snapshot = False
            self.synced.set()
        elif kind == "delta" and self.version is not None:
            if message["base"] == self.version:
                self.version = message["version"]
                self.run.delivered(message["version"], arrived)
            elif message["version"] > self.version:
                self.run.gaps += 1
                # As the page (socket.js, requestSnapshot): one request until the snapshot comes. One
                # per delta after a gap flooded the socket's allowance, and the server closed it.
                if not self.awaiting_snapshot:
                    self.awaiting_snapshot = True
                    self.connection.send_text(json.dumps({"type": "snapshot"}))
        elif kind in ("ack", "refused"):
            answer = self.answers.pop(message.get("client_id"), None)
            if answer is not None and not answer.done():
                answer.set_result((arrived, message))

    async def connect(self, timeout: float = ANSWER_SECONDS) -> float:
        """Connect and wait for the snapshot; the seconds it took."""
        self.synced.clear()
        self.lost.clear()
        self.version = None
        self.awaiting_snapshot = False
        began = time.monotonic()
        self.connection = await open_client(self.run.base, self.path, self.headers, self.on_text)
        self.connection.connection_lost = self._lost(self.connection.connection_lost)
        await asyncio.wait_for(self.synced.wait(), timeout)
        return time.monotonic() - began

    def _lost(self, original):
        def lost(exc) -> None:
            original(exc)
            self.lost.set()
            for answer in self.answers.values():
                if not answer.done():
                    answer.set_result((time.monotonic(), {"type": "closed"}))
            self.answers.clear()

        return lost

    async def keep(self) -> None:
        """Until the run ends: connect again after every drop, with the page's back-off."""
        while not self.run.ending:
            await self.lost.wait()
            if self.run.ending:
                return
            dropped = time.monotonic()
            record = {"socket": self.number, "dropped": dropped, "back": None, "attempts": 0}
            self.run.drops.append(record)
            while not self.run.ending:
                await asyncio.sleep(reconnect_delay(record["attempts"], random.random))  # the page's back-off
                record["attempts"] += 1
                with contextlib.suppress(OSError, ConnectionError, TimeoutError, asyncio.TimeoutError):
                    await self.connect()
                    record["back"] = time.monotonic()
                    break

    async def command(self, fields: dict) -> None:
        """Send a command at this socket's version until it is answered other than stale."""
        while not self.run.ending and not self.lost.is_set() and self.version is not None:
            client_id = f"load-{self.number}-{next(self.run.ids)}"
            answer = asyncio.get_running_loop().create_future()
            self.answers[client_id] = answer
            sent = time.monotonic()
            self.connection.send_text(json.dumps(fields | {"version": self.version, "client_id": client_id}))
            try:
                arrived, message = await asyncio.wait_for(answer, ANSWER_SECONDS)
            except TimeoutError:
                self.answers.pop(client_id, None)
                self.run.unanswered.append({"client_id": client_id, "sent": sent, "why": "no answer in time"})
                return
            if message["type"] == "ack":
                # An ack that changed nothing (a take of what is on air already) leaves no
                # audit entry: only what was applied is work that could be lost.
                if message.get("applied") or message.get("duplicate"):
                    self.run.acknowledged.append(client_id)
                else:
                    self.run.no_ops += 1
                self.run.sent_at[message["version"]] = sent
                self.run.command_ms.append(1000 * (arrived - sent))
                self.version = max(self.version, message["version"])
                return
            if message["type"] == "closed":
                self.run.unanswered.append({"client_id": client_id, "sent": sent, "closed": arrived,
                                            "why": "socket closed"})
                return
            code = message["error"]["code"]
            if code in RACES:
                self.run.races += 1
                return
            if code != "stale_version":
                self.run.refused.append({"client_id": client_id, "at": arrived, "error": message["error"]})
                return
            self.run.conflicts += 1
            self.version = max(self.version, message["version"])


class Run:
    def __init__(self, plan: dict) -> None:
        self.plan = plan
        self.base = plan["base"]
        self.sockets = [Socket(self, number, client) for number, client in enumerate(plan["clients"])]
        self.ending = False
        self.ids = itertools.count()
        self.drops: list[dict] = []
        self.acknowledged: list[str] = []
        self.no_ops = 0
        self.races = 0
        self.refused: list[dict] = []
        self.unanswered: list[dict] = []
        self.conflicts = 0
        self.gaps = 0
        self.connect_ms: list[float] = []
        self.command_ms: list[float] = []
        self.sent_at: dict[int, float] = {}
        self.arrivals: dict[int, list[float]] = {}
        self.failed_connects: list[str] = []

    def delivered(self, version: int, arrived: float) -> None:
        self.arrivals.setdefault(version, []).append(arrived)

    async def open_all(self) -> None:
        """Open every socket, a batch at a time; one that fails tries again with the page's
        back-off (each failed attempt is an error) until FIRST_SNAPSHOT_SECONDS have passed."""
        for start in range(0, len(self.sockets), CONNECT_BATCH):
            batch = self.sockets[start : start + CONNECT_BATCH]
            await asyncio.gather(*(self.open_first(socket) for socket in batch))

    async def open_first(self, socket: Socket) -> None:
        deadline = time.monotonic() + FIRST_SNAPSHOT_SECONDS
        failed = 0
        while True:
            try:
                self.connect_ms.append(1000 * await socket.connect(FIRST_SNAPSHOT_SECONDS))
                return
            except (OSError, ConnectionError, TimeoutError) as error:
                self.failed_connects.append(f"{socket.path}: {type(error).__name__}: {error}")
            if time.monotonic() > deadline:
                socket.lost.set()  # its keeper goes on trying; out of sync at the end if it never came
                return
            await asyncio.sleep(reconnect_delay(failed, random.random))  # the page's back-off
            failed += 1

    async def produce(self, producer: Socket, offset: float, until: float) -> None:
        """Preview a presenter, take; the next presenter; every `command_every` seconds."""
        await asyncio.sleep(offset)
        lines = itertools.cycle(self.plan["lines"])
        while time.monotonic() < until:
            line = next(lines)
            for fields in ({"type": "set_preview", "presenters": [line]}, {"type": "take"}):
                if producer.synced.is_set() and not producer.lost.is_set():
                    await producer.command(fields)
                await asyncio.sleep(self.plan["command_every"] / 2)

    async def run(self) -> dict:
        started = time.monotonic()
        await self.open_all()
        connected = time.monotonic()
        keepers = [asyncio.create_task(socket.keep()) for socket in self.sockets]
        print(json.dumps({"connected": len(self.connect_ms), "at": connected}), file=sys.stderr, flush=True)
        until = connected + self.plan["seconds"]
        producers = [socket for socket in self.sockets if socket.producer]
        every = self.plan["command_every"]
        await asyncio.gather(*(self.produce(p, every * n / len(producers), until)
                               for n, p in enumerate(producers)))
        await asyncio.sleep(max(0.0, until - time.monotonic()))
        settled = await self.settle()
        self.ending = True
        for socket in self.sockets:
            socket.lost.set()
            if socket.connection is not None and socket.connection.transport is not None:
                socket.connection.transport.write(client_frame(CLOSE, (1000).to_bytes(2, "big")))
                socket.connection.transport.close()
        for keeper in keepers:
            keeper.cancel()
        await asyncio.sleep(0.2)
        fanout = [
            1000 * (arrived - self.sent_at[version])
            for version, times in self.arrivals.items() if version in self.sent_at for arrived in times
        ]
        return {
            "sockets": len(self.sockets),
            "connected_at_start": len(self.connect_ms),
            "connect_seconds": connected - started,
            "failed_connects": self.failed_connects,
            "drops": self.drops,
            "acknowledged": self.acknowledged,
            "no_ops": self.no_ops,
            "races": self.races,
            "refused": self.refused,
            "unanswered": self.unanswered,
            "conflicts": self.conflicts,
            "gaps": self.gaps,
            "out_of_sync": settled,
            "latencies_ms": {"socket connect": self.connect_ms, "command": self.command_ms, "fan-out": fanout},
        }

    async def settle(self) -> list[int]:
        """After the last command: wait (bounded) until every socket is at the newest version; the
        sockets that are not (their numbers)."""
        newest = max(self.sent_at, default=None)
        deadline = time.monotonic() + SETTLE_SECONDS

        def behind() -> list[int]:
            if newest is None:
                return [s.number for s in self.sockets if not s.synced.is_set() or s.lost.is_set()]
            return [s.number for s in self.sockets if s.lost.is_set() or s.version is None or s.version < newest]

        while behind() and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        return behind()


def main() -> None:
    with open(sys.argv[1]) as plan_file:
        plan = json.load(plan_file)
    if plan.get("cpu") is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {plan["cpu"]})
    json.dump(asyncio.run(Run(plan).run()), sys.stdout)


if __name__ == "__main__":
    main()
