"""System checks of this deployment's settings (run by manage.py and by `python -m config.serve`)."""

import ipaddress

from django.conf import settings
from django.core.checks import Error, Tags, register


def is_loopback(host: str) -> bool:
    """Whether an ALLOWED_HOSTS entry can only name this machine."""
    host = host.lower().lstrip(".").strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@register(Tags.security)
def plain_http_only_on_loopback(app_configs, **kwargs) -> list[Error]:
    """PLAIN_HTTP sends cookies without Secure and no HSTS: fine on 127.0.0.1, wrong on a real host."""
    if not settings.PLAIN_HTTP:
        return []
    public = [host for host in settings.ALLOWED_HOSTS if not is_loopback(host)]
    if not public:
        return []
    return [Error(
        f"PLAIN_HTTP is set while ALLOWED_HOSTS names other hosts than this machine: {', '.join(public)}.",
        hint="PLAIN_HTTP is for plain http on loopback only (make run, the tests): it sends session and CSRF "
             "cookies without Secure and no HSTS. Unset it and serve HTTPS, from daphne or from a proxy "
             "(BEHIND_PROXY=true).",
        id="events.E001",
    )]
