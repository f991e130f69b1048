"""The registration benchmark runs (tiny N) on PostgreSQL and on SQLite; its numbers are not
asserted, only its shape."""

import json

import pytest
from celery import current_app
from django.core.management import CommandError, call_command

from events.models import Event, Registration


@pytest.mark.both_modes
@pytest.mark.django_db(transaction=True)
def test_bench_registration_prints_both_rates_and_their_ratio(capsys):
    # The router built before the bench, as after any task this process sent: it must re-route anyway.
    assert current_app.amqp.router.route({}, "events.tasks.send_outbox_mails")["queue"].name == "celery"
    call_command("bench_registration", "--n", "5", "--json")
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"ours_per_s", "bare_insert_per_s", "ratio"}
    assert result["ours_per_s"] > 0 and result["bare_insert_per_s"] > 0
    # The printed figures are rounded (rates to 0.1/s, the ratio to three places): compare within
    # what that rounding can move a ratio of the rounded rates (a few rows make slow rates, where a
    # rate's 0.05/s is a larger share).
    ours, bare = result["ours_per_s"], result["bare_insert_per_s"]
    rounding = 0.0005 + (ours / bare) * (0.05 / ours + 0.05 / bare)
    assert result["ratio"] == pytest.approx(ours / bare, abs=rounding)
    assert Event.objects.count() == Registration.objects.count() == 0  # it cleans up after itself
    # And it leaves the process's task routes as it found them (Celery caches what it read).
    assert current_app.amqp.router.route({}, "events.tasks.send_outbox_mails")["queue"].name == "celery"


@pytest.mark.both_modes
@pytest.mark.django_db
def test_bench_registration_refuses_a_count_below_one():
    with pytest.raises(CommandError, match="at least 1"):
        call_command("bench_registration", "--n", "0")
    assert Event.objects.count() == 0
