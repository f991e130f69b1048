"""A mixer keeps mixing through a short database outage, and stops trusting its lease in time."""

import pytest
from django.db import OperationalError

from streaming import lease
from streaming.holder import LeaseHolder
from tests.factories import make_event

pytestmark = [pytest.mark.both_modes, pytest.mark.django_db(transaction=True)]


class Outage:
    """The database as the mixer sees it: reachable (the real lease functions) or not."""

    def __init__(self):
        self.down = False

    def __call__(self, real):
        def call(event_id: int, generation: int) -> bool:
            if self.down:
                raise OperationalError("connection refused")
            return real(event_id, generation)

        return call


def test_the_lease_is_trusted_through_an_outage_until_it_could_have_lapsed(settings):
    settings.MIXER_LEASE_SECONDS, settings.MIXER_RENEW_SECONDS = 10.0, 2.0
    event = make_event("outage")
    generation = lease.claim(event.pk, owner="queued")
    assert lease.start(event.pk, generation, "host:1")
    now, outage = [100.0], Outage()
    holder = LeaseHolder(
        event.pk, generation, clock=lambda: now[0], renew=outage(lease.renew), holds=outage(lease.holds)
    )
    assert holder.renew() is True and holder.trusted_until == 108.0  # 10 s lease, less one 2 s renewal
    outage.down = True
    now[0] = 107.9
    assert holder.renew() is None  # unknown: keep mixing
    assert holder.may_publish() is True
    now[0] = 108.0
    assert holder.may_publish() is False  # a watchdog may see it lapsed soon: publish nothing
    assert holder.renew() is False  # and stop
    outage.down = False
    assert holder.may_publish() is True  # (the real lease had not lapsed: the test took no 10 s)
    lease.release(event.pk, generation)
    assert lease.claim(event.pk, owner="queued") == generation + 1  # a newer generation
    assert holder.may_publish() is False and holder.renew() is False
