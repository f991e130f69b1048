"""Presenters' green-room invitations: the personal link by email when an address is given, not again
on other edits, revoked and reissued from the admin; and line sources checked before they are saved."""

import re
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from events.models import Presenter
from stage.sources.policy import SourcePolicy
from tests.events.helpers import make_event

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.both_modes]

CHANGELIST = "/admin/events/presenter/"


def greenroom_path(message) -> str:
    return re.search(r"https?://[^/\s]+(/greenroom/\d+/[^/\s]+/)\s", message.body).group(1)


def act(admin_client, action: str, presenters):
    return admin_client.post(CHANGELIST, {"action": action, "_selected_action": [p.pk for p in presenters]})


def test_a_presenter_added_with_an_email_gets_their_green_room_link(settings):
    settings.SITE_URL = "https://webcast.example"
    event = make_event(title="Spring keynote", starts_at=datetime(2031, 3, 4, 9, 30, tzinfo=UTC),
                       time_zone="Europe/Berlin")
    presenter = Presenter.objects.create(event=event, name="Ada <Ops>", email="ada@example.com")

    (message,) = mail.outbox
    assert message.to == ["ada@example.com"]
    assert message.subject == "Your green-room link: Spring keynote"
    link = "https://webcast.example" + presenter.get_greenroom_url()
    assert link == f"https://webcast.example/greenroom/{presenter.pk}/{presenter.access_key}/"
    assert f"Your personal green-room link (it is your way in, no password; keep it to yourself):\n{link}\n" in (
        message.body
    )
    assert "Hello Ada <Ops>," in message.body
    assert "Tuesday 4 March 2031, 10:30–11:30 (Europe/Berlin)" in message.body
    assert "about 30 minutes before the start, at 10:00 (Europe/Berlin), on a computer with Chrome or Firefox" in (
        message.body
    )
    assert "Wear headphones" in message.body
    assert "Test your microphone in the green room" in message.body
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    assert f'href="{link}"' in html
    assert "Hello Ada &lt;Ops&gt;," in html
    assert "Wear headphones" in html


def test_the_link_goes_once_when_an_address_is_first_given_not_on_other_edits():
    event = make_event()
    presenter = Presenter.objects.create(event=event, name="Bea")
    assert mail.outbox == []

    presenter.email = "bea@example.com"
    presenter.save()
    assert [m.to for m in mail.outbox] == [["bea@example.com"]]

    presenter.name = "Bea Example"
    presenter.line_source = "srt://enc.example:9000"
    presenter.save()
    Presenter.objects.get(pk=presenter.pk).save()
    presenter.save(update_fields=["position"])
    assert len(mail.outbox) == 1

    presenter.email = "bea@work.example"
    presenter.save()
    assert [m.to for m in mail.outbox] == [["bea@example.com"], ["bea@work.example"]]


def test_the_admin_sends_the_invitation_again_on_request(admin_client):
    event = make_event()
    ada = Presenter.objects.create(event=event, name="Ada", email="ada@example.com")
    nobody = Presenter.objects.create(event=event, name="No Mail")
    mail.outbox.clear()

    response = act(admin_client, "send_invitation", [ada, nobody])

    assert response.status_code == 302
    (message,) = mail.outbox
    assert greenroom_path(message) == ada.get_greenroom_url()
    notices = [str(m) for m in response.wsgi_request._messages]
    assert notices == ["1 green-room invitation(s) sent.", "1 presenter(s) have no email address to send to."]


def test_revoke_and_reissue_makes_the_old_link_stop_and_mails_a_new_one(admin_client, client):
    presenter = Presenter.objects.create(event=make_event(), name="Ada", email="ada@example.com")
    old_path = greenroom_path(mail.outbox[0])
    assert client.get(old_path).status_code == 200
    mail.outbox.clear()

    act(admin_client, "reissue_link", [presenter])

    presenter.refresh_from_db()
    (message,) = mail.outbox
    new_path = greenroom_path(message)
    assert new_path == presenter.get_greenroom_url() != old_path
    assert client.get(old_path).status_code == 404
    response = client.get(new_path)
    assert response.status_code == 200
    assert b"Ada" in response.content


@pytest.mark.parametrize(
    ("source", "format_", "field", "message"),
    [
        ("concat:/etc/passwd", "", "line_source", "Unsupported source 'concat'"),
        ("srt://", "", "line_source", "A network source names a host, like srt://encoder.example:9000."),
        ("movie=/etc/passwd", "lavfi2", "line_format", "Format must be one of"),
        ("", "mpegts", "line_format", "A format goes with a source; leave both blank for the browser."),
        ("http://169.254.169.254/latest/meta-data/", "", "line_source", "169.254.169.254 is a link-local address"),
        ("/srv/media/ada.sdp", "sdp", "line_source", "File sources are off on this server"),
        # A test tone is one source filter that reads nothing: no movie, no chain, no escapes.
        ("amovie=/etc/passwd", "lavfi", "line_source", "A test tone is one of aevalsrc, anoisesrc, anullsrc, sine"),
        ("movie=/srv/media/talk.mp4", "lavfi", "line_source", "A test tone is one of"),
        ("sine=frequency=440,amovie=/etc/passwd", "lavfi", "line_source", "A test tone's options are"),
        ("sine=440;amovie=/etc/passwd", "lavfi", "line_source", "A test tone's options are"),
        ("sine=440[a];amovie=/etc/passwd[b];[a][b]amix", "lavfi", "line_source", "A test tone's options are"),
        ("aevalsrc=sin(t)\\,amovie=/etc/passwd", "lavfi", "line_source", "A test tone's options are"),
    ],
)
def test_a_bad_line_source_is_refused_with_the_reason(source, format_, field, message):
    presenter = Presenter(event=make_event(), name="Ada", line_source=source, line_format=format_)
    with pytest.raises(ValidationError) as refused:
        presenter.full_clean()
    (reason,) = refused.value.message_dict[field]
    assert reason.startswith(message)


@pytest.mark.parametrize(
    ("source", "format_"),
    [
        ("srt://enc.example:9000", ""),
        ("rtmp://ingest.example/live/ada", "flv"),
        ("sine=frequency=440:sample_rate=48000", "lavfi"),  # organisers' test tone
        ("aevalsrc=0.1*sin(2*PI*1000*t):s=48000", "lavfi"),
        ("", ""),  # the browser
    ],
)
def test_a_good_line_source_is_accepted(source, format_):
    Presenter(event=make_event(), name="Ada", line_source=source, line_format=format_).full_clean()


def test_the_operators_policy_binds_organisers_too(settings, tmp_path):
    settings.LINE_SOURCE_POLICY = SourcePolicy.from_config(networks=["10.20.0.0/16"], media_root=tmp_path)
    event = make_event()
    for source, format_ in (("rtmp://10.20.0.5/live/ada", ""), (f"{tmp_path}/ada.sdp", "sdp")):
        Presenter(event=event, name="Ada", line_source=source, line_format=format_).full_clean()
    presenter = Presenter(event=event, name="Ada", line_source="rtmp://93.184.216.34/live/ada")
    with pytest.raises(ValidationError) as refused:
        presenter.full_clean()
    assert refused.value.message_dict["line_source"] == [
        "93.184.216.34 is a public address outside the networks this server lists: "
        "lines may not reach it on this server."
    ]


def test_the_admin_form_shows_why_a_source_is_refused(admin_client):
    event = make_event()
    response = admin_client.post("/admin/events/presenter/add/", {
        "event": event.pk, "name": "Ada", "title": "", "bio": "", "email": "", "line_source": "concat:/etc/passwd",
        "line_format": "", "position": 0,
    })
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["line_source"] == [
        "Unsupported source 'concat': use http, https, rtmp, rtmps, rtp, srt, udp."
    ]
    assert not Presenter.objects.exists()
