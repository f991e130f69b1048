"""The show bench_audience plays to, written into the database its servers use.

Run as `python -m streaming.bench.audience_show create N` (prints one JSON object) or `… delete
SHOW` (the keys `create` printed: event, producer, sessions), with the servers' environment: each
setup of the benchmark has its own database (a fresh SQLite file for the embedded server,
PostgreSQL scaled out), so the rows are made in a child process configured like the servers
rather than in the benchmark's own connection.

A show: an event, two presenters whose lines are test tones, a signed-in producer, and N
confirmed registrants, each with the join session their link would have opened (the same grant
`events.views.viewer.join` stores) and the presence token the webcast page carries.
"""

import json
import sys
import uuid
from datetime import timedelta

import django


def create(viewers: int) -> dict:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    from events import attendance
    from events.access import key_digest
    from events.models import Event, Presenter, Registration
    from events.views.viewer import SESSION_KEY as GRANTS
    from streaming.passes import renewal_ticket

    tag = uuid.uuid4().hex[:8]
    # Every session of the show starts with this, so `delete` finds them all.
    prefix = f"bench{tag}"
    event = Event.objects.create(slug=f"bench-audience-{tag}", title="bench_audience", starts_at=timezone.now())
    presenters = [
        Presenter.objects.create(
            event=event, name=name, position=position, line_source=f"sine=frequency={tone}:sample_rate=48000",
            line_format="lavfi",
        )
        for position, (name, tone) in enumerate((("Alice Bench", 440), ("Bob Bench", 880)))
    ]
    producer = get_user_model().objects.create_user(f"bench-audience-{tag}", password=None)
    event.producers.add(producer)
    registrations = Registration.objects.bulk_create(
        [Registration(event=event, name=f"Viewer {i}", email=f"viewer-{i}@{tag}.example") for i in range(viewers)]
    )
    store = SessionStore()
    expires = timezone.now() + timedelta(days=1)
    sessions = []
    viewers_out = []
    for registration in registrations:
        key = f"{prefix}{get_random_string(24)}"
        grants = {GRANTS: {str(event.pk): [registration.pk, key_digest(registration.access_key)]}}
        sessions.append(Session(session_key=key, session_data=store.encode(grants), expire_date=expires))
        viewers_out.append({"session": key, "presence": attendance.presence_token(registration),
                            "ticket": renewal_ticket(registration)})
    Session.objects.bulk_create(sessions, batch_size=1000)
    console = SessionStore(session_key=f"{prefix}{get_random_string(24)}")
    console[SESSION_KEY] = str(producer.pk)
    console[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    console[HASH_SESSION_KEY] = producer.get_session_auth_hash()
    console.save(must_create=True)
    return {
        "event": event.pk,
        "slug": event.slug,
        "producer": producer.pk,
        "sessions": prefix,
        "producer_session": console.session_key,
        "presenters": [{"id": p.pk, "line": p.line_id, "name": p.name} for p in presenters],
        "viewers": viewers_out,
    }


def delete(show: dict) -> None:
    """Remove the show `create` made: its event (and with it every row of the event), producer and sessions."""
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.models import Session

    from events.models import Event

    Event.objects.filter(pk=show["event"]).delete()
    get_user_model().objects.filter(pk=show["producer"]).delete()
    Session.objects.filter(session_key__startswith=show["sessions"]).delete()


def main(argv: list[str]) -> None:
    django.setup()
    if argv[0] == "create":
        print(json.dumps(create(int(argv[1]))))
    elif argv[0] == "delete":
        delete(json.loads(argv[1]))
    else:
        raise SystemExit(f"unknown action {argv[0]!r}: create N | delete SHOW_JSON")


if __name__ == "__main__":
    main(sys.argv[1:])
