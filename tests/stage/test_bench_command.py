"""`manage.py bench_stage` end to end with a handful of clients: a smoke test, not a measurement."""

import json

import pytest
from django.core.management import call_command

from events.models import Event
from tests.conftest import scaled_out

pytestmark = [
    pytest.mark.live,
    pytest.mark.timeout(120),
    pytest.mark.skipif(not scaled_out(), reason="the benchmark runs on the Redis channel layer"),
]


@pytest.mark.django_db(transaction=True)
def test_bench_stage_prints_its_figures_as_json(capsys):
    call_command("bench_stage", "--clients", "3", "6", "--cues", "3", "--warmup", "1", "--json")
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"clients"} and set(result["clients"]) == {"3", "6"}
    for figures in result["clients"].values():
        assert {"p50_ms", "p99_ms", "max_ms", "textbook_p99_ms", "ratio"} <= set(figures)
        assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"] < 10_000
        assert figures["missing"] == 0 and figures["textbook_missing"] == 0
        assert figures["ratio"] == round(figures["p99_ms"] / figures["textbook_p99_ms"], 3)
    assert not Event.objects.filter(slug__startswith="bench-").exists()  # it cleans up after itself
