"""Fixtures for the mixer core's tests."""

import pytest

from streaming.core.lines import LineReader, LineSpec


@pytest.fixture
def readers():
    """Start line readers (LineReader's options as keywords); each is stopped after the test."""
    started = []

    def start(spec: LineSpec, **kwargs) -> LineReader:
        reader = LineReader(spec, **kwargs)
        reader.start()
        started.append(reader)
        return reader

    yield start
    for reader in started:
        reader.stop()
