"""The mixer's side of WebRTC signalling: the settings' RtcBridge, and the control messages the
stage sockets send it (stage/mixer_mail.py → streaming/uplink.py) turned into calls on it.

An offer is answered with a report addressed to the socket that sent it (`to`, forwarded by
streaming/reports.py); every peer the bridge connects or loses is told to the engine.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future

from django.conf import settings

from streaming.core.peers import PRESENTER_PEER, PRODUCER_PEER, PeerAudio
from streaming.core.rtc import RtcBridge, RtcConfig

log = logging.getLogger(__name__)


def rtc_config() -> RtcConfig:
    ports = (settings.RTC_PORT_MIN, settings.RTC_PORT_MAX) if settings.RTC_PORT_MIN else None
    return RtcConfig(
        ice_servers=settings.RTC_ICE_SERVERS,
        host_addresses=settings.RTC_HOST_ADDRESSES,
        candidate_networks=settings.RTC_CANDIDATE_NETWORKS,
        port_range=ports,
        realtime_priority=settings.MIXER_REALTIME_PRIORITY,
    )


TAKEN_OVER = "Your microphone is now connected to the show from another tab or device."


def refusal(session: str, code: str, message: str) -> dict:
    return {"type": "rtc_refused", "session": session, "error": {"code": code, "field": None, "message": message}}


class Signalling:
    """Control messages → the bridge; the bridge's peers → `set_peer` (the engine's)."""

    def __init__(
        self, set_peer: Callable[[str, PeerAudio | None], None], report: Callable[[dict], None], *, enabled: bool
    ) -> None:
        self.set_peer = set_peer
        self.report = report
        # What each producer chose to monitor, kept for their next connection too.
        self.monitors: dict[str, str] = {}
        # Each peer's connection now: its session and the socket that offered it.
        self.sessions: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self.bridge = RtcBridge(rtc_config(), self.on_peer) if enabled else None

    def on_control(self, message: dict) -> None:
        """From the uplink receiver's thread: must not block (offers are answered by callback)."""
        kind = message.get("type")
        if kind == "rtc_offer":
            self.offer(message)
        elif kind == "monitor":
            with self._lock:
                self.monitors[message["peer"]] = message["listen"]
            peer = self._producer(message["peer"])
            if peer is not None:
                peer.monitor = message["listen"]
        elif kind == "talk_backstage":
            # Not remembered for a next connection: a producer reconnecting starts silent.
            peer = self._producer(message["peer"])
            if peer is not None:
                peer.backstage_talk = bool(message["on"])
        else:
            log.warning("unknown control message %r dropped", kind)

    def _producer(self, peer_id: str) -> PeerAudio | None:
        peer = self.bridge.peers().get(peer_id) if self.bridge is not None else None
        return peer if peer is not None and peer.kind == PRODUCER_PEER else None

    def offer(self, message: dict) -> None:
        session, reply_to = message["session"], message["reply_to"]
        if self.bridge is None:
            self.report(refusal(session, "bridge_unavailable", "WebRTC is off on this server.") | {"to": reply_to})
            return
        kind = PRESENTER_PEER if message["kind"] == PRESENTER_PEER else PRODUCER_PEER

        peer_id = message["peer"]

        def answered(future: Future) -> None:
            try:
                sdp = future.result()
            except Exception as error:
                self.report(refusal(session, "bad_offer", str(error)) | {"to": reply_to})
                return
            self.report({"type": "rtc_answer", "to": reply_to, "session": session, "sdp": sdp})
            with self._lock:
                previous = self.sessions.get(peer_id)
                self.sessions[peer_id] = (session, reply_to)
            # The new connection replaced the one another socket (a second tab, another device)
            # made: that page is told, so that it stops instead of taking the line back.
            if previous is not None and previous[1] != reply_to:
                self.report(refusal(previous[0], "taken_over", TAKEN_OVER) | {"to": previous[1]})

        self.bridge.offer(peer_id, kind, message["sdp"]).add_done_callback(answered)

    def on_peer(self, peer_id: str, peer: PeerAudio | None) -> None:
        if peer is not None and peer.kind == PRODUCER_PEER:
            with self._lock:
                peer.monitor = self.monitors.get(peer_id, peer.monitor)
        self.set_peer(peer_id, peer)

    def close(self) -> None:
        if self.bridge is not None:
            self.bridge.close()
