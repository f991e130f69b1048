"""daphne with an access log that never prints a personal key.

    python -m config.serve [any daphne option] config.asgi:application

Join, green-room, private HLS and presenter socket paths carry their key; daphne's own access
log would print it. This runs daphne's own command line with one change: every access line goes
through events.access.redact_keys, so `/join/5/<key>/` is logged as `/join/5/…/`.
"""

import sys

from daphne.access import AccessLogGenerator
from daphne.cli import CommandLineInterface
from daphne.server import Server

from events.access import redact_keys


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


if __name__ == "__main__":
    Command().run(sys.argv[1:])
