"""The anonymous-command attack, replayed over a real daphne: a raw client sends stage commands in
the same write as its WebSocket upgrade. Whoever it is (no session, another event's producer,
a revoked presenter link), the stage version, the audit log and the public status do not move."""

import json
import urllib.parse

import pytest

from events.invitations import reissue_link
from stage import store
from stage.models import StageLogEntry
from tests.factories import PASSWORD, make_event, make_producer, make_tone_presenter
from tests.live import Browser, running_server
from tests.rawsocket import OPCODE_BINARY, OPCODE_CLOSE, OPCODE_TEXT, RawSocket, client_frame

pytestmark = [pytest.mark.live, pytest.mark.both_modes, pytest.mark.timeout(120)]


def stage_record(event) -> tuple[int, list]:
    return store.snapshot(event.pk)["version"], list(StageLogEntry.objects.filter(event=event).values_list("actor"))


def command_frames(*commands: dict) -> list[bytes]:
    return [client_frame(OPCODE_TEXT, json.dumps(command).encode()) for command in commands]


def attack(port: int, path: str, frames: list[bytes], cookie: str = "") -> tuple[int, dict, int]:
    """Send `frames` with the upgrade and again the instant the 101 arrives; the status, the
    error told and the close code."""
    raw = RawSocket(port, path, cookie=cookie, frames=frames, after_101=frames)
    try:
        assert raw.status == 101
        received = raw.frames_until_close()
    finally:
        raw.close()
    assert [frame.opcode for frame in received] == [OPCODE_TEXT, OPCODE_CLOSE], received
    return raw.status, json.loads(received[0].payload)["error"], received[-1].close_code


@pytest.mark.django_db(transaction=True)
def test_commands_sent_with_the_upgrade_move_nothing_whoever_sends_them(tmp_path):
    event = make_event("attacked", title="Attacked show")
    ada = make_tone_presenter(event, "Ada", 440, position=1)
    make_producer(event, "alice")
    make_producer(make_event("elsewhere"), "carol")
    revoked_key = ada.access_key
    reissue_link(ada)
    go_live = {"type": "go_live", "version": 0, "client_id": "attack-1"}
    on_air = {"type": "set_on_air", "version": 1, "client_id": "attack-2", "line": ada.line_id, "on_air": True}
    end = {"type": "end_show", "version": 2, "client_id": "attack-3"}
    check_in = {"type": "set_check_in", "version": 0, "client_id": "a-4", "presenter": ada.line_id, "checked_in": True}

    with running_server(HLS_ROOT=str(tmp_path)) as base:
        port = urllib.parse.urlsplit(base).port
        visitor = Browser(base)
        before_status = json.loads(visitor.get("/e/attacked/status.json")[2])
        carol = Browser(base)
        status, _, _ = carol.post_form("/accounts/login/?next=/", {"username": "carol", "password": PASSWORD})
        assert status == 200
        carol_cookie = f"sessionid={carol.cookie('sessionid')}"
        console = f"/ws/events/{event.pk}/console/"

        assert attack(port, console, command_frames(go_live, on_air, end))[1:] == (
            {"code": "forbidden", "field": None, "message": "Only this event's producers may open its console."},
            4403,
        )
        assert attack(port, console, command_frames(go_live, on_air, end), cookie=carol_cookie)[2] == 4403
        greenroom = f"/ws/events/{event.pk}/greenroom/{ada.pk}/{revoked_key}/"
        assert attack(port, greenroom, command_frames(check_in, go_live))[2] == 4403
        uplink = f"/ws/events/{event.pk}/lines/{ada.line_id}/uplink/{ada.pk}/{revoked_key}/"
        assert attack(port, uplink, [client_frame(OPCODE_BINARY, b"\x1a\x45\xdf\xa3" + bytes(60))])[2] == 4403

        assert stage_record(event) == (0, [])
        assert json.loads(visitor.get("/e/attacked/status.json")[2]) == before_status
