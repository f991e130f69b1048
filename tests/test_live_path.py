"""The thin live path end to end, all real: registration over HTTP, the console WebSocket on a
live daphne, a mixer child process following the stage, and the HLS it writes, listened to."""

import re
from datetime import timedelta

import pytest
from django.conf import settings

from events.harness import wait_for
from streaming.core.playlist import target_duration_for
from tests.audio import SAMPLE_RATE, decode, decode_segment, playlist_segments, playlist_tags, tones_present
from tests.factories import PASSWORD, make_event, make_producer, make_tone_presenter
from tests.live import Browser, StageClient, join_link, newest_mail, running_server
from tests.supervision.playlists import date_range_problems, parse, wait_published

A, B = 440.0, 880.0


def first_heard(samples, frequency: float, window: int = SAMPLE_RATE // 10) -> int:
    """The first sample of the first 100 ms (stepped by 50 ms) in which the spectrum shows `frequency`."""
    return next(
        start
        for start in range(0, len(samples) - window, window // 2)
        if tones_present(samples[start : start + window], (frequency,))
    )


def speaking_now(text: str) -> str:
    """Who the last program card in a playlist names."""
    playlist = parse(text)
    assert date_range_problems(playlist) == []
    return playlist.date_ranges[-1].text("X-SPEAKING")

pytestmark = [pytest.mark.live, pytest.mark.both_modes, pytest.mark.timeout(180)]




@pytest.mark.django_db(transaction=True)
def test_registration_console_and_mixer_make_an_audible_webcast(tmp_path):
    event = make_event("launch", title="Product launch")
    alice = make_tone_presenter(event, "Alice", int(A), position=1)
    bob = make_tone_presenter(event, "Bob", int(B), position=2)
    make_producer(event)
    hls_root, mail_dir = tmp_path / "hls", tmp_path / "mail"
    hls_root.mkdir()
    mail_dir.mkdir()

    server = running_server(HLS_ROOT=str(hls_root), EMAIL_URL=f"filemail:///{mail_dir}", SITE_URL="http://placeholder")
    with server as base:
        # A registrant registers and follows the personal link from the email to the webcast page.
        viewer = Browser(base)
        status, _, page = viewer.get("/e/launch/")
        assert status == 200 and "Product launch" in page and "Alice" in page
        status, _, page = viewer.post_form("/e/launch/", {"name": "Rita Registrant", "email": "Rita@Example.com "})
        assert status == 200 and "sent your personal link" in page
        mail = wait_for(lambda: newest_mail(mail_dir), 10, "the join email")
        assert "rita@example.com" in mail
        link = join_link(mail).removeprefix("http://placeholder")
        status, url, page = viewer.get(link)
        assert status == 200 and url.endswith("/e/launch/watch/")
        scripts = re.findall(r'<script[^>]* src="([^"]+)"', page)
        assert any("hls.light.min." in src for src in scripts) and any("webcast." in src for src in scripts)
        for src in scripts:  # everything the page loads comes from this server, nothing from the internet
            assert src.startswith("/static/") and viewer.get(src)[0] == 200
        _, _, status_json = viewer.get("/e/launch/status.json")
        assert '"phase": "preshow"' in status_json

        # The producer signs in, opens the console and runs the show.
        producer = Browser(base)
        status, url, _ = producer.post_form(
            f"/accounts/login/?next=/console/{event.pk}/", {"username": "producer", "password": PASSWORD}
        )
        assert status == 200 and url.endswith(f"/console/{event.pk}/")
        with producer.websocket(f"/ws/events/{event.pk}/console/") as socket:
            console = StageClient(socket)
            assert console.state["phase"] == "preshow"
            assert set(console.state["lines"]) == {alice.line_id, bob.line_id}
            assert console.command("go_live")["type"] == "ack"
            live_dir = hls_root / str(event.pk)
            at_a = wait_published(live_dir, 1)  # the first segment: nobody on air yet
            assert console.command("set_on_air", line=alice.line_id, on_air=True)["type"] == "ack"
            # The segment under way at each change, then two whole segments of what it changed to.
            at_b = wait_published(live_dir, 3, after=at_a)
            # The live playlist tells a viewer who is speaking, in the stream itself.
            assert speaking_now((live_dir / "live.m3u8").read_text()) == "Alice"
            assert console.command("set_on_air", line=alice.line_id, on_air=False)["type"] == "ack"
            assert console.command("set_on_air", line=bob.line_id, on_air=True)["type"] == "ack"
            wait_published(live_dir, 3, after=at_b)
            assert speaking_now((live_dir / "live.m3u8").read_text()) == "Bob"
            assert console.command("end_show")["type"] == "ack"
            assert console.state["phase"] == "ended"

        live = wait_for(
            lambda: "#EXT-X-ENDLIST" in (text := (live_dir / "live.m3u8").read_text()) and text, 20, "ENDLIST"
        )
        # The playlist validates: a fixed target duration no segment exceeds, segments that exist.
        # (The server runs with the settings' segment length, as this process reads them.)
        target = target_duration_for(settings.HLS_SEGMENT_FRAMES * 1024 / SAMPLE_RATE)
        assert playlist_tags(live, "EXT-X-TARGETDURATION") == [str(target)]
        durations = [float(d.rstrip(",")) for d in playlist_tags(live, "EXTINF")]
        assert durations and all(round(d) <= target for d in durations)
        # The live window slid: its media sequence is the first listed segment's number, every
        # segment of the show before it having left the window.
        window, show = parse(live), parse((live_dir / "vod.m3u8").read_text())
        assert len(show.entries) > len(window.entries)
        assert window.media_sequence == window.entries[0].index == len(show.entries) - len(window.entries)
        # The registrant's session gets the media pass the page keeps; the files need it.
        assert viewer.media_pass(event.pk) == 204
        for name in playlist_segments(live):
            status, headers, _ = viewer.get_bytes(f"/hls/{event.pk}/{name}")
            assert status == 200 and headers["Content-Type"] == "video/mp2t"
        _, headers, body = viewer.get_bytes(f"/hls/{event.pk}/live.m3u8")
        assert headers["Content-Type"] == "application/vnd.apple.mpegurl" and body.decode() == live

        # Listen to the whole show: silence before anyone is on air, then A, then B, never B before A.
        vod = (live_dir / "vod.m3u8").read_text()
        sequences = [int(s) for s in playlist_tags(vod, "EXT-X-MEDIA-SEQUENCE")] or [0]
        assert sequences == [0]
        heard = [tones_present(decode_segment(live_dir / name), (A, B)) for name in playlist_segments(vod)]
        assert len(heard) >= 6, heard
        assert heard[0] == set(), heard
        first_a = next(i for i, tones in enumerate(heard) if A in tones)
        first_b = next(i for i, tones in enumerate(heard) if B in tones)
        assert first_a < first_b
        assert all(tones == set() for tones in heard[:first_a])
        assert any(tones == {A} for tones in heard[first_a:first_b]), heard
        assert all(A not in tones for tones in heard[first_b + 1 :]), heard
        assert any(tones == {B} for tones in heard[first_b:]), heard

        # The program card changes where the audio does: the card naming Bob starts within one
        # segment of where the spectrum shows 880 Hz instead of 440 Hz, and Alice's likewise.
        replay = parse(vod)
        assert date_range_problems(replay) == [] and not any(e.discontinuity for e in replay.entries)
        cards = [(d.start, d.text("X-SPEAKING")) for d in replay.date_ranges]
        assert cards[0][1] == "" and all(d.attributes["X-PHASE"] == "live" for d in replay.date_ranges)
        assert [name for _, name in cards if name] == ["Alice", "Bob"], cards
        program = decode(b"".join((live_dir / name).read_bytes() for name in playlist_segments(vod)), "mpegts")
        segment = timedelta(seconds=replay.entries[0].duration)
        for frequency, name in ((A, "Alice"), (B, "Bob")):
            heard_at = replay.entries[0].pdt + timedelta(seconds=first_heard(program, frequency) / SAMPLE_RATE)
            starts = next(start for start, speaking in cards if speaking == name)
            assert abs(heard_at - starts) <= segment, (name, heard_at, starts)

        _, _, status_json = viewer.get("/e/launch/status.json")
        assert '"phase": "ended"' in status_json
