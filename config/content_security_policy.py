"""django-csp's middleware with the header built once per policy setting.

django-csp builds the Content-Security-Policy header from the settings for every response: two
walks over its table of directives, about 50 µs, a fortieth of a registration. Every response
here carries the settings' policy (no view changes it, no page uses a nonce), so the header built
for the first is kept, and built again when the setting changes (tests override it). A response
with a view's own policy or a nonce goes the library's way.
"""

from __future__ import annotations

from functools import cache

from csp import middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

# What a view's decorators (csp.decorators) leave on a response to change its policy.
VIEW_POLICY = ("_csp_config", "_csp_update", "_csp_replace", "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")
# header, the setting, and the attribute that exempts a response from it
HEADERS = (
    (HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt", False),
    (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", "_csp_exempt_ro", True),
)


@cache
def _settings_headers() -> tuple[tuple[str, str, str, tuple[str, ...]], ...]:
    """(header, value, exempting attribute, excluded path prefixes) of each policy set."""
    kept = []
    for header, setting, exempt, report_only in HEADERS:
        value = build_policy(report_only=report_only)
        if value:
            prefixes = tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES", None) or ())
            kept.append((header, value, exempt, prefixes))
    return tuple(kept)


@receiver(setting_changed)
def _policy_changed(setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _settings_headers.cache_clear()


class CSPMiddleware(middleware.CSPMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        own_policy = getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) for name in VIEW_POLICY
        )
        debug_page = settings.DEBUG and response.status_code in (404, 500)  # django-csp leaves those alone
        if own_policy or debug_page:
            return super().process_response(request, response)
        for header, value, exempt, prefixes in _settings_headers():
            if header not in response and not getattr(response, exempt, False) and not (
                prefixes and request.path_info.startswith(prefixes)
            ):
                response[header] = value
        # As django-csp does: a nonce asked for after the header was written is an error.
        request.csp_nonce = middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response
