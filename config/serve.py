"""daphne as this project runs it: `python -m config.serve [any daphne option] config.asgi:application`.

Three differences from plain `daphne`:
- the access log never prints a personal key: join, green-room, private HLS and presenter socket
  paths carry one, and every access line goes through events.access.redact_keys, so
  `/join/5/<key>/` is logged as `/join/5/…/`;
- BEHIND_PROXY=true passes daphne --proxy-headers (the client's address from X-Forwarded-For, for
  the rate limiter); without it --proxy-headers is refused, because daphne would then take that
  header from anyone who can reach it;
- like runserver, it refuses to start while a system check reports an error (PLAIN_HTTP on a
  public host, say);
- autobahn's per-connection debug text is not made unless written (config/autobahn_logs.py).
"""

import os
import sys

from daphne.access import AccessLogGenerator
from daphne.cli import CommandLineInterface
from daphne.server import Server
from django.conf import settings
from django.core import checks

from config.autobahn_logs import defer_debug_formatting
from events.access import redact_keys

PROXY_HEADERS = "--proxy-headers"


class RedactingAccessLog(AccessLogGenerator):
    """daphne's NCSA-style access log, with keys replaced by "…"."""

    def write_entry(self, host, date, request, status=None, length=None, ident=None, user=None):
        super().write_entry(host, date, redact_keys(request), status, length, ident, user)


class RedactingServer(Server):
    """daphne's server, whose access log (if any) is the redacting one."""

    def __init__(self, *args, action_logger=None, **kwargs):
        if isinstance(action_logger, AccessLogGenerator):
            action_logger = RedactingAccessLog(action_logger.stream)
        super().__init__(*args, action_logger=action_logger, **kwargs)


class Command(CommandLineInterface):
    server_class = RedactingServer

    def run(self, args):
        args = list(args)
        if PROXY_HEADERS in args and not settings.BEHIND_PROXY:
            sys.exit(f"{PROXY_HEADERS} would trust X-Forwarded-For from every client: set BEHIND_PROXY=true "
                     "instead, and let only the proxy reach this server.")
        if settings.BEHIND_PROXY and PROXY_HEADERS not in args:
            args.insert(0, PROXY_HEADERS)
        defer_debug_formatting()
        super().run(args)

    def load_asgi_app(self, asgi_app_path: str):
        application = super().load_asgi_app(asgi_app_path)  # sets Django up
        errors = [message for message in checks.run_checks() if message.is_serious()]
        if errors:
            sys.exit("System check errors; not serving:\n" + "\n".join(str(error) for error in errors))
        return application


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    Command().run(sys.argv[1:])
