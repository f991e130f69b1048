"""The public event page: schedule in the event's time zone (and the visitor's, by script),
presenters, status from the stage, calendar links."""

import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from events.models import Presenter, Segment
from stage.models import StageState
from tests.events.helpers import make_event

pytestmark = [pytest.mark.django_db, pytest.mark.both_modes]

START = datetime(2031, 6, 2, 14, 0, tzinfo=UTC)


def set_stage_phase(event, phase: str) -> None:
    document = {"phase": phase, "version": 3}
    StageState.objects.create(event=event, version=3, document=document, initial_document=document)


def test_the_page_shows_the_event_its_schedule_and_presenters(client):
    event = make_event(title="Summer <launch>", starts_at=START, time_zone="America/New_York",
                       description="Line one.\nLine <b>two</b>.", duration=timedelta(minutes=45))
    Presenter.objects.create(event=event, name="Alice Example", title="CEO", bio="Builds <i>things</i>.")
    Segment.objects.create(event=event, title="Welcome", planned_duration=timedelta(minutes=10), position=1)
    Segment.objects.create(event=event, title="Demo", planned_duration=timedelta(minutes=35), position=2)

    page = client.get("/e/launch/").content.decode()

    assert "<h1>Summer &lt;launch&gt;</h1>" in page
    assert "Monday 2 June 2031, 10:00–10:45 (America/New_York)" in page
    assert 'data-visitor-start="2031-06-02T10:00:00-04:00"' in page
    assert "localtime." in page  # the script that adds the visitor's own time
    assert "Line <b>" not in page and "Line &lt;b&gt;two&lt;/b&gt;." in page
    assert "<strong>Alice Example</strong>, CEO" in page and "Builds &lt;i&gt;things&lt;/i&gt;." in page
    assert ">10:00</time> Welcome" in page and ">10:10</time> Demo" in page
    assert '<p class="status status-upcoming">Upcoming</p>' in page


def test_calendar_links_carry_the_times_in_utc(client):
    event = make_event(starts_at=START, duration=timedelta(minutes=45))
    response = client.get("/e/launch/")
    google = parse_qs(urlsplit(response.context["google_url"]).query)
    assert google["dates"] == ["20310602T140000Z/20310602T144500Z"]
    assert google["text"] == ["Launch"]
    outlook = parse_qs(urlsplit(response.context["outlook_url"]).query)
    assert (outlook["startdt"], outlook["enddt"]) == (["2031-06-02T14:00:00Z"], ["2031-06-02T14:45:00Z"])
    assert f'href="/e/{event.slug}/calendar.ics"' in response.content.decode()


@pytest.mark.parametrize(("stage_phase", "replay_file", "starts_in", "status", "label"), [
    (None, False, timedelta(hours=1), "upcoming", "Upcoming"),
    ("preshow", False, timedelta(hours=1), "upcoming", "Upcoming"),
    ("live", False, timedelta(minutes=-5), "live", "Live now"),
    ("ended", False, timedelta(hours=-2), "ended", "Ended"),
    (None, False, timedelta(days=-2), "ended", "Ended"),
    ("ended", True, timedelta(hours=-2), "replay", "Replay available"),
])
def test_status_follows_the_stage_and_the_replay(client, hls_root, stage_phase, replay_file, starts_in, status,
                                                 label):
    event = make_event(starts_at=timezone.now() + starts_in)
    if stage_phase:
        set_stage_phase(event, stage_phase)
    if replay_file:
        (hls_root / str(event.pk)).mkdir()
        (hls_root / str(event.pk) / "vod.m3u8").write_text("#EXTM3U\n#EXT-X-ENDLIST\n")

    page = client.get("/e/launch/").content.decode()
    assert f'<p class="status status-{status}">{label}</p>' in page
    data = json.loads(client.get("/e/launch/status.json").content)
    assert data == {
        "phase": stage_phase or "preshow",
        "status": status,
        "version": 3 if stage_phase else 0,
        "starts_at": event.starts_at.isoformat(),
        "hold": False,
        "playlist": f"/hls/{event.pk}/live.m3u8",
        "replay": f"/hls/{event.pk}/vod.m3u8" if replay_file else None,
        "chapters": None,
        "download": None,
    }


def test_the_event_list_shows_upcoming_events(client):
    make_event("soon", title="Soon", starts_at=timezone.now() + timedelta(days=1))
    make_event("long-ago", title="Long ago", starts_at=timezone.now() - timedelta(days=90))
    page = client.get("/").content.decode()
    assert "Soon" in page and "Long ago" not in page


def test_an_unknown_event_is_a_404(client):
    assert client.get("/e/nope/").status_code == 404
    assert client.get("/e/nope/calendar.ics").status_code == 404


def test_a_time_zone_must_exist():
    from django.core.exceptions import ValidationError

    event = make_event(time_zone="Mars/Olympus_Mons")
    with pytest.raises(ValidationError) as refused:
        event.full_clean()
    assert refused.value.message_dict["time_zone"] == [
        "'Mars/Olympus_Mons' is not a time zone name such as Europe/Berlin or America/New_York."
    ]
