"""A presenter behind a firewall reaches the bridge through TURN: Debian's coturn on 127.0.0.1
(use-auth-secret, as a deployment would run it), the page given short-lived credentials made
from the shared secret (stage/ice.py) and told to send only through the relay; the mixer, as in
production, knows nothing of TURN and answers with its own address. Loopback only: coturn
listens and relays on 127.0.0.1 and may relay to loopback peers, nothing else."""

import json
import os
import shutil
import socket
import struct
import subprocess
from contextlib import ExitStack, contextmanager

import numpy as np
import pytest

from events.harness import chromiums, free_port, wait_for
from events.models import Presenter
from streaming.bench.bench_bridge import PROBE, WEBRTC_ARGS
from streaming.bench.signals import write_wav
from tests.audio import SAMPLE_RATE
from tests.factories import make_event, make_producer
from tests.live import running_server
from tests.stage.test_console_browser import session_key
from tests.test_bridge_browser import console_socket, do

pytestmark = [
    pytest.mark.live,
    pytest.mark.browser,
    pytest.mark.timeout(180),
    pytest.mark.skipif(shutil.which("turnserver") is None, reason="coturn is installed by .ci/services"),
]

SECRET = "relay-test-secret"  # a test's own coturn, on loopback, for this test only
TONE = 700.0


@contextmanager
def coturn(tmp_path):
    """coturn on 127.0.0.1: TURN over UDP, credentials by the shared secret, relays on loopback."""
    port = free_port()
    relay_ports = free_port()
    command = [
        "turnserver", "-n", "--no-cli", "--no-tls", "--no-dtls", "--fingerprint",
        "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={port}",
        f"--min-port={relay_ports}", f"--max-port={relay_ports + 50}",
        "--use-auth-secret", f"--static-auth-secret={SECRET}", "--realm=webcast.test",
        "--allow-loopback-peers", "--no-multicast-peers", "--verbose",
        f"--pidfile={tmp_path / 'turnserver.pid'}", "--log-file=stdout", "--simple-log",
    ]  # fmt: skip
    log = (tmp_path / "turnserver.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: stun_answers(port), 10, "coturn answering on 127.0.0.1")
        yield port
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def stun_answers(port: int) -> bool:
    """Whether a STUN binding request to 127.0.0.1:`port` is answered (RFC 5389 header only)."""
    request = struct.pack("!HHI12s", 0x0001, 0, 0x2112A442, os.urandom(12))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.settimeout(0.5)
        probe.sendto(request, ("127.0.0.1", port))
        try:
            answer = probe.recv(2048)
        except OSError:
            return False
    return answer[:2] == b"\x01\x01" and answer[8:20] == request[8:20]


def selected_pair(page) -> dict:
    """The local and remote candidate types of the pair the newest connection's transport selected
    ({} until it has selected one: "connected" on the page can come before the stats say which)."""
    return page.evaluate(
        """async () => {
          const stats = await window.__probe.connections.at(-1).getStats();
          for (const entry of stats.values()) {
            const pair = entry.type === "transport" && stats.get(entry.selectedCandidatePairId);
            if (pair && pair.state === "succeeded") {
              return {local: stats.get(pair.localCandidateId).candidateType,
                      remote: stats.get(pair.remoteCandidateId).candidateType};
            }
          }
          return {};
        }"""
    )


@pytest.mark.django_db(transaction=True)
def test_a_presenter_reaches_the_bridge_through_a_turn_relay(tmp_path, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    event = make_event("relayed", title="Relayed")
    ada = Presenter.objects.create(event=event, name="Ada", position=1)
    session = session_key(make_producer(event, "alice"))
    hls_root = tmp_path / "hls"
    hls_root.mkdir()
    write_wav(tmp_path / "ada.wav", 0.3 * np.sin(2 * np.pi * TONE * np.arange(6 * SAMPLE_RATE) / SAMPLE_RATE))

    with coturn(tmp_path) as turn_port, ExitStack() as sockets:
        relay = {
            "RTC_BROWSER_ICE_SERVERS": json.dumps([{"urls": f"turn:127.0.0.1:{turn_port}?transport=udp"}]),
            "RTC_TURN_SECRET": SECRET,
            "RTC_BROWSER_ICE_TRANSPORT_POLICY": "relay",
            "RTC_ICE_SERVERS": "[]",
        }
        with (
            running_server(HLS_ROOT=str(hls_root), **relay) as base,
            chromiums([[*WEBRTC_ARGS, f"--use-file-for-fake-audio-capture={tmp_path / 'ada.wav'}"]]) as (browser,),
        ):
            console = console_socket(sockets, base, event, session)
            do(console, "go_live")
            context = browser.new_context()
            context.add_init_script(PROBE)
            page = context.new_page()
            page.goto(base + ada.get_greenroom_url())
            page.click("#mic-allow")
            page.check("#mic-studio")
            page.click("#check-in")
            page.click("#uplink-toggle")
            page.wait_for_selector("#link-path[data-path=webrtc][data-rtc=connected]", timeout=30_000)
            pair = wait_for(lambda: selected_pair(page), 10, "the connection's selected candidate pair")
            assert pair == {"local": "relay", "remote": "host"}

            do(console, "set_on_air", line=ada.line_id, on_air=True)

            def heard_over_webrtc() -> bool:
                meter = console.receive("meters")["lines"].get(ada.line_id, {})
                return meter.get("link", {}).get("path") == "webrtc" and meter["rms_db"] > -30

            wait_for(heard_over_webrtc, 20, "Ada's tone on her line, by the relay")
            do(console, "end_show")
    # coturn saw the allocation made with the page's short-lived credentials.
    assert "ALLOCATE processed, success" in (tmp_path / "turnserver.log").read_text()
