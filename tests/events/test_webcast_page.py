"""The viewer's webcast page and its status JSON: what the page is given in every state of the show
(countdown start, agenda in the stage's order, calendar, audio test, replay files), and refusals."""

import json
import re
import time
from datetime import UTC, datetime, timedelta

import av
import numpy as np
import pytest

from events import sound_check
from events.models import Presenter, Segment
from stage import store
from stage.models import StageState
from tests.events.helpers import make_event, new_registrations

pytestmark = [pytest.mark.django_db, pytest.mark.both_modes]

START = datetime(2031, 6, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def event():
    event = make_event(starts_at=START, time_zone="Europe/Berlin")
    ada = Presenter.objects.create(event=event, name="Ada <b>Lovelace</b>", position=1)
    bo = Presenter.objects.create(event=event, name="Bo", position=2)
    # Created out of order: the agenda follows position, as the stage does.
    demo = Segment.objects.create(event=event, title="Demo", planned_duration=timedelta(minutes=20), position=2)
    demo.presenters.add(ada, bo)
    Segment.objects.create(event=event, title="Welcome", planned_duration=timedelta(minutes=5), position=1)
    return event


def watching(client, event):
    (registration,) = new_registrations(event, 1)
    assert client.get(registration.get_join_url()).status_code == 302
    return client


def agenda_items(page: str) -> list[tuple[str, str, str]]:
    """(start, title, status) of each agenda item as the page lists it."""
    return re.findall(r'<li data-title="[^"]*" data-status="(\w+)">\s*<time [^>]*>([\d:]+)</time>\s*'
                      r'<span class="title">([^<]*)</span>', page)


def command(event, type_: str, **fields) -> None:
    version = store.snapshot(event.pk)["version"]
    outcome = store.submit(event.pk, {"type": type_, "version": version, "client_id": f"{type_}-{time.time_ns()}"}
                           | fields, actor="test")
    assert outcome.applied, outcome.error


def test_before_the_show_the_page_has_the_countdown_agenda_calendar_and_audio_test(client, event):
    page = watching(client, event).get("/e/launch/watch/").content.decode()
    assert 'data-starts-at="2031-06-02T14:00:00+00:00"' in page
    assert 'data-view="upcoming"' in page
    # The event's planned times in its own zone (Berlin, summer time), each after the planned lengths before it.
    assert agenda_items(page) == [("queued", "16:00", "Welcome"), ("queued", "16:05", "Demo")]
    assert '<span class="presenters">Ada &lt;b&gt;Lovelace&lt;/b&gt;, Bo</span>' in page
    assert 'href="/e/launch/calendar.ics" download' in page
    assert 'href="https://calendar.google.com/' in page and 'href="https://outlook.' in page
    assert re.search(r'<audio id="sound-check-sample" src="/static/events/sound-check\.(\w+\.)?m4a"', page)
    assert 'id="view-upcoming">' in page and 'id="view-ended" role="status" hidden>' in page


def test_once_the_stage_runs_the_show_the_agenda_follows_it(client, event):
    snapshot = store.snapshot(event.pk)
    welcome, demo = snapshot["rundown"]
    ada = next(pid for pid, p in snapshot["presenters"].items() if p["name"].startswith("Ada"))
    command(event, "add_segment", title="Surprise guest", presenters=[ada], planned_seconds=90, before=welcome)
    command(event, "skip_segment", segment=demo, skipped=True)
    page = watching(client, event).get("/e/launch/watch/").content.decode()
    assert agenda_items(page) == [("queued", "16:00", "Surprise guest"), ("queued", "16:01", "Welcome")]
    assert "(2 min)" in page  # 90 s, rounded


def test_the_public_event_page_lists_the_same_agenda_as_the_webcast(client, event):
    snapshot = store.snapshot(event.pk)
    command(event, "skip_segment", segment=snapshot["rundown"][1], skipped=True)
    page = client.get("/e/launch/").content.decode()
    schedule = re.findall(r'<li><time [^>]*>([\d:]+)</time> ([^<]*) <span class="minutes">', page)
    assert schedule == [("16:00", "Welcome")]  # the skipped demo is not announced either


def test_status_json_carries_hold_while_live(client, event):
    document = {"phase": "live", "version": 7, "hold": True}
    StageState.objects.create(event=event, version=7, document=document, initial_document=document)
    response = client.get("/e/launch/status.json")
    assert response["Cache-Control"] == "public, max-age=2"
    data = json.loads(response.content)
    assert (data["status"], data["hold"], data["chapters"], data["download"]) == ("live", True, None, None)


def test_status_json_names_chapters_and_download_once_the_replay_has_them(client, event, hls_root):
    document = {"phase": "ended", "version": 9, "hold": True}  # a hold left on at the end is no hold
    StageState.objects.create(event=event, version=9, document=document, initial_document=document)
    directory = hls_root / str(event.pk)
    directory.mkdir()
    (directory / "vod.m3u8").write_text("#EXTM3U\n#EXT-X-ENDLIST\n")
    data = json.loads(client.get("/e/launch/status.json").content)
    assert (data["status"], data["hold"], data["chapters"], data["download"]) == ("replay", False, None, None)
    (directory / "chapters.json").write_text('{"chapters": []}')
    (directory / "program.m4a").write_bytes(b"")
    data = json.loads(client.get("/e/launch/status.json").content)
    assert data["chapters"] == f"/hls/{event.pk}/chapters.json"
    assert data["download"] == f"/hls/{event.pk}/program.m4a"


def test_an_unknown_event_has_no_status_nor_webcast(client, event):
    assert client.get("/e/nope/status.json").status_code == 404
    assert client.get("/e/nope/watch/").status_code == 404
    assert client.get("/e/Not a slug!/status.json").status_code == 404


def test_status_json_only_answers_get(client, event):
    response = client.post("/e/launch/status.json")
    assert response.status_code == 405
    assert response["Allow"] == "GET"


def test_the_audio_test_sample_is_the_committed_two_second_chime():
    decoded = []
    with av.open(str(sound_check.PATH)) as sample:
        for frame in sample.decode(audio=0):
            decoded.append(frame.to_ndarray())
            assert (frame.sample_rate, frame.layout.nb_channels) == (48000, 2)
    audio = np.concatenate(decoded, axis=1)
    made = sound_check.chime().shape[1]
    # AAC adds its priming and pads the last frame: at most two frames more than the chime itself.
    assert made <= audio.shape[1] <= made + 2048
    assert 0.2 < np.abs(audio).max() < 0.5  # audible, far from clipping


def test_the_replay_waits_for_the_mixer_to_close_its_playlist(client, event, hls_root):
    document = {"phase": "ended", "version": 9}
    StageState.objects.create(event=event, version=9, document=document, initial_document=document)
    directory = hls_root / str(event.pk)
    directory.mkdir()
    running = "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:EVENT\n" + "#EXTINF:2.00000,\nsegment_000001.ts\n" * 50
    (directory / "vod.m3u8").write_text(running)
    data = json.loads(client.get("/e/launch/status.json").content)
    assert (data["status"], data["replay"]) == ("ended", None)
    (directory / "vod.m3u8").write_text(running + "#EXT-X-ENDLIST\n")
    data = json.loads(client.get("/e/launch/status.json").content)
    assert (data["status"], data["replay"]) == ("replay", f"/hls/{event.pk}/vod.m3u8")
