"""A presenter's WebRTC call set up through the real signalling path: an aiortc peer (loopback
only, like the test browser) sends its offer over the green-room socket of a live daphne; the
offer crosses the mode's transport (the runner's pipe embedded, the Redis stream scaled out) to
the mixer child, whose RtcBridge answers through the channel layer to that socket alone; the
call connects. A second tab's call takes the line over, and the first tab is told."""

import json

import pytest

from events.harness import wait_for
from events.models import Presenter
from tests.factories import PASSWORD, make_event, make_producer
from tests.live import Browser, StageClient, running_server
from tests.rtc_client import RtcClient

pytestmark = [pytest.mark.live, pytest.mark.both_modes, pytest.mark.timeout(120)]


@pytest.mark.django_db(transaction=True)
def test_a_presenter_calls_the_mixer_through_the_green_room_socket(tmp_path):
    event = make_event("rtc-live", title="RTC live")
    ada = Presenter.objects.create(event=event, name="Ada", position=1)
    make_producer(event)
    client, other = RtcClient(frequency=440.0), RtcClient(frequency=660.0)
    try:
        with running_server(HLS_ROOT=str(tmp_path)) as base:
            producer = Browser(base)
            producer.post_form(
                f"/accounts/login/?next=/console/{event.pk}/", {"username": "producer", "password": PASSWORD}
            )
            presenter = Browser(base)
            path = f"/ws/events/{event.pk}/greenroom/{ada.pk}/{ada.access_key}/"
            with (
                producer.websocket(f"/ws/events/{event.pk}/console/") as console_socket,
                presenter.websocket(path) as room_socket,
            ):
                console, room = StageClient(console_socket), StageClient(room_socket)
                # Before the show there is no mixer to answer.
                room_socket.send(json.dumps({"type": "rtc_offer", "session": "early", "sdp": client.make_offer()}))
                assert room.receive("rtc_refused")["error"]["code"] == "bridge_unavailable"

                assert console.command("start_rehearsal")["type"] == "ack"
                console.receive("meters", timeout=30)  # the mixer runs, its uplink reader too

                def answered():
                    room_socket.send(json.dumps({"type": "rtc_offer", "session": "s-1", "sdp": client.make_offer()}))
                    reply = room.receive("rtc_answer", "rtc_refused", timeout=20)
                    return reply if reply["type"] == "rtc_answer" else None

                answer = wait_for(answered, 40, "the mixer's answer", every=0.5)
                assert answer["session"] == "s-1"
                client.accept(answer["sdp"])
                wait_for(lambda: client.state == "connected", 20, "the call to connect")

                # The same presenter in a second tab: its call takes the line, and the first tab
                # is told so (to stop, not to take it back), on its own socket alone.
                with presenter.websocket(path) as second_socket:
                    second = StageClient(second_socket)
                    second_socket.send(json.dumps({"type": "rtc_offer", "session": "s-2", "sdp": other.make_offer()}))
                    assert second.receive("rtc_answer", timeout=20)["session"] == "s-2"
                    told = room.receive("rtc_refused", timeout=20)
                    assert told["session"] == "s-1" and told["error"]["code"] == "taken_over"
    finally:
        client.close()
        other.close()
