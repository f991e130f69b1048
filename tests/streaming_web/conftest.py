"""Fixtures of the streaming app's web tests."""

import pytest

from streaming import passes, renewals


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Producers are made for sessions only (force_login); nobody here signs in with a password."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _no_list_of_viewers_from_another_test():
    """The front's lists of who may watch are per process, by event id, which a rolled-back test
    may hand to the next one's event."""
    renewals.forget()


@pytest.fixture(autouse=True)
def _no_seats_from_another_test():
    """The low-latency seats are per process, by registration id, which a rolled-back test may hand
    to the next one's viewer."""
    passes.seats_for.cache_clear()
