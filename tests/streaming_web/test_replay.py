"""The replay at show end: the whole show as VOD, a downloadable .m4a as long as the show, and
chapters from the stage's takes, served by the HLS view."""

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import av
import numpy as np
import pytest
from django.utils import timezone

from stage import store
from stage.models import StageLogEntry
from streaming import lease, worker
from streaming.core.encoder import AacRecorder, AacSegmenter, Segment
from streaming.core.engine import RECORDING_NAME
from streaming.core.playlist import PlaylistWriter
from streaming.models import MixerLease
from streaming.replay import finish_replay
from streaming.runners import shows_owed_a_finish
from tests.audio import decode, decoded_samples, tones_present
from tests.factories import make_event, make_producer, make_tone_presenter
from tests.media import get_pass
from tests.supervision.playlists import SR, parse, wait_published

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db(transaction=True), pytest.mark.timeout(60)]

A, B = 440.0, 880.0


def command(event_id: int, type_: str, **fields) -> None:
    version = store.snapshot(event_id)["version"]
    outcome = store.submit(
        event_id, {"type": type_, "version": version, "client_id": f"{type_}-{time.time_ns()}"} | fields, actor="test"
    )
    assert outcome.applied, outcome.error


def test_recording_matches_the_show_and_chapters_follow_the_takes(hls_root, settings, client):
    settings.HLS_SEGMENT_FRAMES = 47
    event = make_event("replay", title="Replay show")
    alice = make_tone_presenter(event, "Alice", int(A), position=1).line_id
    bob = make_tone_presenter(event, "Bob", int(B), position=2).line_id
    generation = lease.claim(event.pk, owner="test")
    command(event.pk, "go_live")
    command(event.pk, "set_on_air", line=alice, on_air=True)
    outcome = []
    mixer = threading.Thread(target=lambda: outcome.append(worker.run_mixer(event.pk, generation, lambda r: None)))
    mixer.start()
    directory = hls_root / str(event.pk)
    at_take = wait_published(directory, 3)  # about three seconds of Alice
    command(event.pk, "set_on_air", line=alice, on_air=False)
    command(event.pk, "set_on_air", line=bob, on_air=True)
    wait_published(directory, 3, after=at_take)  # the segment under way at the take and two of Bob alone
    command(event.pk, "end_show")
    mixer.join(15)
    assert outcome == ["ended"]

    state = store.snapshot(event.pk)
    vod = parse((directory / "vod.m3u8").read_text())
    assert vod.ended and vod.media_sequence == 0
    recording_began = vod.entries[0].pdt.timestamp()
    vod_samples = sum(round(entry.duration * SR) for entry in vod.entries)
    with av.open(str(directory / "program.m4a")) as download:
        chapters = download.chapters()
        samples = sum(frame.samples for frame in download.decode(audio=0))
    assert samples == vod_samples  # the download is the VOD, sample for sample
    # ...and runs from the recording's start to the end of the show, give or take the 50 ms stage
    # poll at the end, the encoder's flush and its 21 ms of priming.
    assert abs(samples / SR - (state["ended_at"] - recording_began)) < 0.5

    document = json.loads((directory / "chapters.json").read_text())["chapters"]
    titles = [chapter["title"] for chapter in document]
    assert titles == ["Alice", "Bob"]  # Alice went on air at the start: her take names chapter 1
    assert document[0]["start"] == 0.0 and document[-1]["end"] == round(samples / SR, 3)
    assert document[0]["end"] == document[1]["start"]
    # Bob's chapter starts where the audit log says he was taken to air, in the recording's time.
    take = StageLogEntry.objects.get(event=event, command__type="set_on_air", command__line=bob)
    assert document[1]["start"] == pytest.approx(take.applied_at - recording_began, abs=0.01)
    assert [c["metadata"]["title"] for c in chapters] == titles
    vtt = (directory / "chapters.vtt").read_text().splitlines()
    assert vtt[:5] == ["WEBVTT", "", "1", f"00:00:00.000 --> 00:00:0{document[0]['end']:.3f}", "Alice"]

    # What the chapters say is what is heard: Alice in the second before Bob's chapter, Bob in
    # the second after it (half a second either side for the stage poll and the gain ramps).
    audio = decode((directory / "program.m4a").read_bytes())
    boundary = round(document[1]["start"] * SR)
    assert tones_present(audio[boundary - 3 * SR // 2 : boundary - SR // 2], (A, B)) == {A}
    assert tones_present(audio[boundary + SR // 2 : boundary + 3 * SR // 2], (A, B)) == {B}

    client.force_login(make_producer(event))
    get_pass(client, event.pk)
    response = client.get(f"/hls/{event.pk}/program.m4a")
    assert response.status_code == 200 and response["Content-Type"] == "audio/mp4"
    assert response["Content-Disposition"] == f'attachment; filename="event-{event.pk}.m4a"'
    assert response.content == (directory / "program.m4a").read_bytes()
    assert client.get(f"/hls/{event.pk}/chapters.vtt")["Content-Type"] == "text/vtt; charset=utf-8"
    assert json.loads(client.get(f"/hls/{event.pk}/chapters.json").content)["chapters"] == document
    assert client.get(f"/hls/{event.pk}/playlist_state.json").status_code == 404


def test_rehearsal_is_private_and_the_replay_starts_when_the_show_goes_live(hls_root, settings):
    settings.HLS_SEGMENT_FRAMES = 47
    event = make_event("rehearsed", title="Rehearsed")
    alice = make_tone_presenter(event, "Alice", int(A), position=1).line_id
    bob = make_tone_presenter(event, "Bob", int(B), position=2).line_id
    generation = lease.claim(event.pk, owner="test")
    command(event.pk, "start_rehearsal")
    command(event.pk, "set_preview", presenters=[alice])
    command(event.pk, "take")
    outcome = []
    mixer = threading.Thread(target=lambda: outcome.append(worker.run_mixer(event.pk, generation, lambda r: None)))
    mixer.start()
    directory = hls_root / str(event.pk)
    wait_published(directory / "private", 2)
    assert len(parse((directory / "private" / "live.m3u8").read_text()).entries) >= 2
    assert not (directory / "live.m3u8").exists()  # nothing public while rehearsing
    command(event.pk, "go_live")
    command(event.pk, "set_preview", presenters=[bob])
    command(event.pk, "take")
    wait_published(directory, 3)
    command(event.pk, "end_show")
    mixer.join(15)
    assert outcome == ["ended"]

    state = store.snapshot(event.pk)
    private = parse((directory / "private" / "live.m3u8").read_text())
    heard_in_rehearsal = decode(b"".join((directory / "private" / e.uri).read_bytes() for e in private.entries))
    assert tones_present(heard_in_rehearsal[SR // 2 :], (A, B)) == {A}
    vod = parse((directory / "vod.m3u8").read_text())
    assert not any(entry.discontinuity for entry in vod.entries)  # the public stream starts fresh
    assert vod.entries[0].pdt.timestamp() >= state["live_since"] - 0.1
    seconds = decoded_samples(directory / "program.m4a") / SR
    assert abs(seconds - (state["ended_at"] - state["live_since"])) < 0.5  # the show, not the rehearsal
    chapters = json.loads((directory / "chapters.json").read_text())["chapters"]
    assert [chapter["title"] for chapter in chapters] == ["Bob"]  # the take the stage logged
    assert tones_present(decode((directory / "program.m4a").read_bytes())[SR:], (A, B)) == {B}


def publish_show(directory, lose: int | None = None, *, end: bool = True) -> list[Segment]:
    """Two runs of a mixer, as the engine publishes them: the first killed after segment `lose`
    was published but before it was appended to the running recording; the second continues
    and ends on a three-frame segment, too short for FFmpeg's MPEG-TS probe. Without `end`, the
    second dies before it could write the ENDLIST."""
    published = []
    for frequency in (A, B):
        writer = PlaylistWriter(directory)
        writer.begin_run()
        recorder = AacRecorder(directory / RECORDING_NAME)
        segmenter = AacSegmenter(frames_per_segment=47)
        wave = 0.3 * np.sin(2 * np.pi * frequency * np.arange(143 * 1024) / SR)
        for segment in [*segmenter.push(np.stack([wave, wave]).astype(np.float32)), *segmenter.finish()]:
            assert writer.add_segment(segment.data, segment.duration, datetime.now(UTC))
            published.append(segment)
            if len(published) - 1 == lose:
                break  # SIGKILL
            recorder.write(segment)
        recorder.close()
    if end:
        writer.end()
    return published


def test_a_segment_published_but_never_recorded_is_in_the_replay(hls_root):
    event = make_event("killed", title="Killed mixer")
    store.snapshot(event.pk)
    directory = hls_root / str(event.pk)
    published = publish_show(directory, lose=2)
    assert [segment.samples // 1024 for segment in published] == [47, 47, 47, 47, 47, 47, 3]
    recorded = (directory / "program.aac").read_bytes()
    assert len(recorded) == sum(len(segment.adts) for segment in published) - len(published[2].adts)

    finish_replay(event.pk, directory)

    vod = parse((directory / "vod.m3u8").read_text())
    assert [entry.index for entry in vod.entries if entry.discontinuity] == [3]
    vod_samples = sum(round(entry.duration * SR) for entry in vod.entries)
    assert vod_samples == sum(segment.samples for segment in published)
    assert (directory / "program.aac").read_bytes() == b"".join(segment.adts for segment in published)
    samples = decoded_samples(directory / "program.m4a")  # every packet decodes
    assert samples == vod_samples
    audio = decode((directory / "program.m4a").read_bytes())
    lost = slice(2 * 47 * 1024, 3 * 47 * 1024)  # the segment the running recording lacks
    assert tones_present(audio[lost], (A, B)) == {A}
    chapters = json.loads((directory / "chapters.json").read_text())["chapters"]
    assert chapters == [{"start": 0.0, "end": round(samples / SR, 3), "title": "Killed mixer"}]


def test_without_a_readable_segment_the_replay_is_the_running_recording(hls_root, caplog):
    event = make_event("unreadable", title="Unreadable")
    store.snapshot(event.pk)
    directory = hls_root / str(event.pk)
    published = publish_show(directory)
    recorded = (directory / "program.aac").read_bytes()
    (directory / "segment_000004.ts").unlink()

    finish_replay(event.pk, directory)

    assert "recording kept as the mixer wrote it" in caplog.text
    assert (directory / "program.aac").read_bytes() == recorded
    assert decoded_samples(directory / "program.m4a") == sum(s.samples for s in published)


def test_a_mixer_started_for_an_ended_show_only_finishes_it(hls_root):
    """What the watchdog's generation + 1 does for a show whose mixer died as the show ended:
    the ENDLIST from the saved playlist state, then the replay; the lease says it is done."""
    event = make_event("unfinished", title="Unfinished")
    directory = hls_root / str(event.pk)
    published = publish_show(directory, end=False)
    assert not parse((directory / "live.m3u8").read_text()).ended
    command(event.pk, "go_live")
    command(event.pk, "end_show")
    assert shows_owed_a_finish() == []  # no mixer ever ran for it: nothing to finish
    lease.claim(event.pk, owner="the mixer that died")
    assert shows_owed_a_finish() == []  # its lease has not lapsed yet
    # Lapsed a second ago: the lapse is read on the database's clock, which on SQLite counts whole
    # milliseconds, so a lease that ends "now" is not over yet within the same millisecond.
    MixerLease.objects.filter(event=event).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert shows_owed_a_finish() == [event.pk]

    generation = lease.claim(event.pk, owner="the watchdog")
    assert worker.run_mixer(event.pk, generation, lambda report: None) == "ended"

    live, vod = parse((directory / "live.m3u8").read_text()), parse((directory / "vod.m3u8").read_text())
    assert live.ended and vod.ended
    assert [entry.index for entry in vod.entries] == list(range(len(published)))  # nothing added
    assert decoded_samples(directory / "program.m4a") == sum(s.samples for s in published)
    row = MixerLease.objects.get(event=event)
    assert row.finished_at is not None and lease.is_lapsed(event.pk)
    assert shows_owed_a_finish() == []
