"""The demo a newcomer gets from `make run`: tone lines and one browser line, and a reset that
starts over."""

import io

import pytest
from django.core.management import call_command

from events.models import Event
from stage import store

pytestmark = pytest.mark.django_db


def test_the_demo_has_two_tone_lines_and_a_browser_line_and_resets_cleanly():
    call_command("load_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("load_demo", stdout=out)
    event = Event.objects.get(slug="demo")
    sources = {p.name: (p.line_format, p.line_source[:14]) for p in event.presenters.all()}
    assert sources == {
        "Alice Example": ("lavfi", "sine=frequency"),
        "Bob Example": ("lavfi", "sine=frequency"),
        "Carol Example": ("", ""),
    }
    lines = store.snapshot(event.pk)["lines"]
    assert [line["source"] for line in lines.values()].count(None) == 1
    assert out.getvalue().count("Green room:") == 3 and "password:" in out.getvalue()
