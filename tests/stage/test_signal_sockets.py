"""WebRTC signals over the console socket: validated, handed to the mixer's mail with the
sender's peer id and reply channel, refused at once while no mixer runs; the mixer's answer
reaches that socket alone. Every message received is checked against the contract."""

import json

import pytest
from channels.layers import get_channel_layer

from stage import mixer_mail
from tests.factories import make_event, make_producer, make_tone_presenter
from tests.stage.sockets import Console, session_cookie

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db(transaction=True)]

OFFER = {"type": "rtc_offer", "session": "s-1", "sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"}


@pytest.fixture
def show():
    event = make_event("signal-show", title="Signal show")
    ada = make_tone_presenter(event, "Ada", 440, position=1)
    return {"event": event.pk, "ada": ada.line_id, "alice": session_cookie(make_producer(event, "alice"))}


@pytest.fixture
def mailbox(monkeypatch):
    """The mixer's mail, answered the way the mixer's reports are (streaming/reports.py)."""
    mail = []

    async def sender(event_id, message):
        mail.append((event_id, message))
        if message["type"] == "rtc_offer":
            answer = {"type": "rtc_answer", "session": message["session"], "sdp": "v=0\r\nanswer\r\n"}
            await get_channel_layer().send(message["reply_to"], {"type": "stage.signal", "message": answer})
        return True

    monkeypatch.setattr(mixer_mail, "_sender", sender)
    return mail


async def test_an_offer_is_refused_at_once_before_the_show(show, mailbox):
    console = await Console(show["event"], show["alice"]).open()
    await console.socket.send_to(json.dumps(OFFER))
    refused = await console.until("rtc_refused")
    assert refused["session"] == "s-1" and refused["error"]["code"] == "bridge_unavailable"
    assert "rehearsal" in refused["error"]["message"]
    assert mailbox == []
    await console.close()


async def test_an_offer_reaches_the_mixer_and_its_answer_this_socket(show, mailbox):
    console = await Console(show["event"], show["alice"]).open()
    assert (await console.command("start_rehearsal"))["type"] == "ack"
    await console.socket.send_to(json.dumps(OFFER))
    answer = await console.until("rtc_answer")
    assert answer == {"type": "rtc_answer", "session": "s-1", "sdp": "v=0\r\nanswer\r\n"}
    ((event_id, mail),) = mailbox
    assert event_id == show["event"]
    assert {key: mail[key] for key in ("type", "peer", "kind", "session", "sdp")} == {
        "type": "rtc_offer",
        "peer": "user:alice",
        "kind": "producer",
        "session": "s-1",
        "sdp": OFFER["sdp"],
    }
    assert "!" in mail["reply_to"]  # a socket's own channel

    await console.socket.send_to(json.dumps({"type": "monitor", "listen": "line", "line": show["ada"]}))
    await console.socket.send_to(json.dumps(OFFER | {"sdp": 7}))
    refused = await console.until("rtc_refused")
    assert refused["error"]["field"] == "sdp" and refused["session"] == "s-1"
    assert mailbox[-1][1] == {"type": "monitor", "peer": "user:alice", "listen": f"line:{show['ada']}"}
    await console.socket.send_to(json.dumps({"type": "monitor", "listen": "everything"}))
    error = await console.until("error")
    assert error["error"]["field"] == "listen"
    await console.close()


async def test_no_way_to_the_mixer_is_said(show, monkeypatch):
    monkeypatch.setattr(mixer_mail, "_sender", None)
    console = await Console(show["event"], show["alice"]).open()
    assert (await console.command("start_rehearsal"))["type"] == "ack"
    await console.socket.send_to(json.dumps(OFFER))
    refused = await console.until("rtc_refused")
    assert refused["error"]["message"] == "The bridge cannot be reached."
    await console.close()
