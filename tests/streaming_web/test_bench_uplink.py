"""`manage.py bench_uplink` end to end with one browser uplink for a few seconds: a smoke test,
not a measurement."""

import json

import pytest
from django.core.management import call_command

from events.models import Event
from tests.browser import CHROMIUM
from tests.conftest import scaled_out

pytestmark = [
    pytest.mark.live,
    pytest.mark.browser,
    pytest.mark.timeout(120),
    pytest.mark.skipif(not scaled_out(), reason="the benchmark measures the scaled-out transport"),
]


@pytest.mark.django_db(transaction=True)
def test_bench_uplink_prints_both_paths_as_json(capsys):
    call_command("bench_uplink", "--uplinks", "1", "--seconds", "3", "--chromium", CHROMIUM, "--json")
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"uplinks"} and set(result["uplinks"]) == {"1"}
    for figures in result["uplinks"]["1"].values():
        # A click a second: the measured seconds hear some, each decoded after it was played.
        assert figures["clicks"] >= 1
        assert 0 < figures["p50_ms"] <= figures["p95_ms"] < 10_000
        assert figures["server_cpu_per_uplink"] > 0 and figures["mixer_side_cpu_per_uplink"] > 0
    assert not Event.objects.filter(slug__startswith="bench-uplink-").exists()  # it cleans up after itself
