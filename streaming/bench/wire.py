"""When the bridge's RTP packets cross loopback, timed by the kernel: how evenly the mixer sends.

bench_bridge's diagnosis of where mouth-to-ear goes. A raw packet socket on `lo` (it needs
CAP_NET_RAW; without it nothing is measured and the benchmark says so) sees every datagram as it
is sent, with the kernel's timestamp. For each RTP stream (source, destination, SSRC) the transit
`arrival - rtp_timestamp / 48 kHz` is the stream's own clock against the wire's; less its smallest
value, it is how late each packet left compared with the stream's most punctual packet: what a
receiver's jitter buffer has to cover. The streams the mixer sends (from one of its UDP ports) are
the returns; those it receives are the uplinks, which show how evenly the browsers send.

Loopback only: the socket is bound to `lo` and never sends.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections import defaultdict
from pathlib import Path

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
SO_TIMESTAMPNS = 35
RTP_CLOCK = 48000


class WireWatch:
    """Collects (kernel time, stream, RTP timestamp) of the RTP datagrams on loopback while running."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self.sock.bind(("lo", 0))
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.settimeout(0.2)
        self.packets: dict[tuple, list[tuple[float, int]]] = defaultdict(list)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wire-watch", daemon=True)

    @classmethod
    def start(cls) -> WireWatch | None:
        """A running watch, or None where raw sockets are not allowed."""
        try:
            watch = cls()
        except PermissionError:
            return None
        watch._thread.start()
        return watch

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()

    def _run(self) -> None:
        size = socket.CMSG_SPACE(16)
        while not self._stop.is_set():
            try:
                data, ancillary, _flags, address = self.sock.recvmsg(2048, size)
            except TimeoutError:
                continue
            except OSError:
                return
            if address[2] == PACKET_OUTGOING:  # loopback shows each datagram twice: keep the arrival
                continue
            stamp = _stamp(ancillary)
            parsed = _rtp(data)
            if parsed is not None and stamp is not None:
                flow, rtp_time = parsed
                self.packets[flow].append((stamp, rtp_time))

    def report(self, mixer_ports: set[int], since: float, peer_ports: set[int] = frozenset()) -> dict:
        """p50/p95/max (ms) of how late the packets left, over the return streams (the mixer's
        sending ports) and the uplink streams to them, the browsers' apart from those sent from
        `peer_ports`, from `since` (time.time()) on."""
        returns, uplinks, peer_uplinks = [], [], []
        for (source, destination, _ssrc), packets in list(self.packets.items()):
            lateness = _lateness([packet for packet in packets if packet[0] >= since])
            if source in mixer_ports:
                returns.extend(lateness)
            elif destination in mixer_ports:
                (peer_uplinks if source in peer_ports else uplinks).extend(lateness)
        return {"returns": _spread(returns), "uplinks": _spread(uplinks), "peer_uplinks": _spread(peer_uplinks)}


def _stamp(ancillary) -> float | None:
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            seconds, nanoseconds = struct.unpack("qq", payload[:16])
            return seconds + nanoseconds / 1e9
    return None


def _rtp(frame: bytes) -> tuple[tuple[int, int, int], int] | None:
    """((source port, destination port, SSRC), RTP timestamp) of an IPv4 UDP RTP datagram seen
    on loopback (an Ethernet header of zeros), else None (RTCP, STUN, DTLS, anything else)."""
    if len(frame) < 14 + 20 + 8 + 12 or frame[12:14] != b"\x08\x00" or frame[14 + 9] != 17:
        return None
    ip = 14 + (frame[14] & 0x0F) * 4
    source, destination = struct.unpack("!HH", frame[ip : ip + 4])
    rtp = ip + 8
    if frame[rtp] >> 6 != 2 or 72 <= frame[rtp + 1] & 0x7F <= 76:  # not RTP v2, or RTCP (200-204)
        return None
    timestamp, ssrc = struct.unpack("!II", frame[rtp + 4 : rtp + 12])
    return (source, destination, ssrc), timestamp


def _lateness(packets: list[tuple[float, int]]) -> list[float]:
    """Each packet's transit less the stream's smallest (ms); RTP timestamps unwrapped."""
    if len(packets) < 2:
        return []
    transits, previous, unwrapped = [], packets[0][1], 0
    for arrival, rtp_time in packets:
        unwrapped += (rtp_time - previous + (1 << 31)) % (1 << 32) - (1 << 31)
        previous = rtp_time
        transits.append(arrival - unwrapped / RTP_CLOCK)
    least = min(transits)
    return [1000 * (transit - least) for transit in transits]


def _spread(values: list[float]) -> dict:
    if not values:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None, "packets": 0}
    ordered = sorted(values)
    pick = lambda share: round(ordered[min(len(ordered) - 1, int(share * len(ordered)))], 1)  # noqa: E731
    return {"p50_ms": pick(0.5), "p95_ms": pick(0.95), "max_ms": round(ordered[-1], 1), "packets": len(values)}


def udp_ports(pid: int) -> set[int]:
    """The local UDP ports of a process's sockets (from /proc)."""
    inodes = set()
    with contextlib.suppress(OSError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = fd.readlink().as_posix()
                if target.startswith("socket:["):
                    inodes.add(target[8:-1])
    ports = set()
    for table in ("udp", "udp6"):
        with contextlib.suppress(OSError):
            for row in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                fields = row.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports
