"""Sign-in pages are throttled: failed attempts count per client address and per username; over
either limit even the right password gets a clear 429 page with Retry-After."""

import pytest
from django.contrib.auth.models import User

from events import ratelimit

pytestmark = [pytest.mark.django_db, pytest.mark.both_modes]

PASSWORD = "correct horse battery staple"
SIGN_IN_PAGES = ["/accounts/login/", "/admin/login/"]


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def producer():
    return User.objects.create_user("producer", password=PASSWORD, is_staff=True)


def attempt(client, page: str, username: str, password: str, address: str = "198.51.100.1"):
    return client.post(page, {"username": username, "password": password}, REMOTE_ADDR=address)


@pytest.mark.parametrize("page", SIGN_IN_PAGES)
def test_failed_sign_ins_from_one_address_are_stopped_then_even_the_right_password_waits(client, producer, page):
    for i in range(ratelimit.LOGIN_FAILURES.count):
        assert attempt(client, page, f"guess{i}", "wrong").status_code == 200  # the form again
    refused = attempt(client, page, "producer", PASSWORD)
    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= ratelimit.LOGIN_FAILURES.seconds
    assert b"Too many sign-in attempts" in refused.content
    assert "_auth_user_id" not in client.session
    assert attempt(client, page, "producer", PASSWORD, address="198.51.100.2").status_code == 302


@pytest.mark.parametrize("page", SIGN_IN_PAGES)
def test_guessing_one_username_from_many_addresses_is_stopped(client, producer, page):
    for i in range(ratelimit.LOGIN_FAILURES_PER_USERNAME.count):
        assert attempt(client, page, "Producer", "wrong", address=f"203.0.113.{i}").status_code == 200
    assert attempt(client, page, "producer", PASSWORD, address="198.51.100.7").status_code == 429
    User.objects.create_user("colleague", password=PASSWORD, is_staff=True)
    assert attempt(client, page, "colleague", PASSWORD, address="198.51.100.7").status_code == 302


def test_successful_sign_ins_do_not_count(client, producer):
    for _ in range(ratelimit.LOGIN_FAILURES.count + 5):
        assert attempt(client, "/accounts/login/", "producer", PASSWORD).status_code == 302
        client.logout()


def test_the_sign_in_pages_themselves_still_open(client):
    for page in SIGN_IN_PAGES:
        assert client.get(page).status_code == 200
