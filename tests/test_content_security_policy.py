"""The Content-Security-Policy header (config/content_security_policy.py): built once from the
settings, as django-csp builds it, on pages and redirects alike; a view's own policy or a nonce
still goes django-csp's way."""

import pytest
from csp.constants import NONCE, SELF
from csp.utils import build_policy
from django.http import HttpResponse, HttpResponseRedirect
from django.test import override_settings

from config.content_security_policy import CSPMiddleware
from tests.events.helpers import make_event

SETTINGS_POLICY = (
    "default-src 'self'; connect-src 'self'; script-src 'self'; object-src 'none'; style-src 'self'; "
    "media-src 'self' blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; worker-src 'self'"
)


def directives(header: str) -> list[str]:
    """The directives of a header, in order (django-csp's order follows a set's)."""
    return sorted(header.split("; "))


@pytest.mark.django_db(transaction=True)
@pytest.mark.both_modes
def test_the_event_page_and_the_registration_redirect_carry_the_settings_policy(client):
    event = make_event()
    page = client.get(event.get_absolute_url())
    redirect = client.post(event.get_absolute_url(), {"name": "Ada", "email": "ada@example.com"})
    assert redirect.status_code == 303
    assert page["Content-Security-Policy"] == redirect["Content-Security-Policy"] == build_policy()
    assert directives(build_policy()) == directives(SETTINGS_POLICY)
    assert "Content-Security-Policy-Report-Only" not in page


def test_a_changed_setting_changes_the_header(rf):
    respond = CSPMiddleware(lambda request: HttpResponseRedirect("/elsewhere/"))
    assert respond(rf.get("/"))["Content-Security-Policy"] == build_policy()
    policy = {"DIRECTIVES": {"default-src": [SELF], "img-src": [SELF, "data:"]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy, CONTENT_SECURITY_POLICY_REPORT_ONLY=policy):
        response = respond(rf.get("/"))
        assert directives(response["Content-Security-Policy"]) == ["default-src 'self'", "img-src 'self' data:"]
        assert directives(response["Content-Security-Policy-Report-Only"]) == directives(
            response["Content-Security-Policy"]
        )
    assert respond(rf.get("/"))["Content-Security-Policy"] == build_policy()


def test_a_views_own_policy_and_a_nonce_are_djangos_csp_way(rf):
    def updated(request):
        response = HttpResponse()
        response._csp_update = {"img-src": ["data:"]}
        return response

    assert CSPMiddleware(updated)(rf.get("/"))["Content-Security-Policy"] == build_policy(update={"img-src": ["data:"]})

    def with_nonce(request):
        return HttpResponse(str(request.csp_nonce))

    policy = {"DIRECTIVES": {"default-src": [SELF], "script-src": [SELF, NONCE]}}
    with override_settings(CONTENT_SECURITY_POLICY=policy):
        response = CSPMiddleware(with_nonce)(rf.get("/"))
        assert directives(response["Content-Security-Policy"]) == [
            "default-src 'self'", f"script-src 'self' 'nonce-{response.content.decode()}'"
        ]


def test_an_exempt_response_gets_no_header(rf):
    def exempt(request):
        response = HttpResponse()
        response._csp_exempt = True
        return response

    assert "Content-Security-Policy" not in CSPMiddleware(exempt)(rf.get("/"))
